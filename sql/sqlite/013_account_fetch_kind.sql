-- The kind of the error of each account's last failed fetch (see the MySQL migration).
ALTER TABLE accounts ADD COLUMN fetch_error_kind TEXT NULL;
