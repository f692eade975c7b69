-- Each account's fetch streak, written on transitions only (the first failure of a streak, a new error
-- message, the first success after failures): since when its fetches fail and the last error. NULL: its
-- last fetch succeeded (or none was tried). The dashboard's account strip reads them.
ALTER TABLE accounts ADD COLUMN fetch_failing_since DATETIME(6) NULL;
ALTER TABLE accounts ADD COLUMN fetch_error VARCHAR(255) NULL;
