-- Optimistic update of many orders' marks (ltp, unrealized_pnl) in one statement: each row is (id, expected
-- version, set ltp?, ltp, set unrealized_pnl?, unrealized_pnl, updated_at); a row whose version moved is not
-- updated, so the caller compares the count with its rows. It opens with UPDATE, not WITH, so that the driver
-- counts the rows it changed. Index: primary key (the joined ids).
UPDATE orders
SET ltp = CASE WHEN marks.set_ltp THEN marks.ltp ELSE orders.ltp END,
    unrealized_pnl = CASE WHEN marks.set_unrealized THEN marks.unrealized ELSE orders.unrealized_pnl END,
    version = orders.version + 1,
    updated_at = marks.updated_at
FROM (
    SELECT column1 AS id, column2 AS expected_version, column3 AS set_ltp, column4 AS ltp,
           column5 AS set_unrealized, column6 AS unrealized, column7 AS updated_at
    FROM (VALUES /*repeat*/(?, ?, ?, ?, ?, ?, ?)/*end*/)
) AS marks
WHERE orders.id = marks.id AND orders.version = marks.expected_version
    AND orders.user_id = ? AND orders.account_id = ?;
