-- Store a fresh session token and clear session_needed. Index: primary key.
UPDATE accounts SET token = %s, session_needed = 0, updated_at = %s WHERE id = %s AND user_id = %s;
