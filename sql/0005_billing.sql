-- Money and limits, live: rate plans and their rates, the tenant's billing settings, the
-- credit ledger, live credit reservations and each call's charge. Money is integer
-- micro-units (1 unit = 1,000,000).

CREATE TABLE rate_plans (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,
    description TEXT    NOT NULL DEFAULT '',
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL
);

-- A plan's rates (its child list): per direction, the longest matching prefix of the number
-- (digits, no '+') wins; '' matches every number.
CREATE TABLE rate_plan_rates (
    parent_id         INTEGER NOT NULL REFERENCES rate_plans(id) ON DELETE CASCADE,
    position          INTEGER NOT NULL,
    direction         TEXT    NOT NULL CHECK (direction IN ('outbound','inbound','internal')),
    prefix            TEXT    NOT NULL DEFAULT '',
    per_minute        INTEGER NOT NULL DEFAULT 0,   -- micro-units per 60 billed seconds
    connection_charge INTEGER NOT NULL DEFAULT 0,   -- once per answered call that costs credit
    first_increment   INTEGER NOT NULL DEFAULT 60,  -- seconds billed at least
    next_increment    INTEGER NOT NULL DEFAULT 60,  -- then billed in steps of this many seconds
    PRIMARY KEY (parent_id, position)
);
CREATE UNIQUE INDEX rate_plan_rates_prefix ON rate_plan_rates(parent_id, direction, prefix);

-- The plan a tenant's calls are rated with (an outbound route may name another), fax pages'
-- price, how credit is enforced, the day the free tier restarts, and the balance, kept in
-- the same transaction as every ledger entry.
ALTER TABLE tenants ADD COLUMN rate_plan_id INTEGER REFERENCES rate_plans(id) ON DELETE SET NULL;
ALTER TABLE tenants ADD COLUMN fax_page_rate INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tenants ADD COLUMN credit_policy TEXT NOT NULL DEFAULT 'flag' CHECK (credit_policy IN ('flag','prepaid'));
ALTER TABLE tenants ADD COLUMN billing_day INTEGER NOT NULL DEFAULT 1 CHECK (billing_day BETWEEN 1 AND 28);
ALTER TABLE tenants ADD COLUMN balance INTEGER NOT NULL DEFAULT 0;
-- Set when the balance falls below low_credit_threshold (the alert went out), cleared when
-- it climbs back: one alert per crossing.
ALTER TABLE tenants ADD COLUMN low_credit INTEGER NOT NULL DEFAULT 0;

ALTER TABLE outbound_routes ADD COLUMN rate_plan_id INTEGER REFERENCES rate_plans(id) ON DELETE SET NULL;

-- Append-only: every change of a balance, with the balance it left.
CREATE TABLE ledger (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    at            TEXT    NOT NULL,
    kind          TEXT    NOT NULL CHECK (kind IN ('payment','charge','refund','adjustment')),
    amount        INTEGER NOT NULL,                 -- signed: a charge is negative
    balance_after INTEGER NOT NULL,
    call_uuid     TEXT,                             -- a call's charge
    payment_type  TEXT    CHECK (payment_type IN ('online','bank_transfer','cash')),
    note          TEXT    NOT NULL DEFAULT '',
    user_id       INTEGER                           -- who entered it (the log outlives users)
);
CREATE INDEX ledger_tenant_at ON ledger(tenant_id, at);
-- One charge per call, however many times its hangup is reported.
CREATE UNIQUE INDEX ledger_one_charge_per_call ON ledger(call_uuid) WHERE kind = 'charge';

-- Credit held by calls that are up (prepaid): available = balance - held. A row outlives a
-- crash; start-up settles the rows of calls that are gone.
CREATE TABLE reservations (
    call_uuid  TEXT    PRIMARY KEY,
    tenant_id  INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    amount     INTEGER NOT NULL,                    -- credit held now
    free_secs  INTEGER NOT NULL DEFAULT 0,          -- free-tier seconds held now
    created_at TEXT    NOT NULL,
    updated_at TEXT    NOT NULL
);
CREATE INDEX reservations_tenant ON reservations(tenant_id);

-- Free-tier use is counted in seconds (the API shows minutes).
ALTER TABLE quotas ADD COLUMN used_seconds INTEGER NOT NULL DEFAULT 0;

-- What each call cost: credit charged, free-tier seconds used, and whether it ran on no
-- credit under the 'flag' policy (the admins' review list).
ALTER TABLE cdrs ADD COLUMN charge INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cdrs ADD COLUMN free_seconds INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cdrs ADD COLUMN flagged INTEGER NOT NULL DEFAULT 0;
CREATE INDEX cdrs_flagged ON cdrs(flagged, started_at) WHERE flagged = 1;
