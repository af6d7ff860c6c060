-- Keep in step with the other backend. When the agencies attending a Marac may start
-- researching its cases (marac_domain::marac_rules::ResearchOpens): when a referral is sent,
-- when it is accepted (the default), or when a meeting's list is published.
ALTER TABLE maracs ADD COLUMN research_opens TEXT NOT NULL DEFAULT 'acceptance'
    CHECK (research_opens IN ('submission', 'acceptance', 'publication'));
