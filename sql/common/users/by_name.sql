-- A user's id by name (admin commands). Index: ux_users_name.
SELECT id FROM users WHERE name = ?;
