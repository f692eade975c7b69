-- Remove archived orders of one account. Index: primary key (ids), user/account re-checked on the row.
DELETE FROM orders WHERE user_id = %s AND account_id = %s AND id IN (/*repeat*/%s/*end*/);
