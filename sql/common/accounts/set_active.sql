-- Enable or disable an account: a disabled account is left out of every cycle and refused by the batch API.
-- Index: primary key.
UPDATE accounts SET active = ?, updated_at = ? WHERE id = ?;
