-- The whole schema of DESIGN.md for MySQL 8 / MariaDB 10.6+ (InnoDB, utf8mb4_bin: names compare exactly).
-- Re-runnable: every table is CREATE TABLE IF NOT EXISTS with its indexes inline, because MySQL commits
-- DDL implicitly and has no CREATE INDEX IF NOT EXISTS. Money is DECIMAL(18,4); times are DATETIME(6) in UTC.
-- Each index names the queries (sql/mysql/<folder>/<name>.sql) it serves.

CREATE TABLE IF NOT EXISTS users (
    id BIGINT NOT NULL AUTO_INCREMENT,
    name VARCHAR(100) NOT NULL,
    token_hash CHAR(64) NOT NULL,
    active TINYINT(1) NOT NULL DEFAULT 1,
    paused TINYINT(1) NOT NULL DEFAULT 0,
    pause_reason VARCHAR(255) NULL,
    daily_loss_limit DECIMAL(18,4) NULL,
    created_at DATETIME(6) NOT NULL,
    PRIMARY KEY (id),
    -- users/by_name (admin commands)
    UNIQUE KEY ux_users_name (name),
    -- users/by_token_hash (API authentication)
    UNIQUE KEY ux_users_token_hash (token_hash)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS accounts (
    id BIGINT NOT NULL AUTO_INCREMENT,
    user_id BIGINT NOT NULL,
    broker VARCHAR(16) NOT NULL,
    base_url VARCHAR(255) NOT NULL,
    client_id VARCHAR(64) NOT NULL,
    app_key VARCHAR(255) NOT NULL DEFAULT '',
    secret_key VARCHAR(255) NOT NULL DEFAULT '',
    token VARCHAR(1024) NOT NULL DEFAULT '',
    active TINYINT(1) NOT NULL DEFAULT 1,
    session_needed TINYINT(1) NOT NULL DEFAULT 0,
    created_at DATETIME(6) NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    PRIMARY KEY (id),
    -- accounts/for_cycle, accounts/broker_accounts, accounts/lock_owned: a user's accounts by state
    KEY ix_accounts_user_active (user_id, active, session_needed),
    UNIQUE KEY ux_accounts_user_broker_client (user_id, broker, client_id),
    CONSTRAINT fk_accounts_user FOREIGN KEY (user_id) REFERENCES users (id),
    CONSTRAINT ck_accounts_broker CHECK (broker IN ('xts', 'paper'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS entry_regenerate_permission (
    user_id BIGINT NOT NULL,
    strategy VARCHAR(64) NOT NULL,
    -- permissions/for_user and permissions/delete_for_user read and clear a user's strategies by prefix
    PRIMARY KEY (user_id, strategy),
    CONSTRAINT fk_permission_user FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS orders (
    id BIGINT NOT NULL AUTO_INCREMENT,
    user_id BIGINT NOT NULL,
    account_id BIGINT NOT NULL,
    strategy VARCHAR(64) NOT NULL,
    symbol VARCHAR(64) NOT NULL,
    exchange_segment VARCHAR(16) NOT NULL,
    instrument_id BIGINT NOT NULL,
    side VARCHAR(4) NOT NULL,
    quantity INT NOT NULL,
    entry_type VARCHAR(16) NOT NULL,
    entry_stop_price DECIMAL(18,4) NULL,
    entry_limit_price DECIMAL(18,4) NULL,
    entry_order_id BIGINT NULL,
    entry_tag VARCHAR(20) NULL,
    entry_orderstatus VARCHAR(32) NULL,
    filled_qty INT NOT NULL DEFAULT 0,
    avg_entry_price DECIMAL(18,4) NULL,
    entry_modifications INT NOT NULL DEFAULT 0,
    sl_stop_price DECIMAL(18,4) NULL,
    sl_order_id BIGINT NULL,
    sl_tag VARCHAR(20) NULL,
    sl_orderstatus VARCHAR(32) NULL,
    sl_qty INT NOT NULL DEFAULT 0,
    tp_price DECIMAL(18,4) NULL,
    tp_order_id BIGINT NULL,
    tp_tag VARCHAR(20) NULL,
    tp_orderstatus VARCHAR(32) NULL,
    tp_qty INT NOT NULL DEFAULT 0,
    status VARCHAR(16) NOT NULL DEFAULT 'PENDING',
    exit_price DECIMAL(18,4) NULL,
    realized_pnl DECIMAL(18,4) NOT NULL DEFAULT 0,
    unrealized_pnl DECIMAL(18,4) NOT NULL DEFAULT 0,
    ltp DECIMAL(18,4) NULL,
    reject_reason VARCHAR(255) NULL,
    regenerated_from BIGINT NULL,
    regeneration_attempt INT NOT NULL DEFAULT 0,
    version INT NOT NULL DEFAULT 1,
    created_at DATETIME(6) NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    PRIMARY KEY (id),
    -- orders/for_accounts (Step 3 reads an account's orders), orders/for_archive and orders/delete_archived
    -- (Step 7); updates go by primary key with user_id/account_id/version re-checked on the row
    KEY ix_orders_user_account_status (user_id, account_id, status),
    CONSTRAINT fk_orders_user FOREIGN KEY (user_id) REFERENCES users (id),
    CONSTRAINT fk_orders_account FOREIGN KEY (account_id) REFERENCES accounts (id),
    CONSTRAINT ck_orders_side CHECK (side IN ('BUY', 'SELL')),
    CONSTRAINT ck_orders_status CHECK (status IN ('PENDING', 'ENTRY_OPEN', 'RUNNING', 'CLOSED', 'REJECTED', 'CANCELLED')),
    CONSTRAINT ck_orders_quantities CHECK (quantity > 0 AND filled_qty >= 0 AND sl_qty >= 0 AND tp_qty >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS orders_archive (
    id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    account_id BIGINT NOT NULL,
    strategy VARCHAR(64) NOT NULL,
    symbol VARCHAR(64) NOT NULL,
    exchange_segment VARCHAR(16) NOT NULL,
    instrument_id BIGINT NOT NULL,
    side VARCHAR(4) NOT NULL,
    quantity INT NOT NULL,
    entry_type VARCHAR(16) NOT NULL,
    entry_stop_price DECIMAL(18,4) NULL,
    entry_limit_price DECIMAL(18,4) NULL,
    entry_order_id BIGINT NULL,
    entry_tag VARCHAR(20) NULL,
    entry_orderstatus VARCHAR(32) NULL,
    filled_qty INT NOT NULL,
    avg_entry_price DECIMAL(18,4) NULL,
    entry_modifications INT NOT NULL,
    sl_stop_price DECIMAL(18,4) NULL,
    sl_order_id BIGINT NULL,
    sl_tag VARCHAR(20) NULL,
    sl_orderstatus VARCHAR(32) NULL,
    sl_qty INT NOT NULL,
    tp_price DECIMAL(18,4) NULL,
    tp_order_id BIGINT NULL,
    tp_tag VARCHAR(20) NULL,
    tp_orderstatus VARCHAR(32) NULL,
    tp_qty INT NOT NULL,
    status VARCHAR(16) NOT NULL,
    exit_price DECIMAL(18,4) NULL,
    realized_pnl DECIMAL(18,4) NOT NULL,
    unrealized_pnl DECIMAL(18,4) NOT NULL,
    ltp DECIMAL(18,4) NULL,
    reject_reason VARCHAR(255) NULL,
    regenerated_from BIGINT NULL,
    regeneration_attempt INT NOT NULL,
    version INT NOT NULL,
    created_at DATETIME(6) NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    archive_reason VARCHAR(255) NOT NULL,
    archived_at DATETIME(6) NOT NULL,
    -- the archived order keeps its id, so an order id is never reused
    PRIMARY KEY (id),
    -- archive/for_regeneration (Step 8: a user's rejected entries per account and strategy), archive/for_account
    KEY ix_archive_user_account_strategy (user_id, account_id, strategy),
    CONSTRAINT fk_archive_user FOREIGN KEY (user_id) REFERENCES users (id),
    CONSTRAINT fk_archive_account FOREIGN KEY (account_id) REFERENCES accounts (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS broker_order_book (
    id BIGINT NOT NULL AUTO_INCREMENT,
    user_id BIGINT NOT NULL,
    account_id BIGINT NOT NULL,
    ordinal INT NOT NULL,
    fetched_at DATETIME(6) NOT NULL,
    client_id VARCHAR(64) NOT NULL,
    app_order_id BIGINT NOT NULL,
    exchange_order_id VARCHAR(64) NOT NULL,
    exchange_segment VARCHAR(16) NOT NULL,
    instrument_id BIGINT NOT NULL,
    symbol VARCHAR(64) NOT NULL,
    side VARCHAR(4) NOT NULL,
    order_type VARCHAR(16) NOT NULL,
    product_type VARCHAR(8) NOT NULL,
    time_in_force VARCHAR(8) NOT NULL,
    quantity INT NOT NULL,
    limit_price DECIMAL(18,4) NOT NULL,
    stop_price DECIMAL(18,4) NOT NULL,
    status VARCHAR(32) NOT NULL,
    filled_qty INT NOT NULL,
    leaves_qty INT NOT NULL,
    avg_price DECIMAL(18,4) NULL,
    created_at DATETIME(6) NULL,
    updated_at DATETIME(6) NULL,
    reject_reason VARCHAR(512) NOT NULL,
    tag VARCHAR(20) NOT NULL,
    PRIMARY KEY (id),
    -- snapshot/delete_orders (Step 1 replace) and snapshot/orders (read in fetch order)
    KEY ix_order_book_account (account_id, user_id, ordinal),
    CONSTRAINT fk_order_book_user FOREIGN KEY (user_id) REFERENCES users (id),
    CONSTRAINT fk_order_book_account FOREIGN KEY (account_id) REFERENCES accounts (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS broker_position (
    id BIGINT NOT NULL AUTO_INCREMENT,
    user_id BIGINT NOT NULL,
    account_id BIGINT NOT NULL,
    ordinal INT NOT NULL,
    fetched_at DATETIME(6) NOT NULL,
    client_id VARCHAR(64) NOT NULL,
    symbol VARCHAR(64) NOT NULL,
    exchange_segment VARCHAR(16) NOT NULL,
    instrument_id BIGINT NOT NULL,
    product_type VARCHAR(8) NOT NULL,
    net_qty INT NOT NULL,
    buy_avg_price DECIMAL(18,4) NOT NULL,
    sell_avg_price DECIMAL(18,4) NOT NULL,
    open_buy_qty INT NOT NULL,
    open_sell_qty INT NOT NULL,
    net_amount DECIMAL(18,4) NOT NULL,
    mtm DECIMAL(18,4) NOT NULL,
    realized_mtm DECIMAL(18,4) NOT NULL,
    unrealized_mtm DECIMAL(18,4) NOT NULL,
    multiplier DECIMAL(18,4) NOT NULL,
    PRIMARY KEY (id),
    -- snapshot/delete_positions (Step 1 replace) and snapshot/positions (read in fetch order)
    KEY ix_position_account (account_id, user_id, ordinal),
    CONSTRAINT fk_position_user FOREIGN KEY (user_id) REFERENCES users (id),
    CONSTRAINT fk_position_account FOREIGN KEY (account_id) REFERENCES accounts (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS mainapp_fairprice (
    -- fair_prices/select and fair_prices/upsert go by symbol
    symbol VARCHAR(64) NOT NULL,
    buy_fair_price DECIMAL(18,4) NOT NULL,
    sell_fair_price DECIMAL(18,4) NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    PRIMARY KEY (symbol)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS bo_live_history (
    id BIGINT NOT NULL AUTO_INCREMENT,
    user_id BIGINT NOT NULL,
    account_id BIGINT NOT NULL,
    ordinal INT NOT NULL,
    computed_at DATETIME(6) NOT NULL,
    kind VARCHAR(8) NOT NULL,
    symbol VARCHAR(64) NOT NULL,
    direction VARCHAR(5) NOT NULL,
    qty INT NOT NULL,
    entry_order_id BIGINT NOT NULL,
    exit_order_id BIGINT NULL,
    entry_price DECIMAL(18,4) NOT NULL,
    exit_price DECIMAL(18,4) NULL,
    realized_pnl DECIMAL(18,4) NULL,
    mark DECIMAL(18,4) NULL,
    unrealized_pnl DECIMAL(18,4) NULL,
    PRIMARY KEY (id),
    -- live_history/delete (Step 2 replace, scoped to the user and account) and live_history/read
    KEY ix_live_history_user_account (user_id, account_id, ordinal),
    CONSTRAINT fk_live_history_user FOREIGN KEY (user_id) REFERENCES users (id),
    CONSTRAINT fk_live_history_account FOREIGN KEY (account_id) REFERENCES accounts (id),
    CONSTRAINT ck_live_history_kind CHECK (kind IN ('MATCH', 'OPEN')),
    CONSTRAINT ck_live_history_direction CHECK (direction IN ('LONG', 'SHORT'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS entry_regenerate (
    id BIGINT NOT NULL AUTO_INCREMENT,
    user_id BIGINT NOT NULL,
    account_id BIGINT NOT NULL,
    archived_order_id BIGINT NOT NULL,
    strategy VARCHAR(64) NOT NULL,
    symbol VARCHAR(64) NOT NULL,
    exchange_segment VARCHAR(16) NOT NULL,
    instrument_id BIGINT NOT NULL,
    side VARCHAR(4) NOT NULL,
    quantity INT NOT NULL,
    entry_type VARCHAR(16) NOT NULL,
    entry_stop_price DECIMAL(18,4) NULL,
    entry_limit_price DECIMAL(18,4) NULL,
    sl_stop_price DECIMAL(18,4) NULL,
    tp_price DECIMAL(18,4) NULL,
    attempt INT NOT NULL,
    entry_orderstatus VARCHAR(32) NOT NULL,
    status VARCHAR(8) NULL,
    new_order_id BIGINT NULL,
    failure_reason VARCHAR(512) NULL,
    created_at DATETIME(6) NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    PRIMARY KEY (id),
    -- an archived order is regenerated at most once (archive/for_regeneration's NOT EXISTS probe,
    -- regenerations/by_archived_ids)
    UNIQUE KEY ux_regenerate_archived_order (archived_order_id),
    -- regenerations/pending (Step 9: status IS NULL per user and account)
    KEY ix_regenerate_user_account_status (user_id, account_id, status),
    CONSTRAINT fk_regenerate_user FOREIGN KEY (user_id) REFERENCES users (id),
    CONSTRAINT fk_regenerate_account FOREIGN KEY (account_id) REFERENCES accounts (id),
    CONSTRAINT fk_regenerate_archived FOREIGN KEY (archived_order_id) REFERENCES orders_archive (id),
    CONSTRAINT ck_regenerate_status CHECK (status IS NULL OR status IN ('PLACED', 'FAILED'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS monitor_events (
    user_id BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    cycle_id VARCHAR(64) NOT NULL,
    at DATETIME(6) NOT NULL,
    type VARCHAR(64) NOT NULL,
    version SMALLINT NOT NULL,
    payload LONGTEXT NOT NULL,
    -- events/max_seq (lazy per-user sequence) and events/insert's duplicate check; events/range by seq
    PRIMARY KEY (user_id, seq),
    -- events/cycle (one cycle in order)
    KEY ix_events_user_cycle (user_id, cycle_id, seq),
    -- events/cycles and events/range (a user's events in a time range)
    KEY ix_events_user_at (user_id, at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
