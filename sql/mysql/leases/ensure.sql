-- Make sure the user has a lease row, free (owner '', token 0, expired at the epoch), so that taking the
-- first lease is the same conditional take-over as any other: replicas or connections racing for a user
-- never see a duplicate key (1062); a second insert waits on the first's row, then updates nothing.
-- Index: primary key.
INSERT INTO monitor_leases (user_id, owner, fencing_token, expires_at) VALUES (%s, '', 0, %s)
ON DUPLICATE KEY UPDATE user_id = user_id;
