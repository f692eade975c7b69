-- The user's orders on some accounts (Step 3 and later steps). Index: ix_orders_user_account_status.
SELECT {order_columns}
FROM orders
WHERE user_id = ? AND account_id IN (/*repeat*/?/*end*/)
ORDER BY id;
