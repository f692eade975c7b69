-- How many of each exit leg's attempts the broker rejected (in the order book or when it was placed): only
-- rejections use up `max_leg_attempts`; an attempt that expired, was cancelled or dropped does not.
ALTER TABLE orders ADD COLUMN sl_rejections INT NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN tp_rejections INT NOT NULL DEFAULT 0;
ALTER TABLE orders_archive ADD COLUMN sl_rejections INT NOT NULL DEFAULT 0;
ALTER TABLE orders_archive ADD COLUMN tp_rejections INT NOT NULL DEFAULT 0;
