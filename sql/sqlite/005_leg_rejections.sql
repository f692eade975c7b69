-- Rejections of each exit leg's attempts (see the MySQL migration).
ALTER TABLE orders ADD COLUMN sl_rejections INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN tp_rejections INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orders_archive ADD COLUMN sl_rejections INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orders_archive ADD COLUMN tp_rejections INTEGER NOT NULL DEFAULT 0;
