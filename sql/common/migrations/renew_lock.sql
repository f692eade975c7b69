-- Extend the migration lock its holder still holds (same owner and token); no row: it was taken over.
-- Index: primary key.
UPDATE schema_migration_lock SET expires_at = ? WHERE name = 'migrate' AND owner = ? AND fencing_token = ?;
