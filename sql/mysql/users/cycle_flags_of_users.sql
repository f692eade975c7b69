-- The kill switch and the daily loss limit of some users, for their cycles' contexts. Index: primary key.
SELECT id, paused, pause_reason, daily_loss_limit FROM users WHERE id IN (/*repeat*/%s/*end*/);
