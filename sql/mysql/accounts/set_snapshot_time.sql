-- Record when the account's snapshot was fetched, in the snapshot's transaction. Index: primary key, forced
-- (every statement that locks an account row locks it by the primary key only; see accounts/bump_orders_revision).
UPDATE accounts FORCE INDEX (PRIMARY) SET snapshot_fetched_at = %s WHERE id = %s AND user_id = %s;
