-- A counter per account bumped in the same transaction as every write to the account's orders: a process
-- that keeps the orders it read re-reads them only when the counter moved, whichever process wrote.
ALTER TABLE accounts ADD COLUMN orders_revision INTEGER NOT NULL DEFAULT 0;
