-- Read back the rows just created. Index: ux_regenerate_archived_order.
SELECT id, user_id, account_id, archived_order_id, strategy, symbol, exchange_segment, instrument_id,
    side, quantity, entry_type, entry_stop_price, entry_limit_price, sl_stop_price, tp_price, attempt,
    entry_orderstatus, status, new_order_id, failure_reason, created_at, updated_at
FROM entry_regenerate
WHERE user_id = ? AND archived_order_id IN (/*repeat*/?/*end*/)
ORDER BY id;
