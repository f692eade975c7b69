-- Mark the account's orders changed; first statement of every transaction that writes them, after the fence.
-- Lock order (one on every path): the user's monitor_leases row (leases/check), then the account row by its
-- primary key (this statement or accounts/lock_owned), then the rows written. Index: primary key, forced: with
-- (user_id, ...) in ix_accounts_user_active the optimizer may lock that index's entry before the primary key,
-- crossing a transaction that took the primary key first (deadlock 1213).
UPDATE accounts FORCE INDEX (PRIMARY) SET orders_revision = orders_revision + 1 WHERE id = %s AND user_id = %s;
