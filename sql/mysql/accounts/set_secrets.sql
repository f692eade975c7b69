-- Write an account's three secrets sealed and empty their clear columns: a new account's keys, and
-- `run.py secrets encrypt|rotate`. Index: primary key, forced (see accounts/set_token).
UPDATE accounts FORCE INDEX (PRIMARY) SET app_key_sealed = %s, secret_key_sealed = %s, token_sealed = %s, app_key = '', secret_key = '',
    token = '', updated_at = %s
WHERE id = %s;
