-- Credentials of some of the user's accounts (secrets: never logged). Index: ix_accounts_user_active prefix (user_id), then primary key.
SELECT id AS account_id, broker, base_url, client_id, token, app_key, secret_key
FROM accounts
WHERE user_id = ? AND id IN (/*repeat*/?/*end*/)
ORDER BY id;
