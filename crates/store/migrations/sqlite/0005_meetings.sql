-- Meetings, their lists, confidentiality, attendance, discussions and actions (SQLite).
-- Keep in step with PostgreSQL. *_sealed columns hold text encrypted by the application.
CREATE TABLE confidentiality_statements (
    id          INTEGER PRIMARY KEY,
    marac_id    INTEGER NOT NULL REFERENCES maracs (id),
    version     INTEGER NOT NULL,
    body        TEXT NOT NULL,
    created_by  INTEGER REFERENCES users (id),
    created_at  TEXT NOT NULL,
    UNIQUE (marac_id, version)
);

CREATE TABLE meetings (
    id              INTEGER PRIMARY KEY,
    marac_id        INTEGER NOT NULL REFERENCES maracs (id),
    kind            TEXT NOT NULL CHECK (kind IN ('regular', 'one_off', 'emergency')),
    format          TEXT NOT NULL CHECK (format IN ('in_person', 'virtual', 'no_meeting')),
    status          TEXT NOT NULL CHECK (status IN ('planned', 'published', 'held')),
    held_on         TEXT NOT NULL,
    starts_at       TEXT NOT NULL,
    closing_on      TEXT,
    location        TEXT NOT NULL DEFAULT '',
    chair_user_id   INTEGER REFERENCES users (id),
    capacity        INTEGER NOT NULL,
    list_cutoff_on  TEXT,
    published_at    TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX meetings_marac ON meetings (marac_id, held_on);

CREATE TABLE meeting_agencies (
    meeting_id  INTEGER NOT NULL REFERENCES meetings (id),
    agency_id   INTEGER NOT NULL REFERENCES agencies (id),
    PRIMARY KEY (meeting_id, agency_id)
);

CREATE TABLE meeting_cases (
    meeting_id          INTEGER NOT NULL REFERENCES meetings (id),
    case_id             INTEGER NOT NULL REFERENCES cases (id),
    referral_id         INTEGER REFERENCES referrals (id),
    position            INTEGER NOT NULL,
    outcome             TEXT NOT NULL DEFAULT 'listed' CHECK (outcome IN ('listed', 'heard', 'deferred')),
    discussion_sealed   TEXT,
    updated_by          INTEGER REFERENCES users (id),
    updated_at          TEXT NOT NULL,
    PRIMARY KEY (meeting_id, case_id)
);
CREATE INDEX meeting_cases_case ON meeting_cases (case_id);

CREATE TABLE confidentiality_confirmations (
    id              INTEGER PRIMARY KEY,
    meeting_id      INTEGER NOT NULL REFERENCES meetings (id),
    user_id         INTEGER REFERENCES users (id),
    observer_name   TEXT,
    statement_id    INTEGER NOT NULL REFERENCES confidentiality_statements (id),
    confirmed_at    TEXT NOT NULL,
    CHECK ((user_id IS NULL) <> (observer_name IS NULL)),
    UNIQUE (meeting_id, user_id)
);

CREATE TABLE attendance (
    id                  INTEGER PRIMARY KEY,
    meeting_id          INTEGER NOT NULL REFERENCES meetings (id),
    agency_id           INTEGER REFERENCES agencies (id),
    person_name         TEXT NOT NULL,
    kind                TEXT NOT NULL CHECK (kind IN ('present', 'apologies', 'observer')),
    information_sent    INTEGER NOT NULL DEFAULT 0 CHECK (information_sent IN (0, 1)),
    recorded_by         INTEGER REFERENCES users (id),
    recorded_at         TEXT NOT NULL
);
CREATE INDEX attendance_meeting ON attendance (meeting_id);

CREATE TABLE actions (
    id                      INTEGER PRIMARY KEY,
    case_id                 INTEGER NOT NULL REFERENCES cases (id),
    meeting_id              INTEGER NOT NULL REFERENCES meetings (id),
    agency_id               INTEGER NOT NULL REFERENCES agencies (id),
    owner_name              TEXT NOT NULL,
    subject                 TEXT NOT NULL CHECK (subject IN ('victim', 'child', 'perpetrator', 'other')),
    approach                TEXT CHECK (approach IN ('disruption', 'diversion', 'prosecution', 'management')),
    description_sealed      TEXT NOT NULL,
    due_on                  TEXT NOT NULL,
    status                  TEXT NOT NULL CHECK (status IN ('open', 'done', 'not_done_circumstances', 'not_done_agency', 'carried_forward')),
    status_reason           TEXT,
    status_reported_at      TEXT,
    created_by              INTEGER REFERENCES users (id),
    created_at              TEXT NOT NULL
);
CREATE INDEX actions_agency ON actions (agency_id, status, due_on);
CREATE INDEX actions_case ON actions (case_id);
CREATE INDEX actions_meeting ON actions (meeting_id);

CREATE TABLE action_events (
    id          INTEGER PRIMARY KEY,
    action_id   INTEGER NOT NULL REFERENCES actions (id),
    status      TEXT NOT NULL,
    reason      TEXT,
    note_sealed TEXT,
    by_user_id  INTEGER REFERENCES users (id),
    at          TEXT NOT NULL
);
CREATE INDEX action_events_action ON action_events (action_id);
