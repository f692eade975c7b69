-- Check that the account is the user's and lock it for the transaction (serialises snapshot replaces). Taken
-- right after the fence, before any other row: the lock order of accounts/bump_orders_revision. Index:
-- primary key (a const lookup: only the primary key entry is locked).
SELECT id FROM accounts WHERE id = %s AND user_id = %s FOR UPDATE;
