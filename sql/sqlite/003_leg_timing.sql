-- When an order's legs last changed and when each account's snapshot was fetched (see the MySQL migration).
ALTER TABLE orders ADD COLUMN legs_changed_at UTCTEXT NULL;
ALTER TABLE orders_archive ADD COLUMN legs_changed_at UTCTEXT NULL;
ALTER TABLE accounts ADD COLUMN snapshot_fetched_at UTCTEXT NULL;
