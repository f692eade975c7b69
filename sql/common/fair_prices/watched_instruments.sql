-- The instruments the fair-price feed watches: those of the open orders and the non-flat positions of the given
-- users' active accounts of the given brokers, each once. Indexes: ix_accounts_user_active, then
-- ix_orders_user_account_status and ix_position_account.
SELECT o.exchange_segment, o.instrument_id, o.symbol
FROM accounts a JOIN orders o ON o.user_id = a.user_id AND o.account_id = a.id
WHERE a.user_id IN (/*repeat*/?/*end*/) AND a.active = 1 AND a.broker IN (/*repeat*/?/*end*/)
    AND o.status IN ('PENDING', 'ENTRY_OPEN', 'RUNNING')
UNION
SELECT p.exchange_segment, p.instrument_id, p.symbol
FROM accounts a JOIN broker_position p ON p.account_id = a.id AND p.user_id = a.user_id
WHERE a.user_id IN (/*repeat*/?/*end*/) AND a.active = 1 AND a.broker IN (/*repeat*/?/*end*/)
    AND p.net_qty <> 0;
