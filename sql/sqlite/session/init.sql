-- Per-connection settings: WAL (readers never block the writer), foreign keys enforced, every commit
-- synced (durability over speed: the event log's flush() promises it), wait up to 5 s for another
-- process's write lock. No index.
PRAGMA journal_mode = WAL;
PRAGMA foreign_keys = ON;
PRAGMA synchronous = FULL;
PRAGMA busy_timeout = 5000;
