-- Each account's fetch streak (see the MySQL migration).
ALTER TABLE accounts ADD COLUMN fetch_failing_since UTCTEXT NULL;
ALTER TABLE accounts ADD COLUMN fetch_error TEXT NULL;
