-- Write fair prices (the desk's pricing or the demo market). Index: primary key (symbol).
INSERT INTO mainapp_fairprice (symbol, buy_fair_price, sell_fair_price, updated_at)
VALUES /*repeat*/(%s, %s, %s, %s)/*end*/
ON DUPLICATE KEY UPDATE
    buy_fair_price = VALUES(buy_fair_price),
    sell_fair_price = VALUES(sell_fair_price),
    updated_at = VALUES(updated_at);
