-- Set (or clear, with NULL) the user's daily loss limit. Index: primary key.
UPDATE users SET daily_loss_limit = ? WHERE id = ?;
