-- Give a lease up (the user's last client left this replica), if still held: it expires at once (at the
-- epoch, whatever the clocks), and the row stays so that the next holder's fencing token is a new one:
-- a replica that held the lease before can tell that someone may have written since. Index: primary key.
UPDATE monitor_leases SET expires_at = ? WHERE user_id = ? AND owner = ? AND fencing_token = ?;
