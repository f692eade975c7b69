-- Some users' stored heads: the last sequence number and that event's hash (where the writer numbers and chains
-- from). Index: primary key (user_id, seq), for the MAX and for the row.
SELECT e.user_id, e.seq AS max_seq, e.hash
FROM monitor_events e
JOIN (
    SELECT user_id, MAX(seq) AS seq
    FROM monitor_events
    WHERE user_id IN (/*repeat*/?/*end*/)
    GROUP BY user_id
) latest ON latest.user_id = e.user_id AND latest.seq = e.seq;
