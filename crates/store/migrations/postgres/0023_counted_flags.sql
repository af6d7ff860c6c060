-- Keep in step with SQLite. What the returns count about a referral's criteria and age rules is
-- kept as columns of its own, so counting asks a column rather than searching the codes' text.
ALTER TABLE referrals ADD COLUMN visible_high_risk BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE referrals ADD COLUMN victim_aged_16_17 BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE referrals SET
    visible_high_risk = (',' || criteria || ',') LIKE '%,visible_high_risk,%',
    victim_aged_16_17 = (',' || age_flags || ',') LIKE '%,victim_16_17,%';
