-- Notifications: the in-application inbox and the e-mail outbox (SQLite).
-- Keep in step with PostgreSQL. Neither table holds case detail: a notice is a kind and a link.
CREATE TABLE notices (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id),
    kind        TEXT NOT NULL,
    link        TEXT NOT NULL,
    -- The event this notice is about; the same event never notifies the same person twice.
    dedupe_key  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    read_at     TEXT,
    UNIQUE (user_id, dedupe_key)
);
CREATE INDEX notices_user ON notices (user_id, created_at);

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    notice_id       INTEGER NOT NULL UNIQUE REFERENCES notices (id),
    kind            TEXT NOT NULL,
    to_address      TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    -- A worker's claim: who holds the message and until when, so a crashed worker's
    -- messages are picked up again once the claim lapses.
    claimed_by      TEXT,
    claimed_until   TEXT,
    sent_at         TEXT,
    failed_at       TEXT,
    last_error      TEXT
);
CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;
