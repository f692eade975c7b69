-- Per-connection isolation, run once on each pooled connection before its first transaction: READ COMMITTED,
-- so that replacing one account's rows (DELETE by user/account, then INSERT) takes no gap locks and two
-- accounts replacing theirs at once cannot deadlock on the shared index ranges. Every cycle write is scoped
-- by user and account and checked by version, so it needs no repeatable snapshot. No index.
SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED
