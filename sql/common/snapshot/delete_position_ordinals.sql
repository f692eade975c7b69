-- Step 1: drop the position rows that changed since the last fetch, by position. Index: ix_position_account.
DELETE FROM broker_position WHERE account_id = ? AND user_id = ? AND ordinal IN (/*repeat*/?/*end*/);
