-- Each event's place in its user's hash chain (adapters/store/event_chain.py): SHA-256 over the previous event's
-- hash and the row's canonical bytes, in hex. NULL: written before the chain existed. `run.py audit` checks it.
ALTER TABLE monitor_events ADD COLUMN hash CHAR(64) NULL;
