-- Serialise concurrent migrators. SQLite: the transaction's BEGIN IMMEDIATE already holds the write lock. No index.
SELECT 1 AS locked;
