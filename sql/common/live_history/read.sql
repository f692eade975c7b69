-- The account's FIFO rows in computed order. Index: ix_live_history_user_account.
SELECT computed_at, kind, symbol, direction, qty, entry_order_id, exit_order_id, entry_price, exit_price,
    realized_pnl, mark, unrealized_pnl
FROM bo_live_history
WHERE user_id = ? AND account_id = ?
ORDER BY ordinal;
