-- A user's events with a time in [since, until), in order (audit). Index: ix_events_user_at.
SELECT seq, payload FROM monitor_events WHERE user_id = ? AND at >= ? AND at < ? ORDER BY seq;
