-- Free a key whose batch was refused before it wrote or sent anything. Index: primary key.
DELETE FROM api_idempotency_keys
WHERE user_id = %s AND idempotency_key = %s AND claim_token = %s AND answer IS NULL;
