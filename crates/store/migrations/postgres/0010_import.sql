-- Referrals imported from a Marac's spreadsheet keep the spreadsheet's own reference, so a
-- second import of the same file adds nothing twice (postgres). Keep in step with the other backend.
ALTER TABLE referrals ADD COLUMN import_reference TEXT;
CREATE UNIQUE INDEX referrals_import_reference ON referrals (marac_id, import_reference) WHERE import_reference IS NOT NULL;
