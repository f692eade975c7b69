-- Some users' regeneration strategies. Index: primary key prefix (user_id).
SELECT user_id, strategy FROM entry_regenerate_permission WHERE user_id IN (/*repeat*/?/*end*/) ORDER BY user_id, strategy;
