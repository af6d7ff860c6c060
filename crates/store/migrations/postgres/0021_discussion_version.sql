-- Keep in step with SQLite. Each save of a case's discussion at a meeting counts up its
-- version; a save made from an older version is refused, so notes typed in one place never
-- overwrite a newer save made in another (both texts are shown to merge).
ALTER TABLE meeting_cases ADD COLUMN discussion_version BIGINT NOT NULL DEFAULT 0;
