-- Each event's place in its user's hash chain (see the MySQL migration).
ALTER TABLE monitor_events ADD COLUMN hash TEXT NULL CHECK (length(hash) = 64);
