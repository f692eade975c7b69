-- Take a free lease (expired, released, never held, or held by a dead process of this host): new owner, next
-- fencing token. Index: primary key.
UPDATE monitor_leases SET owner = %s, fencing_token = fencing_token + 1, expires_at = %s
WHERE user_id = %s AND fencing_token = %s;
