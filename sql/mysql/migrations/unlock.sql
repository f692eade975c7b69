-- Release the migrators' lock. No index.
SELECT RELEASE_LOCK('monitor_loop_migrate') AS released;
