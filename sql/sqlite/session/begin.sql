-- Start a transaction holding the write lock from the start (no lock upgrade deadlocks). No index.
BEGIN IMMEDIATE;
