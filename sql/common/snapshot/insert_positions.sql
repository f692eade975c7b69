-- Step 1: the account's fresh positions, one multi-row INSERT. Index: primary key (append).
INSERT INTO broker_position (
    user_id, account_id, ordinal, fetched_at,
    client_id, symbol, exchange_segment, instrument_id, product_type, net_qty, buy_avg_price,
    sell_avg_price, open_buy_qty, open_sell_qty, net_amount, mtm, realized_mtm, unrealized_mtm, multiplier
) VALUES /*repeat*/(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)/*end*/;
