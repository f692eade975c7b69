-- Create an admin token by name with its SHA-256 (never the token). Index: ux_admin_tokens_name,
-- ux_admin_tokens_token_hash enforce uniqueness.
INSERT INTO admin_tokens (name, token_hash, created_at) VALUES (?, ?, ?);
