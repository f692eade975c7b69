-- The first lease of a user: fencing token 1. Index: primary key (a concurrent insert fails on it).
INSERT INTO monitor_leases (user_id, owner, fencing_token, expires_at) VALUES (%s, %s, 1, %s);
