-- A desk's own fair prices: the admin tokens that may publish them (kept as their SHA-256, never the token), and
-- which source wrote each price; every row written before is `desk` (see the MySQL migration for why).
CREATE TABLE IF NOT EXISTS admin_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL CHECK (length(name) <= 64),
    token_hash TEXT NOT NULL,
    created_at UTCTEXT NOT NULL
);

-- admin_tokens/by_name, admin_tokens/remove (admin commands)
CREATE UNIQUE INDEX IF NOT EXISTS ux_admin_tokens_name ON admin_tokens (name);

-- admin_tokens/by_token_hash (admin routes' authentication)
CREATE UNIQUE INDEX IF NOT EXISTS ux_admin_tokens_token_hash ON admin_tokens (token_hash);

ALTER TABLE mainapp_fairprice ADD COLUMN source TEXT NOT NULL DEFAULT 'desk' CHECK (source IN ('desk', 'feed'));
