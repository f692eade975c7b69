-- Write a new order's entry tag in the transaction that inserts it, before anything is sent (the tag is made
-- from the order id, known only after the INSERT). Index: primary key.
UPDATE orders SET entry_tag = ? WHERE id = ? AND user_id = ?;
