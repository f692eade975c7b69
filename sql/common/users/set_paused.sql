-- Turn the user's kill switch on or off. Index: primary key.
UPDATE users SET paused = ?, pause_reason = ? WHERE id = ?;
