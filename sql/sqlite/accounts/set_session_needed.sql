-- Mark the account as needing a new broker session. Index: primary key.
UPDATE accounts SET session_needed = 1, updated_at = ? WHERE id = ? AND user_id = ?;
