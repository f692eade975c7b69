-- Authenticate an admin route: the admin token whose token hashes to this value. Index: ux_admin_tokens_token_hash.
SELECT name, token_hash FROM admin_tokens WHERE token_hash = ?;
