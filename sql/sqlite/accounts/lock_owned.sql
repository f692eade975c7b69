-- Check that the account is the user's and lock it for the transaction (serialises snapshot replaces). Index: primary key.
SELECT id FROM accounts WHERE id = ? AND user_id = ?;
