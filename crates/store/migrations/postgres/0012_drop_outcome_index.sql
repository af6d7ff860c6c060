-- The index on meeting cases by outcome led the planner to read every heard case of every
-- Marac for one Marac's return; by meeting (the primary key) after the meetings of the Marac
-- and period (meetings_marac) reads only those. Measured on national-scale data (postgres).
DROP INDEX meeting_cases_outcome;
