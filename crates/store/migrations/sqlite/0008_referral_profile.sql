-- What a referral says about the people in it that returns count, in plain columns beside the
-- encrypted form, so figures come from the records without opening any form (sqlite).
-- Keep in step with the other backend. '' (or NULL) means not recorded: returns show "not held".
ALTER TABLE referrals ADD COLUMN victim_gender TEXT NOT NULL DEFAULT '';
ALTER TABLE referrals ADD COLUMN victim_minoritised TEXT NOT NULL DEFAULT '' CHECK (victim_minoritised IN ('', 'yes', 'no'));
ALTER TABLE referrals ADD COLUMN victim_disabled TEXT NOT NULL DEFAULT '' CHECK (victim_disabled IN ('', 'yes', 'no'));
ALTER TABLE referrals ADD COLUMN victim_lgbt TEXT NOT NULL DEFAULT '' CHECK (victim_lgbt IN ('', 'yes', 'no'));
ALTER TABLE referrals ADD COLUMN young_perpetrators INTEGER;
ALTER TABLE referrals ADD COLUMN young_perpetrators_partner INTEGER NOT NULL DEFAULT 0;
ALTER TABLE referrals ADD COLUMN children_known_csc INTEGER NOT NULL DEFAULT 0;
ALTER TABLE referrals ADD COLUMN children_cp_plan INTEGER NOT NULL DEFAULT 0;
CREATE INDEX meeting_cases_outcome ON meeting_cases (outcome, meeting_id);
