-- Readiness: the distinct broker base URLs of active accounts, to check each broker can be reached.
-- A full scan of accounts (small table; runs only on /readyz).
SELECT DISTINCT base_url FROM accounts WHERE active = 1 ORDER BY base_url;
