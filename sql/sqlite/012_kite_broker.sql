-- Accounts of Zerodha Kite Connect (see the MySQL migration). SQLite cannot change a CHECK, so `accounts` is
-- kept aside, dropped, made anew with its columns in the same order (those of 001 and the ones 003, 004, 009
-- and 010 added), its constraints and indexes, and filled again under deferred foreign keys: the rows of the
-- tables that refer to it are whole again by the commit. Its AUTOINCREMENT counter is kept too, so an id is
-- never given again.
PRAGMA defer_foreign_keys = ON;

CREATE TABLE accounts_kept_012 AS SELECT * FROM accounts;

CREATE TABLE accounts_sequence_kept_012 AS SELECT seq FROM sqlite_sequence WHERE name = 'accounts';

DROP TABLE accounts;

CREATE TABLE accounts (
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
    snapshot_fetched_at UTCTEXT NULL,
    orders_revision INTEGER NOT NULL DEFAULT 0,
    fetch_failing_since UTCTEXT NULL,
    fetch_error TEXT NULL,
    app_key_sealed TEXT NOT NULL DEFAULT '' CHECK (length(app_key_sealed) <= 1024),
    secret_key_sealed TEXT NOT NULL DEFAULT '' CHECK (length(secret_key_sealed) <= 1024),
    token_sealed TEXT NOT NULL DEFAULT '' CHECK (length(token_sealed) <= 4096),
    CONSTRAINT fk_accounts_user FOREIGN KEY (user_id) REFERENCES users (id),
    CONSTRAINT ck_accounts_broker CHECK (broker IN ('xts', 'paper', 'kite'))
);

INSERT INTO accounts SELECT * FROM accounts_kept_012;

DELETE FROM sqlite_sequence WHERE name = 'accounts';

INSERT INTO sqlite_sequence (name, seq)
SELECT 'accounts', MAX(seq) FROM (SELECT seq FROM accounts_sequence_kept_012 UNION ALL SELECT id FROM accounts)
HAVING MAX(seq) IS NOT NULL;

DROP TABLE accounts_kept_012;

DROP TABLE accounts_sequence_kept_012;

-- accounts/for_cycle, accounts/broker_accounts, accounts/lock_owned: a user's accounts by state
CREATE INDEX IF NOT EXISTS ix_accounts_user_active ON accounts (user_id, active, session_needed);

CREATE UNIQUE INDEX IF NOT EXISTS ux_accounts_user_broker_client ON accounts (user_id, broker, client_id);
