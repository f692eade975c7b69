-- The orders of one account about to be archived, locked. Index: ix_orders_user_account_status prefix, then primary key.
SELECT {order_columns}
FROM orders
WHERE user_id = %s AND account_id = %s AND id IN (/*repeat*/%s/*end*/)
ORDER BY id
FOR UPDATE;
