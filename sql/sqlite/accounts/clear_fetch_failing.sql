-- A successful fetch ends the account's failing streak. Index: primary key.
UPDATE accounts SET fetch_failing_since = NULL, fetch_error = NULL, fetch_error_kind = NULL
WHERE id = ? AND user_id = ?;
