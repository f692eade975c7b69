-- The kill switch and the daily loss limit a cycle reads. Index: primary key.
SELECT paused, pause_reason, daily_loss_limit FROM users WHERE id = ?;
