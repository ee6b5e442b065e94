-- NIJA fleet store, schema version 4: the audit trail in the database.
-- One hash chain for the whole fleet. Every change appends its records in the same
-- transaction, after locking the one chain-head row (SELECT ... FOR UPDATE): concurrent
-- writers from any number of hosts are serialised there, so the chain never forks.
-- `line` is the record exactly as hashed, in the format of a line of .nija_audit.jsonl
-- (plus "scope"); the other columns are copies for filtering, checked against it.
CREATE TABLE nija_audit (
    seq   bigint PRIMARY KEY,
    scope text NOT NULL,
    kind  text NOT NULL,
    at    timestamptz NOT NULL,
    entry text,  -- 'transition:ID' or 'kill_event:ID': the history row this record stands for
    line  text NOT NULL
);
CREATE INDEX nija_audit_scope ON nija_audit (scope, seq);
CREATE UNIQUE INDEX nija_audit_entry ON nija_audit (entry) WHERE entry IS NOT NULL;

-- The chain's end (a record removed from the end is detected against it), and where the
-- trail began: history rows written before this migration have no record.
CREATE TABLE nija_audit_head (
    id               integer PRIMARY KEY CHECK (id = 1),
    seq              bigint NOT NULL,
    hash             text NOT NULL,
    transitions_from bigint NOT NULL,
    kill_events_from bigint NOT NULL,
    started_at       timestamptz NOT NULL DEFAULT now()
);
INSERT INTO nija_audit_head (id, seq, hash, transitions_from, kill_events_from)
SELECT 1, 0, repeat('0', 64),
       coalesce((SELECT max(id) FROM nija_transition), 0),
       coalesce((SELECT max(id) FROM nija_kill_event), 0);
