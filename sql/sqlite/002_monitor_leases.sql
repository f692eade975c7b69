-- Replicas: which service process monitors each user (see the MySQL migration of the same number).
CREATE TABLE IF NOT EXISTS monitor_leases (
    user_id INTEGER NOT NULL PRIMARY KEY,
    owner TEXT NOT NULL CHECK (length(owner) <= 128),
    fencing_token INTEGER NOT NULL,
    expires_at UTCTEXT NOT NULL
);
