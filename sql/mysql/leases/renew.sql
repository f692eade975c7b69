-- Extend a lease its owner still holds (same owner and token). Index: primary key.
UPDATE monitor_leases SET expires_at = %s WHERE user_id = %s AND owner = %s AND fencing_token = %s;
