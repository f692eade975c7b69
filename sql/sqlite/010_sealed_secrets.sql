-- Broker secrets sealed at rest (see the MySQL migration): a sealed column beside each clear one.
ALTER TABLE accounts ADD COLUMN app_key_sealed TEXT NOT NULL DEFAULT '' CHECK (length(app_key_sealed) <= 1024);
ALTER TABLE accounts ADD COLUMN secret_key_sealed TEXT NOT NULL DEFAULT '' CHECK (length(secret_key_sealed) <= 1024);
ALTER TABLE accounts ADD COLUMN token_sealed TEXT NOT NULL DEFAULT '' CHECK (length(token_sealed) <= 4096);
