-- Keep in step with SQLite. A check value for each of the installation's keys (an HMAC of a
-- fixed label under the key, never the key), by version, so a server given the wrong keys
-- refuses to start instead of making new ones (marac_domain::keys).
CREATE TABLE key_checks (
    purpose     TEXT NOT NULL CHECK (purpose IN ('session', 'encryption', 'audit')),
    key_id      BIGINT NOT NULL CHECK (key_id >= 1),
    check_value TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (purpose, key_id)
);
