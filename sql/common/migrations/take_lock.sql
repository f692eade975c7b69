-- Take the migration lock found free (expired or released) at the token read: new owner, next token. Another
-- take since the read changed the token, and this one matches no row. Index: primary key.
UPDATE schema_migration_lock SET owner = ?, fencing_token = fencing_token + 1, expires_at = ?
WHERE name = 'migrate' AND fencing_token = ?;
