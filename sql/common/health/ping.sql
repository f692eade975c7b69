-- Readiness: the database answers a trivial statement. No table, no index.
SELECT 1 AS ok;
