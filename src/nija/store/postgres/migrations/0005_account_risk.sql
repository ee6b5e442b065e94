-- NIJA fleet store, schema version 5: account-wide risk.
-- A bot declares the exchange account it trades ([exchange] account in nija.toml); an
-- account's kill is a scope of its own ('@account:NAME' in nija_scope) between the fleet
-- and its bots. Limits are set per account by an operator (nija account limits), and the
-- bots' reports are the figures the limits are judged on, summed in the database.
ALTER TABLE nija_scope ADD COLUMN account text;
CREATE INDEX nija_scope_account ON nija_scope (account) WHERE account IS NOT NULL;

CREATE TABLE nija_account (
    name                 text PRIMARY KEY,
    daily_loss_limit     double precision CHECK (daily_loss_limit > 0),
    gross_exposure_limit double precision CHECK (gross_exposure_limit > 0),
    updated_at           timestamptz NOT NULL,
    updated_by           text NOT NULL
);

-- One row per bot: its latest figures for its trading day, as it sent them. `figures` is
-- kept as sent (jsonb); a figure that is not a number there counts as unreadable, never 0.
CREATE TABLE nija_bot_report (
    scope       text PRIMARY KEY,
    account     text NOT NULL,
    day         date NOT NULL,
    figures     jsonb NOT NULL,
    reported_at timestamptz NOT NULL
);
CREATE INDEX nija_bot_report_account ON nija_bot_report (account, day);
