-- Make sure the lock row exists, free (owner '', token 0, expired at the epoch), so that the first take is the
-- same conditional take as any other. Index: primary key.
INSERT INTO schema_migration_lock (name, owner, fencing_token, expires_at) VALUES ('migrate', '', 0, ?)
ON CONFLICT (name) DO NOTHING;
