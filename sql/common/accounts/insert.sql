-- Add a broker account to a user, its keys left empty (accounts/set_secrets seals them once the id is known).
-- Index: ux_accounts_user_broker_client enforces one row per client id.
INSERT INTO accounts (user_id, broker, base_url, client_id, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?);
