-- Keep in step with PostgreSQL. A check value for each of the installation's keys (an HMAC of
-- a fixed label under the key, never the key), by version, so a server given the wrong keys
-- refuses to start instead of making new ones (marac_domain::keys).
CREATE TABLE key_checks (
    purpose     TEXT NOT NULL CHECK (purpose IN ('session', 'encryption', 'audit')),
    key_id      INTEGER NOT NULL CHECK (key_id >= 1),
    check_value TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (purpose, key_id)
);
