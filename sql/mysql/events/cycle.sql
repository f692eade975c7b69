-- One cycle's events in order. Index: ix_events_user_cycle.
SELECT seq, payload FROM monitor_events WHERE user_id = %s AND cycle_id = %s ORDER BY seq;
