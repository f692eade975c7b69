-- Authenticate: the active user whose token hashes to this value. Index: ux_users_token_hash.
SELECT id, token_hash FROM users WHERE token_hash = ? AND active = 1;
