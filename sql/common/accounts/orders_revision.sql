-- The account's orders revision inside the transaction that just bumped it: whether the orders kept by this
-- process were current before the bump (then they were revision - 1). Index: primary key.
SELECT orders_revision FROM accounts WHERE id = ? AND user_id = ?;
