-- Replace a user's API token by a new one's SHA-256 (the old token stops working). Index: primary key;
-- ux_users_token_hash enforces uniqueness.
UPDATE users SET token_hash = ? WHERE id = ?;
