-- The token hashes of those of some users that are active: a connection whose user is missing here, or
-- whose token hashes to another value, has lost its access. Index: primary key.
SELECT id, token_hash FROM users WHERE active = 1 AND id IN (/*repeat*/?/*end*/);
