-- Risk checklists as versioned data (SQLite). Keep in step with the PostgreSQL migration.
-- A checklist id and version, once loaded, never change: assessments refer to them for ever.
CREATE TABLE checklists (
    checklist_id    TEXT NOT NULL,
    version         TEXT NOT NULL,
    title           TEXT NOT NULL,
    source          TEXT NOT NULL CHECK (source IN ('shipped', 'imported')),
    question_count  INTEGER NOT NULL,
    definition      TEXT NOT NULL,
    loaded_at       TEXT NOT NULL,
    PRIMARY KEY (checklist_id, version)
);
