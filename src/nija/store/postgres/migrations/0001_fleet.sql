-- NIJA fleet store, schema version 1.
-- One row per scope: the fleet ('@fleet') and each bot. History and kill events are
-- append-only tables; kill flags are separate rows so that raising one never waits for
-- the row locks that transitions hold.

CREATE TABLE nija_scope (
    name              text PRIMARY KEY,
    state             text NOT NULL DEFAULT 'OFF',
    last_updated      timestamptz,
    pending_live      jsonb,
    kill_active       boolean NOT NULL DEFAULT false,
    kill_last_updated timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE nija_transition (
    id         bigserial PRIMARY KEY,
    scope      text NOT NULL REFERENCES nija_scope (name),
    from_state text NOT NULL,
    to_state   text NOT NULL,
    reason     text NOT NULL,
    at         timestamptz NOT NULL,
    actor      text NOT NULL,
    source     text NOT NULL
);
CREATE INDEX nija_transition_scope ON nija_transition (scope, id);

CREATE TABLE nija_kill_event (
    id     bigserial PRIMARY KEY,
    scope  text NOT NULL REFERENCES nija_scope (name),
    action text,  -- 'activate', 'deactivate', or NULL for a legacy entry copied from files
    reason text NOT NULL,
    at     timestamptz NOT NULL,
    actor  text NOT NULL,
    source text NOT NULL
);
CREATE INDEX nija_kill_event_scope ON nija_kill_event (scope, id);

-- A raised kill flag (the kill file of the JSON store). No foreign key: raising must
-- work even for a scope that has no row yet, and never wait for a lock.
CREATE TABLE nija_kill_flag (
    id        bigserial PRIMARY KEY,
    scope     text NOT NULL,
    reason    text NOT NULL,
    actor     text NOT NULL,
    source    text NOT NULL,
    raised_at timestamptz NOT NULL
);
CREATE INDEX nija_kill_flag_scope ON nija_kill_flag (scope);

CREATE TABLE nija_heartbeat (
    scope      text PRIMARY KEY,
    pid        integer NOT NULL,
    host       text NOT NULL,
    last_beat  timestamptz NOT NULL,
    started_at timestamptz NOT NULL,
    stopped    boolean NOT NULL DEFAULT false
);

-- Bytes of a record that could not be read, kept before it is replaced (fail closed).
CREATE TABLE nija_corrupt_backup (
    id       bigserial PRIMARY KEY,
    scope    text NOT NULL,
    record   text NOT NULL,
    content  text NOT NULL,
    saved_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO nija_scope (name) VALUES ('@fleet');
