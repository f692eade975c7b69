-- Remove an admin token by name: it no longer opens the admin routes. Index: ux_admin_tokens_name.
DELETE FROM admin_tokens WHERE name = ?;
