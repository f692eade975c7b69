-- Mark the orders of the account that holds one order changed (the write that follows names only the order). Index: primary keys.
UPDATE accounts SET orders_revision = orders_revision + 1
WHERE id = (SELECT account_id FROM orders WHERE id = %s AND user_id = %s) AND user_id = %s;
