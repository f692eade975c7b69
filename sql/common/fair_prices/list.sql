-- Every fair price, by symbol (`run.py fair-prices list`). Index: primary key (symbol).
SELECT symbol, buy_fair_price, sell_fair_price, updated_at, source
FROM mainapp_fairprice
ORDER BY symbol;
