-- The user's lease, locked for the transaction (a takeover waits for a fenced write to finish). Index: primary key.
SELECT owner, fencing_token, expires_at FROM monitor_leases WHERE user_id = %s FOR UPDATE;
