-- A user's events of one type with a time in [since, until), in order (the intraday PnL history).
-- Index: ix_events_user_at; the type is checked on the rows of the range.
SELECT seq, payload FROM monitor_events WHERE user_id = ? AND at >= ? AND at < ? AND type = ? ORDER BY seq;
