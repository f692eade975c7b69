-- Every user for `run.py users list`, with how many accounts each has and how many are active (no token
-- hash). Index: users primary key, ix_accounts_user_active (user_id prefix).
SELECT u.id, u.name, u.active, u.paused, u.pause_reason,
       COUNT(a.id) AS accounts, COALESCE(SUM(a.active), 0) AS active_accounts
FROM users u LEFT JOIN accounts a ON a.user_id = u.id
GROUP BY u.id, u.name, u.active, u.paused, u.pause_reason
ORDER BY u.id;
