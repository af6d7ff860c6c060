-- Foundation: organisations, people, sign-in and the audit trail (SQLite).
-- Keep in step with migrations/postgres/0001_foundation.sql: the schema-parity test compares them.
-- Times are fixed-width UTC text, 'YYYY-MM-DDTHH:MM:SS.ffffffZ', so text order is time order.

CREATE TABLE partnerships (
    id          INTEGER PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    is_demo     INTEGER NOT NULL DEFAULT 0 CHECK (is_demo IN (0, 1)),
    created_at  TEXT NOT NULL
);

CREATE TABLE maracs (
    id                          INTEGER PRIMARY KEY,
    partnership_id              INTEGER NOT NULL REFERENCES partnerships (id),
    code                        TEXT NOT NULL UNIQUE,
    name                        TEXT NOT NULL,
    area                        TEXT NOT NULL,
    adult_female_population     INTEGER NOT NULL CHECK (adult_female_population >= 0),
    cadence                     TEXT NOT NULL,
    high_risk_threshold         INTEGER NOT NULL,
    escalation_incidents        INTEGER NOT NULL,
    escalation_months           INTEGER NOT NULL,
    repeat_months               INTEGER NOT NULL,
    meeting_capacity            INTEGER NOT NULL,
    recommended_cases_per_10k   INTEGER NOT NULL,
    created_at                  TEXT NOT NULL
);

CREATE TABLE agencies (
    id              INTEGER PRIMARY KEY,
    partnership_id  INTEGER NOT NULL REFERENCES partnerships (id),
    code            TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    category        TEXT NOT NULL,
    created_at      TEXT NOT NULL
);

CREATE TABLE agency_maracs (
    agency_id   INTEGER NOT NULL REFERENCES agencies (id),
    marac_id    INTEGER NOT NULL REFERENCES maracs (id),
    PRIMARY KEY (agency_id, marac_id)
);

CREATE TABLE users (
    id                  INTEGER PRIMARY KEY,
    email               TEXT NOT NULL UNIQUE,
    name                TEXT NOT NULL,
    agency_id           INTEGER REFERENCES agencies (id),
    password_hash       TEXT NOT NULL,
    disabled            INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    totp_secret         TEXT,
    totp_last_step      INTEGER,
    is_demo             INTEGER NOT NULL DEFAULT 0 CHECK (is_demo IN (0, 1)),
    created_at          TEXT NOT NULL
);

CREATE TABLE user_roles (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id),
    role        TEXT NOT NULL,
    marac_id    INTEGER REFERENCES maracs (id)
);
CREATE INDEX user_roles_user ON user_roles (user_id);

CREATE TABLE recovery_codes (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id),
    code_hash   TEXT NOT NULL,
    used_at     TEXT
);
CREATE INDEX recovery_codes_user ON recovery_codes (user_id);

CREATE TABLE sessions (
    id              TEXT PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users (id),
    stage           TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    last_seen_at    TEXT NOT NULL,
    ip              TEXT NOT NULL,
    user_agent      TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE sign_in_failures (
    id          INTEGER PRIMARY KEY,
    account     TEXT NOT NULL,
    address     TEXT NOT NULL,
    at          TEXT NOT NULL
);
CREATE INDEX sign_in_failures_account ON sign_in_failures (account, at);
CREATE INDEX sign_in_failures_address ON sign_in_failures (address, at);

CREATE TABLE audit_events (
    seq             INTEGER PRIMARY KEY,
    at              TEXT NOT NULL,
    actor_user_id   INTEGER,
    actor_label     TEXT NOT NULL,
    action          TEXT NOT NULL,
    target          TEXT NOT NULL,
    outcome         TEXT NOT NULL,
    ip              TEXT NOT NULL,
    detail          TEXT NOT NULL,
    prev_hash       TEXT NOT NULL,
    hash            TEXT NOT NULL
);
CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_actor ON audit_events (actor_user_id, seq);

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;

-- The newest event's number and hash: lets verification notice removal of the newest events,
-- and its row lock serialises appends across connections.
CREATE TABLE audit_head (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    seq     INTEGER NOT NULL,
    hash    TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
