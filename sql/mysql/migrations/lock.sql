-- Serialise concurrent migrators. SQLite: the transaction's BEGIN IMMEDIATE already holds the write lock. No index.
SELECT GET_LOCK('monitor_loop_migrate', 60) AS locked;
