-- Store a fresh session token and clear session_needed. Index: primary key.
UPDATE accounts SET token = ?, session_needed = 0, updated_at = ? WHERE id = ? AND user_id = ?;
