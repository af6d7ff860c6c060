-- Confirming that two records are one person (PostgreSQL). Keep in step with SQLite.
-- A person merged into another keeps their own row, keys and cases: merged_into points at the
-- person they are now counted as, and clearing it undoes the merge.
ALTER TABLE people ADD COLUMN merged_into BIGINT REFERENCES people (id);
CREATE INDEX people_merged_into ON people (merged_into);
-- The coordinator's answer to each candidate, and the referral's own record of that person.
ALTER TABLE referral_matches ADD COLUMN own_person_id BIGINT REFERENCES people (id);
ALTER TABLE referral_matches ADD COLUMN decision TEXT CHECK (decision IN ('confirmed', 'rejected'));
ALTER TABLE referral_matches ADD COLUMN decided_by BIGINT REFERENCES users (id);
ALTER TABLE referral_matches ADD COLUMN decided_at TIMESTAMPTZ;
