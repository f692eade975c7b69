-- The orders of one account about to be archived, locked. Index: ix_orders_user_account_status prefix, then primary key.
SELECT {order_columns}
FROM orders
WHERE user_id = ? AND account_id = ? AND id IN (/*repeat*/?/*end*/)
ORDER BY id;
