-- Store a fresh session token, sealed, and clear session_needed (and any token left in clear from before
-- migration 010). Index: primary key, forced (every statement that locks an
-- account row locks it by the primary key only; see accounts/bump_orders_revision).
UPDATE accounts FORCE INDEX (PRIMARY) SET token_sealed = %s, token = '', session_needed = 0, updated_at = %s
WHERE id = %s AND user_id = %s;
