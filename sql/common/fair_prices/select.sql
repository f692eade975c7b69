-- Fair prices of some symbols. Index: primary key (symbol).
SELECT symbol, buy_fair_price, sell_fair_price, updated_at
FROM mainapp_fairprice
WHERE symbol IN (/*repeat*/?/*end*/);
