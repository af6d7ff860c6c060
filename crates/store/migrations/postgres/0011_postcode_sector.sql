-- The postcode sector of the victim's address ("NS1 4"), for the council's mapping of referrals
-- by district and sector (postgres). Keep in step with the other backend. The full address stays
-- only in the encrypted form.
ALTER TABLE referrals ADD COLUMN victim_postcode_sector TEXT NOT NULL DEFAULT '';
