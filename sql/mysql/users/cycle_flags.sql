-- The kill switch a cycle reads. Index: primary key.
SELECT paused, pause_reason FROM users WHERE id = %s;
