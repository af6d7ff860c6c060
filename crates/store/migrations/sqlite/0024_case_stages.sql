-- Keep in step with PostgreSQL. Where each case stands (marac_domain::case_stage) and every
-- move it made, with who and when. A case with no stage yet (those older than this migration,
-- and those a history import writes) is staged from its records by the store on migrate and
-- after an import, so the rule for working a stage out is written once, in Rust.
ALTER TABLE cases ADD COLUMN stage TEXT CHECK (stage IN ('referred', 'declined', 'awaiting_meeting', 'listed', 'deferred', 'heard', 'actions_open', 'closed'));
ALTER TABLE cases ADD COLUMN stage_meeting_id INTEGER REFERENCES meetings (id);
ALTER TABLE cases ADD COLUMN stage_at TEXT;
CREATE INDEX cases_marac_stage ON cases (marac_id, stage);
CREATE INDEX cases_unstaged ON cases (id) WHERE stage IS NULL;

CREATE TABLE case_events (
    id          INTEGER PRIMARY KEY,
    case_id     INTEGER NOT NULL REFERENCES cases (id),
    stage       TEXT NOT NULL CHECK (stage IN ('referred', 'declined', 'awaiting_meeting', 'listed', 'deferred', 'heard', 'actions_open', 'closed')),
    meeting_id  INTEGER REFERENCES meetings (id),
    by_user_id  INTEGER REFERENCES users (id),
    at          TEXT NOT NULL
);
CREATE INDEX case_events_case ON case_events (case_id, id);
