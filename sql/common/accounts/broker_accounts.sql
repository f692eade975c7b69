-- Credentials of some accounts with the user each belongs to, sealed (the store opens them; secrets: never
-- logged). Index: primary key.
SELECT id AS account_id, user_id, broker, base_url, client_id, token_sealed AS token, app_key_sealed AS app_key,
       secret_key_sealed AS secret_key
FROM accounts
WHERE id IN (/*repeat*/?/*end*/);
