-- An activation while the kill switch was already active: a note in the history, never
-- the kill's cause (the cause and its "since" stay the first activation's).
ALTER TABLE nija_kill_event ADD COLUMN repeated boolean NOT NULL DEFAULT false;
