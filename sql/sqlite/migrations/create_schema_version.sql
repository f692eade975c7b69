-- Create the migration ledger if it is missing. Index: primary key (version).
CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at UTCTEXT NOT NULL
);
