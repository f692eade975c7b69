-- A user's key: who claimed it, for which request, and the answer once there is one. Index: primary key.
SELECT claim_token, request_sha256, claimed_at, answer_status, answer
FROM api_idempotency_keys WHERE user_id = ? AND idempotency_key = ?;
