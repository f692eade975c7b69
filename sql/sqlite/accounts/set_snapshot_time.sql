-- Record when the account's snapshot was fetched, in the snapshot's transaction. Index: primary key.
UPDATE accounts SET snapshot_fetched_at = ? WHERE id = ? AND user_id = ?;
