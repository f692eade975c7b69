-- Claim a key for a new batch; no row inserted when the user's key exists (claimed or answered before).
-- Index: primary key.
INSERT OR IGNORE INTO api_idempotency_keys (user_id, idempotency_key, claim_token, request_sha256, claimed_at)
VALUES (?, ?, ?, ?, ?);
