-- A desk's own fair prices: the admin tokens that may publish them, and which source wrote each price.
--
-- admin_tokens: tokens of the desk's pricing (`run.py admin-tokens add NAME`), kept as the SHA-256 of the token
-- (never the token), as users.token_hash is. They are not users: a user's token never opens an admin route, nor
-- an admin token a user's. Created first and IF NOT EXISTS, so a migration stopped after it runs again.
--
-- mainapp_fairprice.source: `desk` (the desk's own price, which the market-data feed never overwrites) or `feed`
-- (the feed's, which the desk's replaces). Every row written before this migration is `desk`: until now only the
-- desk's pricing (a process of its own writing the table) and the demo's market, which stands for it, wrote
-- prices; no feed existed. The default stays `desk` for the same reason: a pricing process that writes the table
-- itself, without naming the column, is the desk. `run.py fair-prices clear SYMBOL` (or DELETE
-- /api/fair-prices/{symbol}) hands a symbol back to the feed.
CREATE TABLE IF NOT EXISTS admin_tokens (
    id BIGINT NOT NULL AUTO_INCREMENT,
    name VARCHAR(64) NOT NULL,
    token_hash CHAR(64) NOT NULL,
    created_at DATETIME(6) NOT NULL,
    PRIMARY KEY (id),
    -- admin_tokens/by_name, admin_tokens/remove (admin commands)
    UNIQUE KEY ux_admin_tokens_name (name),
    -- admin_tokens/by_token_hash (admin routes' authentication)
    UNIQUE KEY ux_admin_tokens_token_hash (token_hash)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

ALTER TABLE mainapp_fairprice
    ADD COLUMN source VARCHAR(8) NOT NULL DEFAULT 'desk',
    ADD CONSTRAINT ck_fairprice_source CHECK (source IN ('desk', 'feed'));
