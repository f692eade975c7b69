-- The batch API's idempotency keys: one row per user and key, claimed (with a random claim token) before a
-- batch writes or sends anything, then holding the batch's answer, replayed to a repeat of the request for
-- a day. A row without an answer is a batch still running, or one whose process stopped before answering.
CREATE TABLE IF NOT EXISTS api_idempotency_keys (
    user_id BIGINT NOT NULL,
    idempotency_key VARCHAR(128) NOT NULL,
    claim_token CHAR(32) NOT NULL,
    request_sha256 CHAR(64) NOT NULL,
    claimed_at DATETIME(6) NOT NULL,
    answer_status SMALLINT NULL,
    answer MEDIUMTEXT NULL,
    -- idempotency/claim (INSERT IGNORE on the key), idempotency/take_expired, idempotency/by_key,
    -- idempotency/answer and idempotency/release all go by the key
    PRIMARY KEY (user_id, idempotency_key),
    -- idempotency/purge (a user's keys older than a day)
    KEY ix_idempotency_user_claimed (user_id, claimed_at),
    CONSTRAINT fk_idempotency_user FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
