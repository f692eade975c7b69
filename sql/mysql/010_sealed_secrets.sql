-- Broker secrets sealed at rest (adapters/store/secrets.py): app_key, secret_key and token each get a sealed
-- column, `enc:v1:<key id>:<base64>`, wide enough for the ciphertext of the widest clear value (255 and
-- 1024 characters). The clear columns stay for rows written before this migration; `run.py secrets encrypt`
-- seals them and empties the clear column, and every write after it leaves the clear columns empty.
ALTER TABLE accounts ADD COLUMN app_key_sealed VARCHAR(1024) NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN secret_key_sealed VARCHAR(1024) NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN token_sealed VARCHAR(4096) NOT NULL DEFAULT '';
