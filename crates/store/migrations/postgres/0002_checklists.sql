-- Risk checklists as versioned data (PostgreSQL). Keep in step with the SQLite migration.
-- A checklist id and version, once loaded, never change: assessments refer to them for ever.
CREATE TABLE checklists (
    checklist_id    TEXT NOT NULL,
    version         TEXT NOT NULL,
    title           TEXT NOT NULL,
    source          TEXT NOT NULL CHECK (source IN ('shipped', 'imported')),
    question_count  BIGINT NOT NULL,
    definition      TEXT NOT NULL,
    loaded_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (checklist_id, version)
);
