-- The user's active accounts and whether each awaits a session. Index: ix_accounts_user_active.
SELECT id, session_needed FROM accounts WHERE user_id = ? AND active = 1 ORDER BY id;
