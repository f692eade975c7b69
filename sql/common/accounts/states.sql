-- A user's active accounts as the account strip shows them, without keys or tokens.
-- Index: ix_accounts_user_active (user_id, active prefix).
SELECT id AS account_id, broker, client_id, session_needed, snapshot_fetched_at, fetch_failing_since, fetch_error,
       fetch_error_kind
FROM accounts
WHERE user_id = ? AND active = 1
ORDER BY id;
