-- Write the desk's fair prices: they replace whatever is stored, the feed's included, and are marked `desk`.
-- Index: primary key (symbol).
INSERT INTO mainapp_fairprice (symbol, buy_fair_price, sell_fair_price, updated_at, source)
VALUES /*repeat*/(?, ?, ?, ?, 'desk')/*end*/
ON CONFLICT (symbol) DO UPDATE SET
    buy_fair_price = excluded.buy_fair_price,
    sell_fair_price = excluded.sell_fair_price,
    updated_at = excluded.updated_at,
    source = 'desk';
