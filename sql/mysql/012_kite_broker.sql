-- Accounts of Zerodha Kite Connect (`kite`, adapters/broker/kite.py): the broker names the CHECK accepts are
-- the broker registry's (`adapters/broker/registry.py`), widened here; every existing row is in the new list.
-- One statement, so a migration stopped half-way leaves the old CHECK, and running it again is harmless.
ALTER TABLE accounts
    DROP CONSTRAINT ck_accounts_broker,
    ADD CONSTRAINT ck_accounts_broker CHECK (broker IN ('xts', 'paper', 'kite'));
