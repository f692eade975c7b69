-- Every exit fill an order has counted, one per broker row of its SL and TP attempts: JSON
-- `[{"app_order_id", "qty", "avg_price"}]`. A broker's order book lists the day's orders only, so the
-- exits of earlier days are read from here. Rows from before this migration start with no record.
ALTER TABLE orders ADD COLUMN exit_fills TEXT NOT NULL DEFAULT ('[]');
ALTER TABLE orders_archive ADD COLUMN exit_fills TEXT NOT NULL DEFAULT ('[]');
