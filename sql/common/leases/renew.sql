-- Extend a lease its owner still holds (same owner and token). Index: primary key.
UPDATE monitor_leases SET expires_at = ? WHERE user_id = ? AND owner = ? AND fencing_token = ?;
