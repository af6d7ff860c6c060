-- Keep in step with PostgreSQL. A referral naming the victim and people causing harm of a case
-- another Marac holds is not joined to that case: it waits in its own Marac's triage, knowing the
-- case only by its id (known_case_id), and a question is opened between the two Maracs'
-- coordinators. Either side may ask for the case to move; when the other agrees, the case moves
-- (outcome 'moved') and the referral joins it. The Marac that sent it keeps read-only access to
-- what it held until then.
ALTER TABLE referrals ADD COLUMN known_case_id INTEGER REFERENCES cases (id);

CREATE TABLE case_transfers (
    id              INTEGER PRIMARY KEY,
    case_id         INTEGER NOT NULL REFERENCES cases (id),
    referral_id     INTEGER NOT NULL UNIQUE REFERENCES referrals (id),
    from_marac_id   INTEGER NOT NULL REFERENCES maracs (id),
    to_marac_id     INTEGER NOT NULL REFERENCES maracs (id),
    asked_by_marac  INTEGER REFERENCES maracs (id),
    asked_by        INTEGER REFERENCES users (id),
    asked_at        TEXT,
    decided_by      INTEGER REFERENCES users (id),
    decided_at      TEXT,
    outcome         TEXT CHECK (outcome IN ('moved', 'refused', 'withdrawn')),
    created_at      TEXT NOT NULL
);
CREATE INDEX case_transfers_case ON case_transfers (case_id);
CREATE INDEX case_transfers_from ON case_transfers (from_marac_id, outcome);
CREATE INDEX case_transfers_to ON case_transfers (to_marac_id, outcome);
