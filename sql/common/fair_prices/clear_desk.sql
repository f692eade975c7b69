-- Hand a symbol back to the feed: remove the desk's price of it (a feed's price is left). Index: primary key
-- (symbol).
DELETE FROM mainapp_fairprice WHERE symbol = ? AND source = 'desk';
