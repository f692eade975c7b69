-- Clear the user's regeneration strategies. Index: primary key prefix (user_id).
DELETE FROM entry_regenerate_permission WHERE user_id = ?;
