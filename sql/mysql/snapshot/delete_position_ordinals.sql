-- Step 1: drop the position rows that changed since the last fetch, by position. Index: ix_position_account.
DELETE FROM broker_position WHERE account_id = %s AND user_id = %s AND ordinal IN (/*repeat*/%s/*end*/);
