-- Write fair prices (the desk's pricing or the demo market). Index: primary key (symbol).
INSERT INTO mainapp_fairprice (symbol, buy_fair_price, sell_fair_price, updated_at)
VALUES /*repeat*/(?, ?, ?, ?)/*end*/
ON CONFLICT (symbol) DO UPDATE SET
    buy_fair_price = excluded.buy_fair_price,
    sell_fair_price = excluded.sell_fair_price,
    updated_at = excluded.updated_at;
