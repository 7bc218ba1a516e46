-- Daily and monthly transaction limits, low-credit mail, and route-level rate plans.

-- Transactions counted against tenants.daily_limit / monthly_limit: one row per tenant and
-- local day ('2026-11-22') or month ('2026-11') in the tenant's time zone, incremented in
-- the same statement that checks the limit.
CREATE TABLE transaction_counts (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    period    TEXT    NOT NULL,
    count     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, period)
) WITHOUT ROWID;

-- Alerts waiting to be mailed, written in the transaction that crossed the threshold (one
-- row per crossing), so a crash or a relay that is down loses none and sends none twice.
CREATE TABLE alert_outbox (
    id              INTEGER PRIMARY KEY,
    tenant_id       INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    kind            TEXT    NOT NULL CHECK (kind IN ('low_credit')),
    created_at      TEXT    NOT NULL,
    balance         INTEGER NOT NULL,                -- when it crossed
    threshold       INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT    NOT NULL,
    sent_at         TEXT,
    last_error      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX alert_outbox_due ON alert_outbox(next_attempt_at) WHERE sent_at IS NULL;

-- Each fax job's pages as rated: the free pages of the package used and the credit charged
-- (the ledger entry, when there is one, is keyed the same), once per job.
CREATE TABLE fax_charges (
    job        TEXT    PRIMARY KEY,                 -- 'fax:<job id>'
    tenant_id  INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    pages      INTEGER NOT NULL,
    free_pages INTEGER NOT NULL,
    amount     INTEGER NOT NULL,
    at         TEXT    NOT NULL
);
