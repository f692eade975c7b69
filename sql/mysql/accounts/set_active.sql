-- Enable or disable an account: a disabled account is left out of every cycle and refused by the batch API.
-- Index: primary key.
UPDATE accounts SET active = %s, updated_at = %s WHERE id = %s;
