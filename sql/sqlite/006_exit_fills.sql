-- Every exit fill an order has counted (see the MySQL migration).
ALTER TABLE orders ADD COLUMN exit_fills TEXT NOT NULL DEFAULT '[]';
ALTER TABLE orders_archive ADD COLUMN exit_fills TEXT NOT NULL DEFAULT '[]';
