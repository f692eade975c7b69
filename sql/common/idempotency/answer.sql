-- Keep the answer of the batch that holds the claim. Index: primary key.
UPDATE api_idempotency_keys SET answer_status = ?, answer = ?
WHERE user_id = ? AND idempotency_key = ? AND claim_token = ? AND answer IS NULL;
