-- Step 1: drop the account's previous order book. Index: ix_order_book_account.
DELETE FROM broker_order_book WHERE account_id = ? AND user_id = ?;
