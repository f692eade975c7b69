-- Step 2: drop the FIFO rows that changed since the last computation (never TRUNCATE: shared table). Index: ix_live_history_user_account.
DELETE FROM bo_live_history WHERE user_id = ? AND account_id = ? AND ordinal IN (/*repeat*/?/*end*/);
