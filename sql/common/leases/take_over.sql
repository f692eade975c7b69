-- Take a free lease (expired, released, never held, or held by a dead process of this host): new owner, next
-- fencing token. Index: primary key.
UPDATE monitor_leases SET owner = ?, fencing_token = fencing_token + 1, expires_at = ?
WHERE user_id = ? AND fencing_token = ?;
