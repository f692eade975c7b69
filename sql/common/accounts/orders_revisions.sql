-- Some accounts' orders revisions with the user each belongs to, to tell which kept orders are still current. Index: primary key.
SELECT id, user_id, orders_revision FROM accounts WHERE id IN (/*repeat*/?/*end*/);
