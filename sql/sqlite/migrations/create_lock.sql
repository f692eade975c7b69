-- The migration lock's table, created if missing before the lock is taken (see the MySQL file of the same name).
-- Index: primary key (name).
CREATE TABLE IF NOT EXISTS schema_migration_lock (
    name TEXT NOT NULL PRIMARY KEY,
    owner TEXT NOT NULL CHECK (length(owner) <= 128),
    fencing_token INTEGER NOT NULL,
    expires_at UTCTEXT NOT NULL
);
