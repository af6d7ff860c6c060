-- Keep in step with the other backend. Version 3 of the index keys adds the keys a search finds
-- a person by from a family name or a postcode alone (marac_domain::matching::search_keys).
-- Everyone filed under version 2 is filed again by the worker; the store now writes each new
-- person's version itself, so the column's default no longer matters.
DROP INDEX people_to_file_again;
CREATE INDEX people_to_file_again ON people (id) WHERE keys_version < 3;

-- A search's terms, kept (sealed) for the session that made it, so its results live at an
-- opaque address and no name ever goes into one. Searches end with their session (the worker
-- removes those older than the longest session).
CREATE TABLE searches (
    id              TEXT PRIMARY KEY,
    session_id      TEXT NOT NULL,
    user_id         BIGINT NOT NULL REFERENCES users (id),
    terms_sealed    TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX searches_created ON searches (created_at);
