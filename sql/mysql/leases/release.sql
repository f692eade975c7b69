-- Give a lease up (the user's last client left this replica), if still held. Index: primary key.
DELETE FROM monitor_leases WHERE user_id = %s AND owner = %s AND fencing_token = %s;
