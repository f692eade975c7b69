-- Some users' active accounts and whether each awaits a session. Index: ix_accounts_user_active.
SELECT id, user_id, session_needed FROM accounts WHERE user_id IN (/*repeat*/?/*end*/) AND active = 1 ORDER BY id;
