-- Free a key whose batch was refused before it wrote or sent anything. Index: primary key.
DELETE FROM api_idempotency_keys
WHERE user_id = ? AND idempotency_key = ? AND claim_token = ? AND answer IS NULL;
