-- NIJA fleet store, schema version 3: a repeated activation is a note on the kill history.
-- the kill's cause (the cause and its "since" stay the first activation's).
ALTER TABLE nija_kill_event ADD COLUMN repeated boolean NOT NULL DEFAULT false;
