-- One order of a user. Index: primary key.
SELECT {order_columns}
FROM orders
WHERE id = ? AND user_id = ?;
