-- Per-connection settings (aiomysql init_command): UTC for DATETIME(6) defaults and NOW(), and a strict
-- sql_mode so a bad value is an error, never a silent truncation, on MySQL 8 and MariaDB alike; notes
-- (such as "table already exists" from a re-run migration) are not reported, warnings still are. A lock
-- waited for 10 s is reported as error 1205, so the store re-runs the whole transaction, instead of the
-- statement outliving the store's 30 s deadline (an ambiguous failure that is never re-run). On MariaDB (the
-- /*M! ... */ part; MySQL reads it as a comment) a transaction left idle for 2 s is rolled back and its
-- connection closed by the server: a replica cut off from the database mid-transaction (a partition, which the
-- server does not see) would otherwise keep the locks it took, its users' lease rows among them (every fenced
-- write locks the row), and no other replica could take those users over until the path came back. The
-- service's transactions send their statements back to back; one idle that long has lost its replica. No index.
SET time_zone = '+00:00',
    sql_notes = 0,
    innodb_lock_wait_timeout = 10,
    sql_mode = 'STRICT_ALL_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ZERO_DATE,NO_ZERO_IN_DATE,NO_ENGINE_SUBSTITUTION'
    /*M!100300 , idle_transaction_timeout = 2 */;
