-- Add a broker account to a user. Index: ux_accounts_user_broker_client enforces one row per client id.
INSERT INTO accounts (user_id, broker, base_url, client_id, app_key, secret_key, created_at, updated_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s);
