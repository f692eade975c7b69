-- Claim a key again whose claim is older than a day: the earlier batch and its answer are forgotten.
-- Index: primary key.
UPDATE api_idempotency_keys
SET claim_token = ?, request_sha256 = ?, claimed_at = ?, answer_status = NULL, answer = NULL
WHERE user_id = ? AND idempotency_key = ? AND claimed_at < ?;
