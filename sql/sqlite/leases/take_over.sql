-- Take an expired lease (or a lease this owner lost track of): new owner, next fencing token. Index: primary key.
UPDATE monitor_leases SET owner = ?, fencing_token = fencing_token + 1, expires_at = ?
WHERE user_id = ? AND fencing_token = ?;
