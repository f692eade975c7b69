-- A failed fetch: the streak starts now unless it already runs; the error is the latest. Index: primary key.
UPDATE accounts SET fetch_failing_since = COALESCE(fetch_failing_since, ?), fetch_error = ?
WHERE id = ? AND user_id = ?;
