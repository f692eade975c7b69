-- A user's cycles with events in [since, until), newest first. Index: ix_events_user_at.
SELECT cycle_id, MIN(seq) AS first_seq, MAX(seq) AS last_seq,
    MIN(at) AS "started_at [UTCTEXT]", MAX(at) AS "last_event_at [UTCTEXT]", COUNT(*) AS events
FROM monitor_events
WHERE user_id = ? AND at >= ? AND at < ? AND cycle_id <> ''
GROUP BY cycle_id
ORDER BY first_seq DESC
LIMIT ?;
