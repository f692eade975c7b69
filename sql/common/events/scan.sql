-- One page of a user's events by sequence number, raw (the audit decodes each row and checks its hash).
-- Index: primary key (user_id, seq).
SELECT seq, cycle_id, at, type, version, payload, hash
FROM monitor_events
WHERE user_id = ? AND seq >= ? AND seq <= ?
ORDER BY seq
LIMIT ?;
