-- Keep the answer of the batch that holds the claim. Index: primary key.
UPDATE api_idempotency_keys SET answer_status = %s, answer = %s
WHERE user_id = %s AND idempotency_key = %s AND claim_token = %s AND answer IS NULL;
