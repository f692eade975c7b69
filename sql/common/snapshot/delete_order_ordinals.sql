-- Step 1: drop the order-book rows that changed since the last fetch, by position. Index: ix_order_book_account.
DELETE FROM broker_order_book WHERE account_id = ? AND user_id = ? AND ordinal IN (/*repeat*/?/*end*/);
