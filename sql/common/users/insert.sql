-- Create a user with the SHA-256 of its API token (never the token). Index: ux_users_name, ux_users_token_hash enforce uniqueness.
INSERT INTO users (name, token_hash, created_at) VALUES (?, ?, ?);
