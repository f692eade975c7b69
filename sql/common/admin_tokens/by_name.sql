-- An admin token's id by name (admin commands). Index: ux_admin_tokens_name.
SELECT id FROM admin_tokens WHERE name = ?;
