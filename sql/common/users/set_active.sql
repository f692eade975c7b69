-- Enable or disable a user (a disabled user's token is refused and its open sockets are closed).
-- Index: primary key.
UPDATE users SET active = ? WHERE id = ?;
