-- The versions already applied. Index: primary key (version).
SELECT version FROM schema_version ORDER BY version;
