-- Step 2: the account's FIFO matches and open lots, one multi-row INSERT. Index: primary key (append).
INSERT INTO bo_live_history (
    user_id, account_id, ordinal, computed_at,
    kind, symbol, direction, qty, entry_order_id, exit_order_id, entry_price, exit_price,
    realized_pnl, mark, unrealized_pnl
) VALUES /*repeat*/(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)/*end*/;
