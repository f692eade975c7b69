-- Credentials of some accounts with the user each belongs to (secrets: never logged). Index: primary key.
SELECT id AS account_id, user_id, broker, base_url, client_id, token, app_key, secret_key
FROM accounts
WHERE id IN (/*repeat*/%s/*end*/);
