-- The user's regeneration strategies. Index: primary key prefix (user_id).
SELECT strategy FROM entry_regenerate_permission WHERE user_id = ? ORDER BY strategy;
