-- One cycle's events in order. Index: ix_events_user_cycle.
SELECT seq, payload FROM monitor_events WHERE user_id = ? AND cycle_id = ? ORDER BY seq;
