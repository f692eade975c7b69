-- The whole schema of DESIGN.md for SQLite (the embedded default), in one transaction.
-- Types: MONEYTEXT is money as exact decimal text (TEXT affinity; the adapter converts to and from Decimal,
-- never float), UTCTEXT is a UTC time as 'YYYY-MM-DD HH:MM:SS.ffffff' (sorts as time), INTEGER ids are
-- AUTOINCREMENT so an id is never reused after its row moves to orders_archive. Text columns carry the
-- length CHECK that VARCHAR(n) enforces on MySQL, so both dialects refuse the same values.
-- Each index names the queries (sql/sqlite/<folder>/<name>.sql) it serves.

CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    paused INTEGER NOT NULL DEFAULT 0,
    pause_reason TEXT NULL,
    daily_loss_limit MONEYTEXT NULL,
    created_at UTCTEXT NOT NULL
);

-- users/by_name (admin commands)
CREATE UNIQUE INDEX IF NOT EXISTS ux_users_name ON users (name);

-- users/by_token_hash (API authentication)
CREATE UNIQUE INDEX IF NOT EXISTS ux_users_token_hash ON users (token_hash);

CREATE TABLE IF NOT EXISTS accounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL,
    broker TEXT NOT NULL CHECK (length(broker) <= 16),
    base_url TEXT NOT NULL CHECK (length(base_url) <= 255),
    client_id TEXT NOT NULL CHECK (length(client_id) <= 64),
    app_key TEXT NOT NULL DEFAULT '' CHECK (length(app_key) <= 255),
    secret_key TEXT NOT NULL DEFAULT '' CHECK (length(secret_key) <= 255),
    token TEXT NOT NULL DEFAULT '' CHECK (length(token) <= 1024),
    active INTEGER NOT NULL DEFAULT 1,
    session_needed INTEGER NOT NULL DEFAULT 0,
    created_at UTCTEXT NOT NULL,
    updated_at UTCTEXT NOT NULL,
    CONSTRAINT fk_accounts_user FOREIGN KEY (user_id) REFERENCES users (id),
    CONSTRAINT ck_accounts_broker CHECK (broker IN ('xts', 'paper'))
);

-- accounts/for_cycle, accounts/broker_accounts, accounts/lock_owned: a user's accounts by state
CREATE INDEX IF NOT EXISTS ix_accounts_user_active ON accounts (user_id, active, session_needed);

CREATE UNIQUE INDEX IF NOT EXISTS ux_accounts_user_broker_client ON accounts (user_id, broker, client_id);

CREATE TABLE IF NOT EXISTS entry_regenerate_permission (
    user_id INTEGER NOT NULL,
    strategy TEXT NOT NULL CHECK (length(strategy) <= 64),
    -- permissions/for_user and permissions/delete_for_user read and clear a user's strategies by prefix
    PRIMARY KEY (user_id, strategy),
    CONSTRAINT fk_permission_user FOREIGN KEY (user_id) REFERENCES users (id)
);

CREATE TABLE IF NOT EXISTS orders (
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
    unrealized_pnl MONEYTEXT NOT NULL DEFAULT 0,
    ltp MONEYTEXT NULL,
    reject_reason TEXT NULL CHECK (length(reject_reason) <= 255),
    regenerated_from INTEGER NULL,
    regeneration_attempt INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 1,
    created_at UTCTEXT NOT NULL,
    updated_at UTCTEXT NOT NULL,
    CONSTRAINT fk_orders_user FOREIGN KEY (user_id) REFERENCES users (id),
    CONSTRAINT fk_orders_account FOREIGN KEY (account_id) REFERENCES accounts (id),
    CONSTRAINT ck_orders_side CHECK (side IN ('BUY', 'SELL')),
    CONSTRAINT ck_orders_status CHECK (status IN ('PENDING', 'ENTRY_OPEN', 'RUNNING', 'CLOSED', 'REJECTED', 'CANCELLED')),
    CONSTRAINT ck_orders_quantities CHECK (quantity > 0 AND filled_qty >= 0 AND sl_qty >= 0 AND tp_qty >= 0)
);

