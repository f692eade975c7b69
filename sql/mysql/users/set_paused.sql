-- Turn the user's kill switch on or off. Index: primary key.
UPDATE users SET paused = %s, pause_reason = %s WHERE id = %s;
