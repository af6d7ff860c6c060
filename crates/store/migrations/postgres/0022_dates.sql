-- Calendar days are DATE columns, read and written through the store's `Day` type, so the
-- database itself refuses a value that is not a day and compares days as days. SQLite keeps
-- them as YYYY-MM-DD text (see 0022_dates.sql there); `Day` reads that text strictly.
ALTER TABLE referrals ALTER COLUMN referral_date TYPE DATE USING referral_date::date;
ALTER TABLE referrals ALTER COLUMN incident_date TYPE DATE USING incident_date::date;
ALTER TABLE meetings ALTER COLUMN held_on TYPE DATE USING held_on::date;
ALTER TABLE meetings ALTER COLUMN closing_on TYPE DATE USING closing_on::date;
ALTER TABLE meetings ALTER COLUMN list_cutoff_on TYPE DATE USING list_cutoff_on::date;
ALTER TABLE actions ALTER COLUMN due_on TYPE DATE USING due_on::date;
ALTER TABLE case_flags ALTER COLUMN set_on TYPE DATE USING set_on::date;
ALTER TABLE case_flags ALTER COLUMN expires_on TYPE DATE USING expires_on::date;
ALTER TABLE social_care_links ALTER COLUMN opened_on TYPE DATE USING opened_on::date;
ALTER TABLE social_care_links ALTER COLUMN closed_on TYPE DATE USING closed_on::date;
