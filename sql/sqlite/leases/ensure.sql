-- Make sure the user has a lease row, free (owner '', token 0, expired at the epoch), so that taking the
-- first lease is the same conditional take-over as any other and never meets a duplicate key.
-- Index: primary key.
INSERT INTO monitor_leases (user_id, owner, fencing_token, expires_at) VALUES (?, '', 0, ?)
ON CONFLICT (user_id) DO NOTHING;
