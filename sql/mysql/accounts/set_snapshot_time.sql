-- Record when the account's snapshot was fetched, in the snapshot's transaction. Index: primary key.
UPDATE accounts SET snapshot_fetched_at = %s WHERE id = %s AND user_id = %s;
