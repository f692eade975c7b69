-- The batch API's idempotency keys (see the MySQL migration of the same number).
CREATE TABLE IF NOT EXISTS api_idempotency_keys (
    user_id INTEGER NOT NULL REFERENCES users (id),
    idempotency_key TEXT NOT NULL CHECK (length(idempotency_key) <= 128),
    claim_token TEXT NOT NULL CHECK (length(claim_token) = 32),
    request_sha256 TEXT NOT NULL CHECK (length(request_sha256) = 64),
    claimed_at UTCTEXT NOT NULL,
    answer_status INTEGER NULL,
    answer TEXT NULL,
    PRIMARY KEY (user_id, idempotency_key)
);

-- idempotency/purge (a user's keys older than a day)
CREATE INDEX IF NOT EXISTS ix_idempotency_user_claimed ON api_idempotency_keys (user_id, claimed_at);
