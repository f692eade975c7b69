-- A failed fetch: the streak starts now unless it already runs; the error and its kind are the latest. Index:
-- primary key.
UPDATE accounts SET fetch_failing_since = COALESCE(fetch_failing_since, ?), fetch_error = ?, fetch_error_kind = ?
WHERE id = ? AND user_id = ?;
