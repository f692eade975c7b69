-- When an order's legs last changed (an intent, an answer), and when each account's broker snapshot was
-- fetched: Step 4 judges a leg missing from the order book only when the book was fetched after the leg's
-- last change and, for a request still in flight, long enough after it that the request cannot still land.
ALTER TABLE orders ADD COLUMN legs_changed_at DATETIME(6) NULL;
ALTER TABLE orders_archive ADD COLUMN legs_changed_at DATETIME(6) NULL;
ALTER TABLE accounts ADD COLUMN snapshot_fetched_at DATETIME(6) NULL;
