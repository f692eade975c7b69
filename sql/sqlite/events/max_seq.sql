-- The last sequence number of some users (lazy per-user sequence). Index: primary key (user_id, seq).
SELECT user_id, MAX(seq) AS max_seq
FROM monitor_events
WHERE user_id IN (/*repeat*/?/*end*/)
GROUP BY user_id;
