-- Fair prices of some symbols, with the source that wrote each. Index: primary key (symbol).
SELECT symbol, buy_fair_price, sell_fair_price, updated_at, source
FROM mainapp_fairprice
WHERE symbol IN (/*repeat*/?/*end*/);
