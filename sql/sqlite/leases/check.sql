-- The user's lease, locked for the transaction. Index: primary key.
SELECT owner, fencing_token, expires_at FROM monitor_leases WHERE user_id = ?;
