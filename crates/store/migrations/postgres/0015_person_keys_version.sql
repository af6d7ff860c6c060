-- Which set of blocking keys each person is filed under (marac_domain::matching::
-- BLOCKING_KEYS_VERSION). Version 2 keys the hashes per partnership and adds the name with
-- day and month of birth. People filed before it are marked 1; the worker files them again in
-- batches and marks them 2. New people are filed under the current set, which the default
-- records.
ALTER TABLE people ADD COLUMN keys_version BIGINT NOT NULL DEFAULT 2;
UPDATE people SET keys_version = 1;
CREATE INDEX people_to_file_again ON people (id) WHERE keys_version < 2;
-- Filing someone again deletes their keys by person: without this, each delete reads the
-- whole index (30 ms a person at 200,000 people, holding the write lock).
CREATE INDEX person_keys_person ON person_keys (person_id);
