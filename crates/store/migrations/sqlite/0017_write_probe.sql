-- Keep in step with PostgreSQL. A row written anew by the readiness check while writes are
-- failing (a full disk): a write of some size that commits says the database takes writes again.
CREATE TABLE write_probe (
    id      INTEGER PRIMARY KEY CHECK (id IN (1, 2)),
    at      TEXT NOT NULL,
    filler  BLOB NOT NULL
);
