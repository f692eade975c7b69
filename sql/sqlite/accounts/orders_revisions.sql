-- Each account's orders revision, to tell which kept orders are still current. Index: ix_accounts_user_active prefix (user_id), then primary key.
SELECT id, orders_revision FROM accounts WHERE user_id = ? AND id IN (/*repeat*/?/*end*/);
