-- Step 2: drop the account's previous FIFO rows (never TRUNCATE: shared table). Index: ix_live_history_user_account.
DELETE FROM bo_live_history WHERE user_id = ? AND account_id = ?;
