-- Copy one order, whole, into orders_archive with the reason. Index: primary key on both tables.
INSERT INTO orders_archive ({order_columns}, archive_reason, archived_at)
SELECT {order_columns}, ?, ?
FROM orders
WHERE id = ? AND user_id = ? AND account_id = ?;
