-- Store a fresh session token, sealed, and clear session_needed (and any token left in clear from before
-- migration 010). Index: primary key.
UPDATE accounts SET token_sealed = ?, token = '', session_needed = 0, updated_at = ?
WHERE id = ? AND user_id = ?;
