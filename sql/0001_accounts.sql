-- Tenants, users, authentication state, billing packages and the activity log.
-- Money is integer micro-units (1 unit = 1,000,000); timestamps are UTC RFC 3339 text.

CREATE TABLE tenants (
    id                     INTEGER PRIMARY KEY,
    company                TEXT    NOT NULL,
    email                  TEXT    NOT NULL,
    daily_limit            INTEGER NOT NULL DEFAULT -1,   -- transactions per day, -1 = unlimited
    monthly_limit          INTEGER NOT NULL DEFAULT -1,
    permissions            TEXT    NOT NULL DEFAULT '[]', -- JSON array of permission tokens
    low_credit_threshold   INTEGER NOT NULL DEFAULT 0,    -- micro-units, 0 = no alert
    max_concurrent_calls   INTEGER NOT NULL DEFAULT 0,    -- 0 = unlimited
    timezone               TEXT    NOT NULL DEFAULT 'UTC',-- IANA name
    sip_domain             TEXT    NOT NULL COLLATE NOCASE UNIQUE,
    enabled                INTEGER NOT NULL DEFAULT 1,
    created_at             TEXT    NOT NULL,
    updated_at             TEXT    NOT NULL
);

CREATE TABLE users (
    id                  INTEGER PRIMARY KEY,
    tenant_id           INTEGER REFERENCES tenants(id) ON DELETE CASCADE, -- NULL only for super admins
    email               TEXT    NOT NULL COLLATE NOCASE UNIQUE,
    name                TEXT    NOT NULL,
    role                TEXT    NOT NULL CHECK (role IN ('super_admin','tenant_admin','agent','end_user')),
    password_hash       TEXT    NOT NULL,
    password_changed_at TEXT    NOT NULL,
    failed_logins       INTEGER NOT NULL DEFAULT 0,
    locked_until        TEXT,                          -- lockout survives a restart
    token_version       INTEGER NOT NULL DEFAULT 0,    -- bumped to revoke every issued token
    permissions         TEXT    NOT NULL DEFAULT '[]',
    fax_email           TEXT    NOT NULL DEFAULT '',
    enabled             INTEGER NOT NULL DEFAULT 1,
    created_at          TEXT    NOT NULL,
    updated_at          TEXT    NOT NULL,
    CHECK ((role = 'super_admin') = (tenant_id IS NULL))
);
CREATE INDEX users_tenant ON users(tenant_id);

-- How many objects of each kind a tenant admin lets a (non-admin) user create.
CREATE TABLE user_allocations (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    slot    TEXT    NOT NULL,
    amount  INTEGER NOT NULL CHECK (amount >= 0),
    PRIMARY KEY (user_id, slot)
) WITHOUT ROWID;

CREATE TABLE packages (
    id                 INTEGER PRIMARY KEY,
    name               TEXT    NOT NULL UNIQUE,
    extensions         INTEGER NOT NULL DEFAULT 0,
    devices            INTEGER NOT NULL DEFAULT 0,
    ring_groups        INTEGER NOT NULL DEFAULT 0,
    call_queues        INTEGER NOT NULL DEFAULT 0,
    ivr_menus          INTEGER NOT NULL DEFAULT 0,
    voicemails         INTEGER NOT NULL DEFAULT 0,
    conferences        INTEGER NOT NULL DEFAULT 0,
    music_on_hold      INTEGER NOT NULL DEFAULT 0,
    voice_minutes      INTEGER NOT NULL DEFAULT 0,
    fax_pages          INTEGER NOT NULL DEFAULT 0,
    conference_minutes INTEGER NOT NULL DEFAULT 0,
    created_at         TEXT    NOT NULL,
    updated_at         TEXT    NOT NULL
);

CREATE TABLE subscriptions (
    id         INTEGER PRIMARY KEY,
    tenant_id  INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    package_id INTEGER NOT NULL REFERENCES packages(id) ON DELETE RESTRICT,
    active     INTEGER NOT NULL DEFAULT 1,
    started_at TEXT    NOT NULL,
    ended_at   TEXT
);
CREATE UNIQUE INDEX subscriptions_one_active ON subscriptions(tenant_id) WHERE active = 1;

-- Usage counters for the period, seeded from the package when a subscription starts.
CREATE TABLE quotas (
    tenant_id    INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    kind         TEXT    NOT NULL CHECK (kind IN ('voice_minutes','fax_pages','conference_minutes')),
    allocated    INTEGER NOT NULL,
    used         INTEGER NOT NULL DEFAULT 0,
    period_start TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, kind)
) WITHOUT ROWID;

CREATE TABLE activity_log (
    id         INTEGER PRIMARY KEY,
    at         TEXT    NOT NULL,
    user_id    INTEGER,          -- no foreign key: the log outlives deleted users
    user_email TEXT    NOT NULL DEFAULT '',
    tenant_id  INTEGER,
    action     TEXT    NOT NULL,
    object     TEXT    NOT NULL DEFAULT '',
    detail     TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX activity_at ON activity_log(at);
CREATE INDEX activity_tenant ON activity_log(tenant_id, at);

CREATE TABLE announcements (
    id         INTEGER PRIMARY KEY,
    tenant_id  INTEGER REFERENCES tenants(id) ON DELETE CASCADE, -- NULL = system-wide
    title      TEXT    NOT NULL,
    body       TEXT    NOT NULL DEFAULT '',
    roles      TEXT    NOT NULL DEFAULT '[]',  -- JSON array; empty = every role
    starts_at  TEXT,
    ends_at    TEXT,
    created_at TEXT    NOT NULL,
    updated_at TEXT    NOT NULL
);

CREATE TABLE branding (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER REFERENCES tenants(id) ON DELETE CASCADE, -- NULL = the system default
    hostname      TEXT    COLLATE NOCASE UNIQUE,          -- one row per white-label host name
    title         TEXT    NOT NULL DEFAULT '',
    logo          TEXT    NOT NULL DEFAULT '',
    login_background TEXT NOT NULL DEFAULT '',
    favicon       TEXT    NOT NULL DEFAULT '',
    footer        TEXT    NOT NULL DEFAULT '',
    support_email TEXT    NOT NULL DEFAULT '',
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
);
