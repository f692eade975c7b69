-- The migration lock as it stands: who holds it, which take, until when. Index: primary key.
SELECT owner, fencing_token, expires_at FROM schema_migration_lock WHERE name = 'migrate';
