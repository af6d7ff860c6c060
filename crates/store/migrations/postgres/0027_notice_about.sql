-- Keep in step with the other backend. What a notice concerns, in words that identify no one
-- (the Marac and the meeting's or action's day: marac_domain::notices::about_meeting), shown in
-- the inbox and copied to its e-mail so the message can say it without a join at send time.
ALTER TABLE notices ADD COLUMN about TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN about TEXT NOT NULL DEFAULT '';
