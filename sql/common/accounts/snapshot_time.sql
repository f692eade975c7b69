-- When the account's broker snapshot was last fetched (Step 4 compares it with legs' changes). Index: primary key.
SELECT snapshot_fetched_at FROM accounts WHERE id = ? AND user_id = ?;
