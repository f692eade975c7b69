-- The migration ledger's table in the connection's database, if it has one (no row: no migration was ever
-- applied); read without creating anything. Index: information_schema's own (schema and table name).
SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'schema_version';
