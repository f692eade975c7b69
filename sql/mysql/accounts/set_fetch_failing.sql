-- A failed fetch: the streak starts now unless it already runs; the error and its kind are the latest. Index:
-- primary key, forced (every statement that locks an account row locks it by the primary key only; see
-- accounts/bump_orders_revision).
UPDATE accounts FORCE INDEX (PRIMARY)
SET fetch_failing_since = COALESCE(fetch_failing_since, %s), fetch_error = %s, fetch_error_kind = %s
WHERE id = %s AND user_id = %s;
