-- Step 9: the account's rows still to place (not yet claimed by an order). Index: ix_regenerate_user_account_status.
SELECT id, user_id, account_id, archived_order_id, strategy, symbol, exchange_segment, instrument_id,
    side, quantity, entry_type, entry_stop_price, entry_limit_price, sl_stop_price, tp_price, attempt,
    entry_orderstatus, status, new_order_id, failure_reason, created_at, updated_at
FROM entry_regenerate
WHERE user_id = ? AND account_id = ? AND status IS NULL AND new_order_id IS NULL
    AND entry_orderstatus = 'Rejected'
ORDER BY id;
