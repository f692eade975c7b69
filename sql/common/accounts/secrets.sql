-- Every account's secrets, clear (written before migration 010) and sealed, for `run.py secrets` and the
-- check `serve` makes before it starts (secrets: never logged). Index: primary key order.
SELECT id, app_key, secret_key, token, app_key_sealed, secret_key_sealed, token_sealed
FROM accounts
ORDER BY id;
