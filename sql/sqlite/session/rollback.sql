-- Roll back the open transaction. No index.
ROLLBACK;
