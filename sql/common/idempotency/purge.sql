-- Forget a user's keys claimed more than a day ago. Index: ix_idempotency_user_claimed.
DELETE FROM api_idempotency_keys WHERE user_id = ? AND claimed_at < ?;
