-- Keep in step with PostgreSQL. A request that may be sent twice (an API call with an
-- Idempotency-Key, a form with a one-use token) is claimed here before its work starts; the
-- work's own transaction records what it made (outcome), and the response is kept (sealed) so a
-- second sending gets the first answer and makes nothing new. Rows live 24 hours.
CREATE TABLE idempotency_keys (
    scope           TEXT PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users (id),
    fingerprint     TEXT NOT NULL,
    request_id      TEXT NOT NULL,
    lease_until     TEXT NOT NULL,
    outcome         TEXT,
    status          INTEGER,
    response_sealed TEXT,
    created_at      TEXT NOT NULL
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
