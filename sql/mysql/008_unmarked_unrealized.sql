-- A running trade with no fresh fair price (or no average entry price yet) is unmarked, not worth 0: its
-- `unrealized_pnl` is NULL then, in `orders` and in the `orders_archive` rows copied from it. Re-runnable:
-- MODIFY states the whole column each time.
ALTER TABLE orders MODIFY unrealized_pnl DECIMAL(18,4) NULL DEFAULT 0;
ALTER TABLE orders_archive MODIFY unrealized_pnl DECIMAL(18,4) NULL;
