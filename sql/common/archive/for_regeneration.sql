-- Step 8: the user's archived rejected entries of some accounts and strategies, below the attempt cap,
-- not yet regenerated. The cap repeats domain/limits.py's regeneration_allowed, which decides,
-- so that exhausted rows are not read every cycle.
-- Index: ix_archive_user_account_strategy; ux_regenerate_archived_order for NOT EXISTS.
SELECT a.id AS archived_order_id, a.user_id, a.account_id, a.strategy, a.symbol, a.exchange_segment,
    a.instrument_id, a.side, a.quantity, a.entry_type, a.entry_stop_price, a.entry_limit_price,
    a.sl_stop_price, a.tp_price, a.regeneration_attempt + 1 AS attempt, a.entry_orderstatus, a.archived_at
FROM orders_archive a
WHERE a.user_id = ?
    AND a.account_id IN (/*repeat*/?/*end*/)
    AND a.strategy IN (/*repeat*/?/*end*/)
    AND a.entry_orderstatus = 'Rejected'
    AND a.regeneration_attempt < ?
    AND NOT EXISTS (SELECT 1 FROM entry_regenerate r WHERE r.archived_order_id = a.id)
ORDER BY a.id;
