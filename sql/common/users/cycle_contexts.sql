-- Some users' cycle contexts in one round trip. kind 'account': one row per user with each of its active
-- accounts (account_id NULL for a user without any, or disabled); kind 'strategy': one row per regeneration strategy.
-- Index: users primary key, ix_accounts_user_active, entry_regenerate_permission primary key prefix (user_id).
SELECT 'account' AS kind, u.id AS user_id, u.paused, u.pause_reason, u.daily_loss_limit,
       a.id AS account_id, a.session_needed, NULL AS strategy
FROM users u LEFT JOIN accounts a ON a.user_id = u.id AND a.active = 1 AND u.active = 1
WHERE u.id IN (/*repeat*/?/*end*/)
UNION ALL
SELECT 'strategy', p.user_id, NULL, NULL, NULL, NULL, NULL, p.strategy
FROM entry_regenerate_permission p
WHERE p.user_id IN (/*repeat*/?/*end*/)
ORDER BY user_id, account_id, strategy;
