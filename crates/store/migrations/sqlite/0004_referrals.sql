-- Referrals, people, cases, research notes and the agency directory (SQLite).
-- Keep in step with PostgreSQL. Columns named *_sealed hold text encrypted by the
-- application (XChaCha20-Poly1305): a copy of the database shows no names or case detail.
-- person_keys holds keyed hashes of matching keys, never the names themselves.
CREATE TABLE people (
    id              INTEGER PRIMARY KEY,
    partnership_id  INTEGER NOT NULL REFERENCES partnerships (id),
    details_sealed  TEXT NOT NULL,
    created_at      TEXT NOT NULL
);

CREATE TABLE person_keys (
    key         TEXT NOT NULL,
    person_id   INTEGER NOT NULL REFERENCES people (id),
    PRIMARY KEY (key, person_id)
);

CREATE TABLE cases (
    id                  INTEGER PRIMARY KEY,
    marac_id            INTEGER NOT NULL REFERENCES maracs (id),
    victim_person_id    INTEGER NOT NULL REFERENCES people (id),
    perpetrator_ids     TEXT NOT NULL,
    created_at          TEXT NOT NULL,
    UNIQUE (victim_person_id, perpetrator_ids)
);

CREATE TABLE reference_counters (
    marac_id    INTEGER NOT NULL REFERENCES maracs (id),
    year        INTEGER NOT NULL,
    last_number INTEGER NOT NULL,
    PRIMARY KEY (marac_id, year)
);

CREATE TABLE referrals (
    id                      INTEGER PRIMARY KEY,
    reference               TEXT UNIQUE,
    marac_id                INTEGER NOT NULL REFERENCES maracs (id),
    referrer_user_id        INTEGER NOT NULL REFERENCES users (id),
    referring_agency_id     INTEGER NOT NULL REFERENCES agencies (id),
    joint_agency_id         INTEGER REFERENCES agencies (id),
    status                  TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'returned', 'accepted', 'declined')),
    form_sealed             TEXT NOT NULL,
    case_id                 INTEGER REFERENCES cases (id),
    checklist_id            TEXT,
    checklist_version       TEXT,
    score                   INTEGER,
    criteria                TEXT NOT NULL DEFAULT '',
    is_repeat               INTEGER NOT NULL DEFAULT 0 CHECK (is_repeat IN (0, 1)),
    age_flags               TEXT NOT NULL DEFAULT '',
    victim_age_group        TEXT NOT NULL DEFAULT '',
    children_count          INTEGER NOT NULL DEFAULT 0,
    referral_date           TEXT,
    incident_date           TEXT,
    decision_note_sealed    TEXT,
    decided_by              INTEGER REFERENCES users (id),
    decided_at              TEXT,
    created_at              TEXT NOT NULL,
    updated_at              TEXT NOT NULL,
    submitted_at            TEXT
);
CREATE INDEX referrals_referrer ON referrals (referrer_user_id, updated_at);
CREATE INDEX referrals_marac_status ON referrals (marac_id, status);
CREATE INDEX referrals_case ON referrals (case_id, referral_date);

CREATE TABLE referral_matches (
    referral_id     INTEGER NOT NULL REFERENCES referrals (id),
    subject         TEXT NOT NULL,
    person_id       INTEGER NOT NULL REFERENCES people (id),
    score           INTEGER NOT NULL,
    certain         INTEGER NOT NULL CHECK (certain IN (0, 1)),
    reasons_sealed  TEXT NOT NULL,
    PRIMARY KEY (referral_id, subject, person_id)
);

CREATE TABLE research_notes (
    id                  INTEGER PRIMARY KEY,
    case_id             INTEGER NOT NULL REFERENCES cases (id),
    agency_id           INTEGER NOT NULL REFERENCES agencies (id),
    author_user_id      INTEGER NOT NULL REFERENCES users (id),
    kind                TEXT NOT NULL CHECK (kind IN ('fact', 'opinion', 'not_shared')),
    body_sealed         TEXT NOT NULL,
    shared              INTEGER NOT NULL DEFAULT 0 CHECK (shared IN (0, 1)),
    created_at          TEXT NOT NULL,
    shared_at           TEXT
);
CREATE INDEX research_notes_case ON research_notes (case_id, agency_id);

CREATE TABLE directory_entries (
    id          INTEGER PRIMARY KEY,
    marac_id    INTEGER NOT NULL REFERENCES maracs (id),
    agency_id   INTEGER REFERENCES agencies (id),
    kind        TEXT NOT NULL CHECK (kind IN ('coordinator', 'representative', 'deputy')),
    name        TEXT NOT NULL,
    job_title   TEXT NOT NULL,
    email       TEXT NOT NULL,
    phone       TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX directory_entries_marac ON directory_entries (marac_id, agency_id);
