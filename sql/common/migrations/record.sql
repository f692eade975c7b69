-- Record one applied migration. Index: primary key (version).
INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?);
