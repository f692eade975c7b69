-- Accounts for `run.py accounts list`, all or one user's (NULL: all), without keys or tokens.
-- Index: primary key order; ix_accounts_user_active (user_id prefix) for one user.
SELECT a.id, u.name AS user_name, a.broker, a.base_url, a.client_id, a.active, a.session_needed
FROM accounts a JOIN users u ON u.id = a.user_id
WHERE ? IS NULL OR a.user_id = ?
ORDER BY a.id;
