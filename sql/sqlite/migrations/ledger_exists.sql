-- The migration ledger's table, if the database has one (no row: no migration was ever applied); read
-- without creating anything. Index: none needed, sqlite_master lists only the schema's objects.
SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_version';
