-- Write the market-data feed's fair prices, marked `feed`, except over a desk's: a row whose source is `desk`
-- keeps every column (the assignments read the stored source, which none of them changes). Index: primary key
-- (symbol).
INSERT INTO mainapp_fairprice (symbol, buy_fair_price, sell_fair_price, updated_at, source)
VALUES /*repeat*/(%s, %s, %s, %s, 'feed')/*end*/
ON DUPLICATE KEY UPDATE
    buy_fair_price = IF(source = 'desk', buy_fair_price, VALUES(buy_fair_price)),
    sell_fair_price = IF(source = 'desk', sell_fair_price, VALUES(sell_fair_price)),
    updated_at = IF(source = 'desk', updated_at, VALUES(updated_at));
