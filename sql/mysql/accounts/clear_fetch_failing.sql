-- A successful fetch ends the account's failing streak. Index: primary key, forced (see set_fetch_failing).
UPDATE accounts FORCE INDEX (PRIMARY) SET fetch_failing_since = NULL, fetch_error = NULL, fetch_error_kind = NULL
WHERE id = %s AND user_id = %s;
