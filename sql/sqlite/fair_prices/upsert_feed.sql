-- Write the market-data feed's fair prices, marked `feed`, except over a desk's: a row whose source is `desk` is
-- left as it is. Index: primary key (symbol).
INSERT INTO mainapp_fairprice (symbol, buy_fair_price, sell_fair_price, updated_at, source)
VALUES /*repeat*/(?, ?, ?, ?, 'feed')/*end*/
ON CONFLICT (symbol) DO UPDATE SET
    buy_fair_price = excluded.buy_fair_price,
    sell_fair_price = excluded.sell_fair_price,
    updated_at = excluded.updated_at
WHERE source <> 'desk';
