-- Claim a key again whose claim is older than a day: the earlier batch and its answer are forgotten.
-- Index: primary key.
UPDATE api_idempotency_keys
SET claim_token = %s, request_sha256 = %s, claimed_at = %s, answer_status = NULL, answer = NULL
WHERE user_id = %s AND idempotency_key = %s AND claimed_at < %s;
