-- Flags a Marac agrees for a case, and the two meeting rules they need (SQLite).
-- Keep in step with PostgreSQL. *_sealed columns hold text encrypted by the application.
ALTER TABLE maracs ADD COLUMN list_cutoff_days INTEGER NOT NULL DEFAULT 7;
ALTER TABLE maracs ADD COLUMN flag_months INTEGER NOT NULL DEFAULT 12;

CREATE TABLE case_flags (
    id                  INTEGER PRIMARY KEY,
    case_id             INTEGER NOT NULL REFERENCES cases (id),
    -- The meeting that agreed it, if one did.
    meeting_id          INTEGER REFERENCES meetings (id),
    -- The agency that places the flag on its own system.
    agency_id           INTEGER NOT NULL REFERENCES agencies (id),
    kind                TEXT NOT NULL CHECK (kind IN ('address_safety_marker', 'perpetrator_marker', 'health_record', 'housing_record', 'child_record', 'other')),
    note_sealed         TEXT NOT NULL,
    set_on              TEXT NOT NULL,
    expires_on          TEXT NOT NULL,
    set_by              INTEGER REFERENCES users (id),
    set_at              TEXT NOT NULL,
    ended_at            TEXT,
    ended_by            INTEGER REFERENCES users (id),
    ended_reason_sealed TEXT
);
CREATE INDEX case_flags_case ON case_flags (case_id);
CREATE INDEX case_flags_expiry ON case_flags (expires_on);
