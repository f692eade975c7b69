-- Write an account's three secrets sealed and empty their clear columns: a new account's keys, and
-- `run.py secrets encrypt|rotate`. Index: primary key.
UPDATE accounts SET app_key_sealed = ?, secret_key_sealed = ?, token_sealed = ?, app_key = '', secret_key = '',
    token = '', updated_at = ?
WHERE id = ?;
