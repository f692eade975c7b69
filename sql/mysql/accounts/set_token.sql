-- Store a fresh session token and clear session_needed. Index: primary key, forced (every statement that locks
-- an account row locks it by the primary key only; see accounts/bump_orders_revision).
UPDATE accounts FORCE INDEX (PRIMARY) SET token = %s, session_needed = 0, updated_at = %s WHERE id = %s AND user_id = %s;
