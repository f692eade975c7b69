-- The account's order book in fetch order. Index: ix_order_book_account.
SELECT client_id, app_order_id, exchange_order_id, exchange_segment, instrument_id, symbol, side,
    order_type, product_type, time_in_force, quantity, limit_price, stop_price, status, filled_qty,
    leaves_qty, avg_price, created_at, updated_at, reject_reason, tag
FROM broker_order_book
WHERE account_id = ? AND user_id = ?
ORDER BY ordinal;
