-- The kind of the error of each account's last failed fetch (an ErrorKind value: `configuration` when the
-- account's broker settings are wrong), written with `fetch_error` and cleared with it. NULL: its last fetch
-- succeeded, none was tried, or it failed before the kind was kept. The dashboard's account strip reads it.
ALTER TABLE accounts ADD COLUMN fetch_error_kind VARCHAR(32) NULL;
