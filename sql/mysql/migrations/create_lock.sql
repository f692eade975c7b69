-- The migration lock's table, created if missing before the lock is taken. One row, `migrate`: who holds the
-- lock (`owner`), the take it was (`fencing_token`, one more at each take) and until when (`expires_at`). It is
-- a row that migrators write, so every node of a Galera cluster orders them (GET_LOCK and SELECT ... FOR UPDATE
-- lock on one node only). Index: primary key (name).
CREATE TABLE IF NOT EXISTS schema_migration_lock (
    name VARCHAR(32) NOT NULL,
    owner VARCHAR(128) NOT NULL,
    fencing_token BIGINT NOT NULL,
    expires_at DATETIME(6) NOT NULL,
    PRIMARY KEY (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
