-- Replicas: which service process monitors each user. A lease is held by one owner until expires_at and
-- is renewed while held; taking over an expired lease increments fencing_token, and every cycle write
-- checks the token of the lease it believes it holds, so a stale owner's writes are refused.
CREATE TABLE IF NOT EXISTS monitor_leases (
    user_id BIGINT NOT NULL,
    owner VARCHAR(128) NOT NULL,
    fencing_token BIGINT NOT NULL,
    expires_at DATETIME(6) NOT NULL,
    -- leases/check (FOR UPDATE, by every fenced write), leases/renew, leases/take_over, leases/release
    PRIMARY KEY (user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
