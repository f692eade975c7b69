-- The user's lease as it stands, unlocked: who may place the user's orders (the API's replica check).
-- Index: primary key.
SELECT owner, fencing_token, expires_at FROM monitor_leases WHERE user_id = ?;
