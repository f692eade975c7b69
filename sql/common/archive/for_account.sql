-- An account's archived orders. Index: ix_archive_user_account_strategy prefix.
SELECT {order_columns}, archive_reason, archived_at
FROM orders_archive
WHERE user_id = ? AND account_id = ?
ORDER BY id;
