-- Every column of an order (`orders` and `orders_archive` both hold them), for what reads or copies one whole.
id, user_id, account_id, strategy, symbol, exchange_segment, instrument_id, side, quantity,
    entry_type, entry_stop_price, entry_limit_price, entry_order_id, entry_tag, entry_orderstatus,
    filled_qty, avg_entry_price, entry_modifications,
    sl_stop_price, sl_order_id, sl_tag, sl_orderstatus, sl_qty,
    tp_price, tp_order_id, tp_tag, tp_orderstatus, tp_qty,
    status, exit_price, realized_pnl, unrealized_pnl, ltp, reject_reason,
    regenerated_from, regeneration_attempt, version, created_at, updated_at, legs_changed_at,
    sl_rejections, tp_rejections, exit_fills
