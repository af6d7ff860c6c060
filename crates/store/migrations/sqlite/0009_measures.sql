-- What the partnership's children's measures count beyond the return (sqlite).
-- Keep in step with the other backend.
-- Whether the meeting recorded the child's voice for the case (the text itself is sealed).
ALTER TABLE meeting_cases ADD COLUMN child_voice_recorded INTEGER NOT NULL DEFAULT 0 CHECK (child_voice_recorded IN (0, 1));
-- The kind of step an action is: early help, the Right to Know, links to other panels.
ALTER TABLE actions ADD COLUMN kind TEXT NOT NULL DEFAULT 'general' CHECK (kind IN ('general', 'early_help', 'right_to_know', 'child_protection_conference', 'mappa', 'child_exploitation_panel'));

-- Figures from outside the records (for example police notifications to children's social
-- care), entered per partnership and quarter by a named person.
CREATE TABLE partnership_figures (
    partnership_id  INTEGER NOT NULL REFERENCES partnerships (id),
    quarter         TEXT NOT NULL,
    measure         TEXT NOT NULL,
    value           INTEGER NOT NULL,
    entered_by      INTEGER NOT NULL REFERENCES users (id),
    entered_at      TEXT NOT NULL,
    PRIMARY KEY (partnership_id, quarter, measure)
);
