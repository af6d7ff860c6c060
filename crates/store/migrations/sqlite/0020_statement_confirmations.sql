-- Keep in step with PostgreSQL. Seeing any case content of a Marac needs a confirmation of its
-- current confidentiality statement (again when the version changes and every 12 months). A
-- confirmation at a meeting is also one of the statement, so those made so far count.
CREATE TABLE statement_confirmations (
    id              INTEGER PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users (id),
    statement_id    INTEGER NOT NULL REFERENCES confidentiality_statements (id),
    confirmed_at    TEXT NOT NULL
);
CREATE INDEX statement_confirmations_user ON statement_confirmations (user_id, statement_id);
INSERT INTO statement_confirmations (user_id, statement_id, confirmed_at)
    SELECT user_id, statement_id, confirmed_at FROM confidentiality_confirmations WHERE user_id IS NOT NULL;
