-- Give the migration lock up, if still held (same owner and token): it expires at once (at the epoch). The
-- row stays, so the next take has the next token. Index: primary key.
UPDATE schema_migration_lock SET expires_at = ? WHERE name = 'migrate' AND owner = ? AND fencing_token = ?;
