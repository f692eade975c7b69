-- New entry_regenerate rows, one multi-row INSERT. Index: ux_regenerate_archived_order rejects a second regeneration.
INSERT INTO entry_regenerate (
    user_id, account_id, archived_order_id, strategy, symbol, exchange_segment, instrument_id,
    side, quantity, entry_type, entry_stop_price, entry_limit_price, sl_stop_price, tp_price, attempt,
    entry_orderstatus, created_at, updated_at
) VALUES /*repeat*/(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)/*end*/;
