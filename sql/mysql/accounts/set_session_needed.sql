-- Mark the account as needing a new broker session. Index: primary key, forced (every statement that locks an
-- account row locks it by the primary key only; see accounts/bump_orders_revision).
UPDATE accounts FORCE INDEX (PRIMARY) SET session_needed = 1, updated_at = %s WHERE id = %s AND user_id = %s;
