-- Insert a new order (the caller has locked its account with accounts/lock_owned). The columns are OrderRow's
-- fields in their order, id left out (tests/storage/test_sql_loader.py checks it). Index: primary key.
INSERT INTO orders (
    strategy, symbol, exchange_segment, instrument_id, side, quantity, entry_type, entry_stop_price,
    entry_limit_price, sl_stop_price, tp_price, user_id, account_id, entry_order_id, entry_tag,
    entry_orderstatus, filled_qty, avg_entry_price, entry_modifications, sl_order_id, sl_tag, sl_orderstatus,
    sl_qty, tp_order_id, tp_tag, tp_orderstatus, tp_qty, status, exit_price, realized_pnl, unrealized_pnl,
    ltp, reject_reason, regenerated_from, regeneration_attempt, version, created_at, updated_at,
    legs_changed_at, sl_rejections, tp_rejections, exit_fills
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);
