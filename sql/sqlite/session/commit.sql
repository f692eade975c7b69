-- Commit the open transaction. No index.
COMMIT;
