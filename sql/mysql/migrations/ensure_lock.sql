-- Make sure the lock row exists, free (owner '', token 0, expired at the epoch), so that the first take is the
-- same conditional take as any other: a second insert on one server waits on the first's row, then updates
-- nothing; two through different Galera nodes conflict at COMMIT (1213) and one is run again. Index: primary key.
INSERT INTO schema_migration_lock (name, owner, fencing_token, expires_at) VALUES ('migrate', '', 0, %s)
ON DUPLICATE KEY UPDATE name = name;