-- orders/for_accounts (Step 3 reads an account's orders), orders/for_archive and orders/delete_archived
-- (Step 7); updates go by primary key with user_id/account_id/version re-checked on the row
CREATE INDEX IF NOT EXISTS ix_orders_user_account_status ON orders (user_id, account_id, status);

CREATE TABLE IF NOT EXISTS orders_archive (
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
    unrealized_pnl MONEYTEXT NOT NULL,
    ltp MONEYTEXT NULL,
    reject_reason TEXT NULL CHECK (length(reject_reason) <= 255),
    regenerated_from INTEGER NULL,
    regeneration_attempt INTEGER NOT NULL,
    version INTEGER NOT NULL,
    created_at UTCTEXT NOT NULL,
    updated_at UTCTEXT NOT NULL,
    archive_reason TEXT NOT NULL CHECK (length(archive_reason) <= 255),
    archived_at UTCTEXT NOT NULL,
    -- the archived order keeps its id, so an order id is never reused
    PRIMARY KEY (id),
    CONSTRAINT fk_archive_user FOREIGN KEY (user_id) REFERENCES users (id),
    CONSTRAINT fk_archive_account FOREIGN KEY (account_id) REFERENCES accounts (id)
);

-- archive/for_regeneration (Step 8: a user's rejected entries per account and strategy), archive/for_account
CREATE INDEX IF NOT EXISTS ix_archive_user_account_strategy ON orders_archive (user_id, account_id, strategy);

CREATE TABLE IF NOT EXISTS broker_order_book (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL,
    account_id INTEGER NOT NULL,
    ordinal INTEGER NOT NULL,
    fetched_at UTCTEXT NOT NULL,
    client_id TEXT NOT NULL CHECK (length(client_id) <= 64),
    app_order_id INTEGER NOT NULL,
    exchange_order_id TEXT NOT NULL CHECK (length(exchange_order_id) <= 64),
    exchange_segment TEXT NOT NULL CHECK (length(exchange_segment) <= 16),
    instrument_id INTEGER NOT NULL,
    symbol TEXT NOT NULL CHECK (length(symbol) <= 64),
    side TEXT NOT NULL CHECK (length(side) <= 4),
    order_type TEXT NOT NULL CHECK (length(order_type) <= 16),
    product_type TEXT NOT NULL CHECK (length(product_type) <= 8),
    time_in_force TEXT NOT NULL CHECK (length(time_in_force) <= 8),
    quantity INTEGER NOT NULL,
    limit_price MONEYTEXT NOT NULL,
    stop_price MONEYTEXT NOT NULL,
    status TEXT NOT NULL CHECK (length(status) <= 32),
    filled_qty INTEGER NOT NULL,
    leaves_qty INTEGER NOT NULL,
    avg_price MONEYTEXT NULL,
    created_at UTCTEXT NULL,
    updated_at UTCTEXT NULL,
    reject_reason TEXT NOT NULL CHECK (length(reject_reason) <= 512),
    tag TEXT NOT NULL CHECK (length(tag) <= 20),
    CONSTRAINT fk_order_book_user FOREIGN KEY (user_id) REFERENCES users (id),
    CONSTRAINT fk_order_book_account FOREIGN KEY (account_id) REFERENCES accounts (id)
);

-- snapshot/delete_orders (Step 1 replace) and snapshot/orders (read in fetch order)
CREATE INDEX IF NOT EXISTS ix_order_book_account ON broker_order_book (account_id, user_id, ordinal);

CREATE TABLE IF NOT EXISTS broker_position (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL,
    account_id INTEGER NOT NULL,
    ordinal INTEGER NOT NULL,
    fetched_at UTCTEXT NOT NULL,
    client_id TEXT NOT NULL CHECK (length(client_id) <= 64),
    symbol TEXT NOT NULL CHECK (length(symbol) <= 64),
    exchange_segment TEXT NOT NULL CHECK (length(exchange_segment) <= 16),
    instrument_id INTEGER NOT NULL,
    product_type TEXT NOT NULL CHECK (length(product_type) <= 8),
    net_qty INTEGER NOT NULL,
    buy_avg_price MONEYTEXT NOT NULL,
    sell_avg_price MONEYTEXT NOT NULL,
    open_buy_qty INTEGER NOT NULL,
    open_sell_qty INTEGER NOT NULL,
    net_amount MONEYTEXT NOT NULL,
    mtm MONEYTEXT NOT NULL,
    realized_mtm MONEYTEXT NOT NULL,
    unrealized_mtm MONEYTEXT NOT NULL,
    multiplier MONEYTEXT NOT NULL,
    CONSTRAINT fk_position_user FOREIGN KEY (user_id) REFERENCES users (id),
    CONSTRAINT fk_position_account FOREIGN KEY (account_id) REFERENCES accounts (id)
);

-- snapshot/delete_positions (Step 1 replace) and snapshot/positions (read in fetch order)
CREATE INDEX IF NOT EXISTS ix_position_account ON broker_position (account_id, user_id, ordinal);

CREATE TABLE IF NOT EXISTS mainapp_fairprice (
    -- fair_prices/select and fair_prices/upsert go by symbol
    symbol TEXT NOT NULL CHECK (length(symbol) <= 64),
    buy_fair_price MONEYTEXT NOT NULL,
    sell_fair_price MONEYTEXT NOT NULL,
    updated_at UTCTEXT NOT NULL,
    PRIMARY KEY (symbol)
);

CREATE TABLE IF NOT EXISTS bo_live_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL,
    account_id INTEGER NOT NULL,
    ordinal INTEGER NOT NULL,
    computed_at UTCTEXT NOT NULL,
    kind TEXT NOT NULL CHECK (length(kind) <= 8),
    symbol TEXT NOT NULL CHECK (length(symbol) <= 64),
    direction TEXT NOT NULL CHECK (length(direction) <= 5),
    qty INTEGER NOT NULL,
    entry_order_id INTEGER NOT NULL,
    exit_order_id INTEGER NULL,
    entry_price MONEYTEXT NOT NULL,
    exit_price MONEYTEXT NULL,
    realized_pnl MONEYTEXT NULL,
    mark MONEYTEXT NULL,
    unrealized_pnl MONEYTEXT NULL,
    CONSTRAINT fk_live_history_user FOREIGN KEY (user_id) REFERENCES users (id),
    CONSTRAINT fk_live_history_account FOREIGN KEY (account_id) REFERENCES accounts (id),
    CONSTRAINT ck_live_history_kind CHECK (kind IN ('MATCH', 'OPEN')),
    CONSTRAINT ck_live_history_direction CHECK (direction IN ('LONG', 'SHORT'))
);

-- live_history/delete (Step 2 replace, scoped to the user and account) and live_history/read
CREATE INDEX IF NOT EXISTS ix_live_history_user_account ON bo_live_history (user_id, account_id, ordinal);

CREATE TABLE IF NOT EXISTS entry_regenerate (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL,
    account_id INTEGER NOT NULL,
    archived_order_id INTEGER NOT NULL,
    strategy TEXT NOT NULL CHECK (length(strategy) <= 64),
    symbol TEXT NOT NULL CHECK (length(symbol) <= 64),
    exchange_segment TEXT NOT NULL CHECK (length(exchange_segment) <= 16),
    instrument_id INTEGER NOT NULL,
    side TEXT NOT NULL CHECK (length(side) <= 4),
    quantity INTEGER NOT NULL,
    entry_type TEXT NOT NULL CHECK (length(entry_type) <= 16),
    entry_stop_price MONEYTEXT NULL,
    entry_limit_price MONEYTEXT NULL,
    sl_stop_price MONEYTEXT NULL,
    tp_price MONEYTEXT NULL,
    attempt INTEGER NOT NULL,
    entry_orderstatus TEXT NOT NULL CHECK (length(entry_orderstatus) <= 32),
    status TEXT NULL CHECK (length(status) <= 8),
    new_order_id INTEGER NULL,
    failure_reason TEXT NULL CHECK (length(failure_reason) <= 512),
    created_at UTCTEXT NOT NULL,
    updated_at UTCTEXT NOT NULL,
    CONSTRAINT fk_regenerate_user FOREIGN KEY (user_id) REFERENCES users (id),
    CONSTRAINT fk_regenerate_account FOREIGN KEY (account_id) REFERENCES accounts (id),
    CONSTRAINT fk_regenerate_archived FOREIGN KEY (archived_order_id) REFERENCES orders_archive (id),
    CONSTRAINT ck_regenerate_status CHECK (status IS NULL OR status IN ('PLACED', 'FAILED'))
);

-- an archived order is regenerated at most once (archive/for_regeneration's NOT EXISTS probe,
-- regenerations/by_archived_ids)
CREATE UNIQUE INDEX IF NOT EXISTS ux_regenerate_archived_order ON entry_regenerate (archived_order_id);

-- regenerations/pending (Step 9: status IS NULL per user and account)
CREATE INDEX IF NOT EXISTS ix_regenerate_user_account_status ON entry_regenerate (user_id, account_id, status);

CREATE TABLE IF NOT EXISTS monitor_events (
    user_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    cycle_id TEXT NOT NULL CHECK (length(cycle_id) <= 64),
    at UTCTEXT NOT NULL,
    type TEXT NOT NULL CHECK (length(type) <= 64),
    version INTEGER NOT NULL,
    payload TEXT NOT NULL,
    -- events/max_seq (lazy per-user sequence) and events/insert's duplicate check; events/range by seq
    PRIMARY KEY (user_id, seq)
);

-- events/cycle (one cycle in order)
CREATE INDEX IF NOT EXISTS ix_events_user_cycle ON monitor_events (user_id, cycle_id, seq);

-- events/cycles and events/range (a user's events in a time range)
CREATE INDEX IF NOT EXISTS ix_events_user_at ON monitor_events (user_id, at)
