-- Keep in step with SQLite. A row written anew by the readiness check while writes are failing
-- (a full disk): a write of some size that commits says the database takes writes again.
CREATE TABLE write_probe (
    id      BIGINT PRIMARY KEY CHECK (id IN (1, 2)),
    at      TIMESTAMPTZ NOT NULL,
    filler  BYTEA NOT NULL
);
