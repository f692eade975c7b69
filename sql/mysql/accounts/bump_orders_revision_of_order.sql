-- Mark the orders of the account that holds one order changed (the write that follows names only the order).
-- Takes the account row lock before the order's (the lock order of accounts/bump_orders_revision; under READ
-- COMMITTED the subquery reads the order without locking it). Index: primary keys, the account's forced.
UPDATE accounts FORCE INDEX (PRIMARY) SET orders_revision = orders_revision + 1
WHERE id = (SELECT account_id FROM orders WHERE id = %s AND user_id = %s) AND user_id = %s;
