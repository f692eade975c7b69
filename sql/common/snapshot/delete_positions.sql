-- Step 1: drop the account's previous positions. Index: ix_position_account.
DELETE FROM broker_position WHERE account_id = ? AND user_id = ?;
