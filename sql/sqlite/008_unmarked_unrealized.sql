-- `unrealized_pnl` NULL while a running trade is unmarked (see the MySQL migration). SQLite cannot drop a NOT
-- NULL, so both tables are rebuilt with their columns in the same order, their constraints and indexes.
-- `orders` is copied into a new table that takes its name (and its AUTOINCREMENT counter, so an archived
-- order's id is never given again). `orders_archive` is kept aside, dropped, made anew and filled again under
-- deferred foreign keys: `entry_regenerate` rows refer to it, and are whole again by the commit.
PRAGMA defer_foreign_keys = ON;

CREATE TABLE orders_008 (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL,
    account_id INTEGER NOT NULL,
    strategy TEXT NOT NULL CHECK (length(strategy) <= 64),
    symbol TEXT NOT NULL CHECK (length(symbol) <= 64),
    exchange_segment TEXT NOT NULL CHECK (length(exchange_segment) <= 16),
    instrument_id INTEGER NOT NULL,
    side TEXT NOT NULL CHECK (length(side) <= 4),
    quantity INTEGER NOT NULL,
    entry_type TEXT NOT NULL CHECK (length(entry_type) <= 16),
    entry_stop_price MONEYTEXT NULL,
    entry_limit_price MONEYTEXT NULL,
    entry_order_id INTEGER NULL,
    entry_tag TEXT NULL CHECK (length(entry_tag) <= 20),
    entry_orderstatus TEXT NULL CHECK (length(entry_orderstatus) <= 32),
    filled_qty INTEGER NOT NULL DEFAULT 0,
    avg_entry_price MONEYTEXT NULL,
    entry_modifications INTEGER NOT NULL DEFAULT 0,
    sl_stop_price MONEYTEXT NULL,
    sl_order_id INTEGER NULL,
    sl_tag TEXT NULL CHECK (length(sl_tag) <= 20),
    sl_orderstatus TEXT NULL CHECK (length(sl_orderstatus) <= 32),
    sl_qty INTEGER NOT NULL DEFAULT 0,
    tp_price MONEYTEXT NULL,
    tp_order_id INTEGER NULL,
    tp_tag TEXT NULL CHECK (length(tp_tag) <= 20),
    tp_orderstatus TEXT NULL CHECK (length(tp_orderstatus) <= 32),
    tp_qty INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'PENDING' CHECK (length(status) <= 16),
    exit_price MONEYTEXT NULL,
    realized_pnl MONEYTEXT NOT NULL DEFAULT 0,
    unrealized_pnl MONEYTEXT NULL DEFAULT 0,
    ltp MONEYTEXT NULL,
    reject_reason TEXT NULL CHECK (length(reject_reason) <= 255),
    regenerated_from INTEGER NULL,
    regeneration_attempt INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 1,
    created_at UTCTEXT NOT NULL,
    updated_at UTCTEXT NOT NULL,
    legs_changed_at UTCTEXT NULL,
    sl_rejections INTEGER NOT NULL DEFAULT 0,
    tp_rejections INTEGER NOT NULL DEFAULT 0,
    exit_fills TEXT NOT NULL DEFAULT '[]',
    CONSTRAINT fk_orders_user FOREIGN KEY (user_id) REFERENCES users (id),
    CONSTRAINT fk_orders_account FOREIGN KEY (account_id) REFERENCES accounts (id),
    CONSTRAINT ck_orders_side CHECK (side IN ('BUY', 'SELL')),
    CONSTRAINT ck_orders_status CHECK (status IN ('PENDING', 'ENTRY_OPEN', 'RUNNING', 'CLOSED', 'REJECTED', 'CANCELLED')),
    CONSTRAINT ck_orders_quantities CHECK (quantity > 0 AND filled_qty >= 0 AND sl_qty >= 0 AND tp_qty >= 0)
);

INSERT INTO orders_008 SELECT * FROM orders;

DELETE FROM sqlite_sequence WHERE name = 'orders_008';

INSERT INTO sqlite_sequence (name, seq) SELECT 'orders_008', seq FROM sqlite_sequence WHERE name = 'orders';

DROP TABLE orders;

ALTER TABLE orders_008 RENAME TO orders;

-- orders/for_accounts (Step 3 reads an account's orders), orders/for_archive and orders/delete_archived
-- (Step 7); updates go by primary key with user_id/account_id/version re-checked on the row
CREATE INDEX IF NOT EXISTS ix_orders_user_account_status ON orders (user_id, account_id, status);

CREATE TABLE orders_archive_kept_008 AS SELECT * FROM orders_archive;

DROP TABLE orders_archive;

CREATE TABLE orders_archive (
    id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    account_id INTEGER NOT NULL,
    strategy TEXT NOT NULL CHECK (length(strategy) <= 64),
    symbol TEXT NOT NULL CHECK (length(symbol) <= 64),
    exchange_segment TEXT NOT NULL CHECK (length(exchange_segment) <= 16),
    instrument_id INTEGER NOT NULL,
    side TEXT NOT NULL CHECK (length(side) <= 4),
    quantity INTEGER NOT NULL,
    entry_type TEXT NOT NULL CHECK (length(entry_type) <= 16),
    entry_stop_price MONEYTEXT NULL,
    entry_limit_price MONEYTEXT NULL,
    entry_order_id INTEGER NULL,
    entry_tag TEXT NULL CHECK (length(entry_tag) <= 20),
    entry_orderstatus TEXT NULL CHECK (length(entry_orderstatus) <= 32),
    filled_qty INTEGER NOT NULL,
    avg_entry_price MONEYTEXT NULL,
    entry_modifications INTEGER NOT NULL,
    sl_stop_price MONEYTEXT NULL,
    sl_order_id INTEGER NULL,
    sl_tag TEXT NULL CHECK (length(sl_tag) <= 20),
    sl_orderstatus TEXT NULL CHECK (length(sl_orderstatus) <= 32),
    sl_qty INTEGER NOT NULL,
    tp_price MONEYTEXT NULL,
    tp_order_id INTEGER NULL,
    tp_tag TEXT NULL CHECK (length(tp_tag) <= 20),
    tp_orderstatus TEXT NULL CHECK (length(tp_orderstatus) <= 32),
    tp_qty INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (length(status) <= 16),
    exit_price MONEYTEXT NULL,
    realized_pnl MONEYTEXT NOT NULL,
    unrealized_pnl MONEYTEXT NULL,
    ltp MONEYTEXT NULL,
    reject_reason TEXT NULL CHECK (length(reject_reason) <= 255),
    regenerated_from INTEGER NULL,
    regeneration_attempt INTEGER NOT NULL,
    version INTEGER NOT NULL,
    created_at UTCTEXT NOT NULL,
    updated_at UTCTEXT NOT NULL,
    archive_reason TEXT NOT NULL CHECK (length(archive_reason) <= 255),
    archived_at UTCTEXT NOT NULL,
    legs_changed_at UTCTEXT NULL,
    sl_rejections INTEGER NOT NULL DEFAULT 0,
    tp_rejections INTEGER NOT NULL DEFAULT 0,
    exit_fills TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (id),
    CONSTRAINT fk_archive_user FOREIGN KEY (user_id) REFERENCES users (id),
    CONSTRAINT fk_archive_account FOREIGN KEY (account_id) REFERENCES accounts (id)
);

INSERT INTO orders_archive SELECT * FROM orders_archive_kept_008;

DROP TABLE orders_archive_kept_008;

-- archive/for_regeneration (Step 8: a user's rejected entries per account and strategy), archive/for_account
CREATE INDEX IF NOT EXISTS ix_archive_user_account_strategy ON orders_archive (user_id, account_id, strategy);
