-- Likely duplicate people answered outside a referral, and other agencies' lists for
-- cross-referencing (SQLite). Keep in step with PostgreSQL.

-- Two records a coordinator said are not the same person: the duplicates queue stops
-- offering the pair. person_a is the smaller id.
CREATE TABLE people_distinct (
    person_a    INTEGER NOT NULL REFERENCES people (id),
    person_b    INTEGER NOT NULL REFERENCES people (id),
    decided_by  INTEGER NOT NULL REFERENCES users (id),
    decided_at  TEXT NOT NULL,
    PRIMARY KEY (person_a, person_b),
    CHECK (person_a < person_b)
);

-- A list another agency uploaded (children's social care's open and recently closed cases).
-- The rows are deleted once delete_after passes; the list's own row stays, with deleted_at,
-- so the audit trail and the links keep pointing at something.
CREATE TABLE agency_lists (
    id              INTEGER PRIMARY KEY,
    marac_id        INTEGER NOT NULL REFERENCES maracs (id),
    agency_id       INTEGER NOT NULL REFERENCES agencies (id),
    uploaded_by     INTEGER NOT NULL REFERENCES users (id),
    uploaded_at     TEXT NOT NULL,
    delete_after    TEXT NOT NULL,
    deleted_at      TEXT,
    row_count       INTEGER NOT NULL,
    linked_count    INTEGER NOT NULL
);
CREATE INDEX agency_lists_delete_after ON agency_lists (delete_after) WHERE deleted_at IS NULL;

-- One row of a list, sealed: names, date of birth, address, status and dates.
CREATE TABLE agency_list_rows (
    id              INTEGER PRIMARY KEY,
    list_id         INTEGER NOT NULL REFERENCES agency_lists (id),
    line            INTEGER NOT NULL,
    details_sealed  TEXT NOT NULL
);
CREATE INDEX agency_list_rows_list ON agency_list_rows (list_id);

-- What the Marac keeps from a list: a case's victim or child is known to children's social
-- care, open since or closed on these days. It outlives the list it came from.
CREATE TABLE social_care_links (
    id              INTEGER PRIMARY KEY,
    list_id         INTEGER NOT NULL REFERENCES agency_lists (id),
    case_id         INTEGER NOT NULL REFERENCES cases (id),
    referral_id     INTEGER NOT NULL REFERENCES referrals (id),
    subject         TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    opened_on       TEXT NOT NULL,
    closed_on       TEXT,
    score           INTEGER NOT NULL,
    recorded_at     TEXT NOT NULL,
    UNIQUE (list_id, case_id, subject)
);
CREATE INDEX social_care_links_case ON social_care_links (case_id);
