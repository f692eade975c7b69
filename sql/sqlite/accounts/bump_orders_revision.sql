-- Mark the account's orders changed; first statement of every transaction that writes them (locks the account row first). Index: primary key.
UPDATE accounts SET orders_revision = orders_revision + 1 WHERE id = ? AND user_id = ?;
