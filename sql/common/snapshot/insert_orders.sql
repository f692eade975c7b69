-- Step 1: the account's fresh order book, one multi-row INSERT. Index: primary key (append).
INSERT INTO broker_order_book (
    user_id, account_id, ordinal, fetched_at,
    client_id, app_order_id, exchange_order_id, exchange_segment, instrument_id, symbol, side,
    order_type, product_type, time_in_force, quantity, limit_price, stop_price, status, filled_qty,
    leaves_qty, avg_price, created_at, updated_at, reject_reason, tag
) VALUES /*repeat*/(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)/*end*/;
