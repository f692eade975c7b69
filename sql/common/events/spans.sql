-- Every user with events in [since, until): the first and last seq there and how many (the audit's plan).
-- Full scan of the time range (an audit reads it all anyway); ix_events_user_at narrows it per user.
SELECT user_id, MIN(seq) AS first_seq, MAX(seq) AS last_seq, COUNT(*) AS events
FROM monitor_events
WHERE at >= ? AND at < ?
GROUP BY user_id
ORDER BY user_id;
