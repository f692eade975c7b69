-- Group commit: many users' events in one multi-row INSERT, atomic, that fails whole with a duplicate key when
-- any (user_id, seq) is taken: another writer moved that user's head, or an earlier send of these very rows
-- committed (the writer tells which by events/hash_at). Index: primary key (user_id, seq).
INSERT INTO monitor_events (user_id, seq, cycle_id, at, type, version, payload, hash)
VALUES /*repeat*/(?, ?, ?, ?, ?, ?, ?, ?)/*end*/;
