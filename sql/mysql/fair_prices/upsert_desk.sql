-- Write the desk's fair prices: they replace whatever is stored, the feed's included, and are marked `desk`.
-- Index: primary key (symbol).
INSERT INTO mainapp_fairprice (symbol, buy_fair_price, sell_fair_price, updated_at, source)
VALUES /*repeat*/(%s, %s, %s, %s, 'desk')/*end*/
ON DUPLICATE KEY UPDATE
    buy_fair_price = VALUES(buy_fair_price),
    sell_fair_price = VALUES(sell_fair_price),
    updated_at = VALUES(updated_at),
    source = 'desk';
