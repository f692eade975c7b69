-- The account's positions in fetch order. Index: ix_position_account.
SELECT client_id, symbol, exchange_segment, instrument_id, product_type, net_qty, buy_avg_price,
    sell_avg_price, open_buy_qty, open_sell_qty, net_amount, mtm, realized_mtm, unrealized_mtm, multiplier
FROM broker_position
WHERE account_id = ? AND user_id = ?
ORDER BY ordinal;
