-- Grant regeneration for some strategies, one row each. Index: primary key (user_id, strategy).
INSERT INTO entry_regenerate_permission (user_id, strategy) VALUES /*repeat*/(?, ?)/*end*/;
