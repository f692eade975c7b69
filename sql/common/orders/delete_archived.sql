-- Remove archived orders of one account. Index: primary key (ids), user/account re-checked on the row.
DELETE FROM orders WHERE user_id = ? AND account_id = ? AND id IN (/*repeat*/?/*end*/);
