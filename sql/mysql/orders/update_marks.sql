-- Optimistic update of many orders' marks (ltp, unrealized_pnl) in one statement: each row is (id, expected
-- version, set ltp?, ltp, set unrealized_pnl?, unrealized_pnl, updated_at); a row whose version moved is not
-- updated, so the caller compares the count with its rows. Index: primary key (the joined ids).
UPDATE orders AS o
JOIN (
    WITH marks (id, expected_version, set_ltp, ltp, set_unrealized, unrealized, updated_at)
    AS (VALUES /*repeat*/(%s, %s, %s, %s, %s, %s, %s)/*end*/)
    SELECT * FROM marks
) AS m ON o.id = m.id AND o.version = m.expected_version
SET o.ltp = CASE WHEN m.set_ltp THEN m.ltp ELSE o.ltp END,
    o.unrealized_pnl = CASE WHEN m.set_unrealized THEN m.unrealized ELSE o.unrealized_pnl END,
    o.version = o.version + 1,
    o.updated_at = m.updated_at
WHERE o.user_id = %s AND o.account_id = %s;
