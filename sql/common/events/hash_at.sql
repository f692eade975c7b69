-- The hash of one event (none: no event has that number yet): whether rows the writer sent had landed.
-- Index: primary key (user_id, seq).
SELECT hash FROM monitor_events WHERE user_id = ? AND seq = ?;
