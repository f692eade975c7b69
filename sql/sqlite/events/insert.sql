-- Group commit: many users' events in one multi-row INSERT. A retry after an ambiguous commit
-- re-sends the same (user_id, seq), which is then a no-op. Index: primary key (user_id, seq).
INSERT INTO monitor_events (user_id, seq, cycle_id, at, type, version, payload, hash)
VALUES /*repeat*/(?, ?, ?, ?, ?, ?, ?, ?)/*end*/
ON CONFLICT (user_id, seq) DO NOTHING;
