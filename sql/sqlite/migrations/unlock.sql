-- Release the migrators' lock. No index.
SELECT 1 AS released;
