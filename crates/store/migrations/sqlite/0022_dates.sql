-- Keep in step with PostgreSQL, whose calendar days become DATE columns here. SQLite has no
-- date type: days stay YYYY-MM-DD text, whose order is the days' order, written and read
-- strictly through the store's `Day` type. Nothing to change.
SELECT 1;
