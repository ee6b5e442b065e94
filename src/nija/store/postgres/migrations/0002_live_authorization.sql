-- NIJA fleet store, schema version 2: live authorization bound to the running bot.
-- A LIVE_ACTIVE row carries the confirmation's grant (run, nonce, proof) for the running
-- bot to verify; the heartbeat carries the run id, its DRY_RUN time, the request it has
-- acknowledged, the confirmation it verified and any LIVE_ACTIVE it refused.

ALTER TABLE nija_scope ADD COLUMN live_grant jsonb;

ALTER TABLE nija_heartbeat
    ADD COLUMN run_id          text NOT NULL DEFAULT '',
    ADD COLUMN dry_run_seconds double precision NOT NULL DEFAULT 0,
    ADD COLUMN seen_nonce      text NOT NULL DEFAULT '',
    ADD COLUMN live_nonce      text NOT NULL DEFAULT '',
    ADD COLUMN live_refused    text NOT NULL DEFAULT '';
