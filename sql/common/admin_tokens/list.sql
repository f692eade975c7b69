-- Every admin token's name and creation time (`run.py admin-tokens list`; never its hash). Index:
-- ux_admin_tokens_name.
SELECT name, created_at FROM admin_tokens ORDER BY name;
