-- Create the migration ledger if it is missing. Index: primary key (version).
CREATE TABLE IF NOT EXISTS schema_version (
    version INT NOT NULL,
    name VARCHAR(200) NOT NULL,
    applied_at DATETIME(6) NOT NULL,
    PRIMARY KEY (version)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
