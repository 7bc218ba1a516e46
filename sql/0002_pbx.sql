-- PBX configuration. Every tenant-owned row carries tenant_id; store methods always filter by it.
-- owner_user_id is the non-admin user who created the row (slot allocations count these).
-- Destinations are canonical JSON ({"type":"extension","id":7}), checked by the store on write.

CREATE TABLE trunks (
    id             INTEGER PRIMARY KEY,
    name           TEXT    NOT NULL UNIQUE,
    host           TEXT    NOT NULL,
    port           INTEGER NOT NULL DEFAULT 5060,
    transport      TEXT    NOT NULL DEFAULT 'udp',
    username       TEXT    NOT NULL DEFAULT '',
    password       TEXT    NOT NULL DEFAULT '',
    register       INTEGER NOT NULL DEFAULT 0,
    caller_id      TEXT    NOT NULL DEFAULT '',
    codecs         TEXT    NOT NULL DEFAULT '[]',
    max_channels   INTEGER NOT NULL DEFAULT 0,       -- 0 = unlimited
    active         INTEGER NOT NULL DEFAULT 1,
    created_at     TEXT    NOT NULL,
    updated_at     TEXT    NOT NULL
);

CREATE TABLE dids (
    id          INTEGER PRIMARY KEY,
    number      TEXT    NOT NULL UNIQUE,             -- E.164
    trunk_id    INTEGER REFERENCES trunks(id) ON DELETE SET NULL,
    tenant_id   INTEGER REFERENCES tenants(id) ON DELETE SET NULL, -- NULL = not assigned
    description TEXT    NOT NULL DEFAULT '',
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL
);
CREATE INDEX dids_tenant ON dids(tenant_id);

CREATE TABLE extensions (
    id                INTEGER PRIMARY KEY,
    tenant_id         INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    owner_user_id     INTEGER REFERENCES users(id) ON DELETE SET NULL,
    number            TEXT    NOT NULL,
    display_name      TEXT    NOT NULL DEFAULT '',
    sip_password      TEXT    NOT NULL,
    type              TEXT    NOT NULL DEFAULT 'voice',
    voicemail_enabled INTEGER NOT NULL DEFAULT 0,
    voicemail_pin     TEXT    NOT NULL DEFAULT '',
    user_id           INTEGER REFERENCES users(id) ON DELETE SET NULL,
    dnd               INTEGER NOT NULL DEFAULT 0,
    forward_always    TEXT    NOT NULL DEFAULT '',
    forward_busy      TEXT    NOT NULL DEFAULT '',
    forward_no_answer TEXT    NOT NULL DEFAULT '',
    record_calls      INTEGER NOT NULL DEFAULT 0,
    created_at        TEXT    NOT NULL,
    updated_at        TEXT    NOT NULL,
    UNIQUE (tenant_id, number)
);
CREATE INDEX extensions_user ON extensions(user_id);

CREATE TABLE inbound_routes (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    owner_user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    did_id        INTEGER NOT NULL UNIQUE REFERENCES dids(id) ON DELETE CASCADE,
    name          TEXT    NOT NULL DEFAULT '',
    destination   TEXT    NOT NULL,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
);
CREATE INDEX inbound_routes_tenant ON inbound_routes(tenant_id);

CREATE TABLE outbound_routes (
    id              INTEGER PRIMARY KEY,
    tenant_id       INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    owner_user_id   INTEGER REFERENCES users(id) ON DELETE SET NULL,
    name            TEXT    NOT NULL,
    pattern         TEXT    NOT NULL,
    priority        INTEGER NOT NULL DEFAULT 100,
    strip_digits    INTEGER NOT NULL DEFAULT 0,
    prepend         TEXT    NOT NULL DEFAULT '',
    caller_id       TEXT    NOT NULL DEFAULT '',
    failover_causes TEXT    NOT NULL DEFAULT '[]',
    created_at      TEXT    NOT NULL,
    updated_at      TEXT    NOT NULL
);
CREATE INDEX outbound_routes_tenant ON outbound_routes(tenant_id, priority);
CREATE TABLE outbound_route_trunks (
    parent_id INTEGER NOT NULL REFERENCES outbound_routes(id) ON DELETE CASCADE,
    position  INTEGER NOT NULL,
    trunk_id  INTEGER NOT NULL REFERENCES trunks(id) ON DELETE RESTRICT,
    PRIMARY KEY (parent_id, position)
);

CREATE TABLE ring_groups (
    id                    INTEGER PRIMARY KEY,
    tenant_id             INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    owner_user_id         INTEGER REFERENCES users(id) ON DELETE SET NULL,
    name                  TEXT    NOT NULL,
    number                TEXT    NOT NULL,
    strategy              TEXT    NOT NULL DEFAULT 'simultaneous',
    timeout               INTEGER NOT NULL DEFAULT 30,
    no_answer_destination TEXT    NOT NULL DEFAULT '{"type":"hangup"}',
    moh_class_id          INTEGER REFERENCES moh_classes(id) ON DELETE SET NULL,
    created_at            TEXT    NOT NULL,
    updated_at            TEXT    NOT NULL,
    UNIQUE (tenant_id, number)
);
CREATE TABLE ring_group_members (
    parent_id    INTEGER NOT NULL REFERENCES ring_groups(id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    extension_id INTEGER NOT NULL REFERENCES extensions(id) ON DELETE CASCADE,
    PRIMARY KEY (parent_id, position)
);

CREATE TABLE ivr_menus (
    id                    INTEGER PRIMARY KEY,
    tenant_id             INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    owner_user_id         INTEGER REFERENCES users(id) ON DELETE SET NULL,
    name                  TEXT    NOT NULL,
    number                TEXT,
    greeting              TEXT    NOT NULL DEFAULT '',
    timeout               INTEGER NOT NULL DEFAULT 10,
    inter_digit_timeout   INTEGER NOT NULL DEFAULT 3,
    max_failures          INTEGER NOT NULL DEFAULT 3,
    invalid_destination   TEXT    NOT NULL DEFAULT '{"type":"hangup"}',
    timeout_destination   TEXT    NOT NULL DEFAULT '{"type":"hangup"}',
    direct_dial           INTEGER NOT NULL DEFAULT 0,
    created_at            TEXT    NOT NULL,
    updated_at            TEXT    NOT NULL,
    UNIQUE (tenant_id, number)
);
CREATE TABLE ivr_menu_options (
    parent_id   INTEGER NOT NULL REFERENCES ivr_menus(id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    digit       TEXT    NOT NULL,
    destination TEXT    NOT NULL,
    PRIMARY KEY (parent_id, position),
    UNIQUE (parent_id, digit)
);

CREATE TABLE call_queues (
    id                  INTEGER PRIMARY KEY,
    tenant_id           INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    owner_user_id       INTEGER REFERENCES users(id) ON DELETE SET NULL,
    name                TEXT    NOT NULL,
    number              TEXT    NOT NULL,
    strategy            TEXT    NOT NULL DEFAULT 'longest_idle',
    moh_class_id        INTEGER REFERENCES moh_classes(id) ON DELETE SET NULL,
    max_wait            INTEGER NOT NULL DEFAULT 300,
    timeout_destination TEXT    NOT NULL DEFAULT '{"type":"hangup"}',
    created_at          TEXT    NOT NULL,
    updated_at          TEXT    NOT NULL,
    UNIQUE (tenant_id, number)
);
CREATE TABLE call_queue_agents (
    parent_id INTEGER NOT NULL REFERENCES call_queues(id) ON DELETE CASCADE,
    position  INTEGER NOT NULL,
    user_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    tier      INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (parent_id, position)
);
CREATE INDEX call_queue_agents_user ON call_queue_agents(user_id);

CREATE TABLE voicemail_boxes (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    owner_user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    number        TEXT    NOT NULL,
    pin           TEXT    NOT NULL DEFAULT '',
    name          TEXT    NOT NULL DEFAULT '',
    email         TEXT    NOT NULL DEFAULT '',
    attach_audio  INTEGER NOT NULL DEFAULT 1,
    greeting      TEXT    NOT NULL DEFAULT '',
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL,
    UNIQUE (tenant_id, number)
);

CREATE TABLE conferences (
    id               INTEGER PRIMARY KEY,
    tenant_id        INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    owner_user_id    INTEGER REFERENCES users(id) ON DELETE SET NULL,
    name             TEXT    NOT NULL,
    number           TEXT    NOT NULL,
    pin              TEXT    NOT NULL DEFAULT '',
    max_participants INTEGER NOT NULL DEFAULT 0,  -- 0 = no limit
    record           INTEGER NOT NULL DEFAULT 0,
    created_at       TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL,
    UNIQUE (tenant_id, number)
);

CREATE TABLE follow_me (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    owner_user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    extension_id  INTEGER NOT NULL UNIQUE REFERENCES extensions(id) ON DELETE CASCADE,
    enabled       INTEGER NOT NULL DEFAULT 1,
    voicemail_last INTEGER NOT NULL DEFAULT 1,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
);
CREATE TABLE follow_me_destinations (
    parent_id INTEGER NOT NULL REFERENCES follow_me(id) ON DELETE CASCADE,
    position  INTEGER NOT NULL,
    number    TEXT    NOT NULL,
    delay     INTEGER NOT NULL DEFAULT 0,
    timeout   INTEGER NOT NULL DEFAULT 20,
    PRIMARY KEY (parent_id, position)
);

CREATE TABLE time_conditions (
    id                    INTEGER PRIMARY KEY,
    tenant_id             INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    owner_user_id         INTEGER REFERENCES users(id) ON DELETE SET NULL,
    name                  TEXT    NOT NULL,
    weekdays              TEXT    NOT NULL DEFAULT '[]',
    time_ranges           TEXT    NOT NULL DEFAULT '[]',
    date_ranges           TEXT    NOT NULL DEFAULT '[]',
    holidays              TEXT    NOT NULL DEFAULT '[]',
    matched_destination   TEXT    NOT NULL,
    unmatched_destination TEXT    NOT NULL,
    created_at            TEXT    NOT NULL,
    updated_at            TEXT    NOT NULL
);
CREATE INDEX time_conditions_tenant ON time_conditions(tenant_id);

CREATE TABLE call_flows (
    id                INTEGER PRIMARY KEY,
    tenant_id         INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    owner_user_id     INTEGER REFERENCES users(id) ON DELETE SET NULL,
    name              TEXT    NOT NULL,
    feature_code      TEXT    NOT NULL,
    pin               TEXT    NOT NULL DEFAULT '',
    state             TEXT    NOT NULL DEFAULT 'day',
    day_destination   TEXT    NOT NULL,
    night_destination TEXT    NOT NULL,
    created_at        TEXT    NOT NULL,
    updated_at        TEXT    NOT NULL,
    UNIQUE (tenant_id, feature_code)
);

CREATE TABLE call_blocks (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    owner_user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    match         TEXT    NOT NULL DEFAULT 'exact',
    value         TEXT    NOT NULL,
    direction     TEXT    NOT NULL DEFAULT 'inbound',
    action        TEXT    NOT NULL DEFAULT 'reject',
    note          TEXT    NOT NULL DEFAULT '',
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
);
CREATE INDEX call_blocks_tenant ON call_blocks(tenant_id, direction);

CREATE TABLE moh_classes (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    owner_user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    name          TEXT    NOT NULL,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL,
    UNIQUE (tenant_id, name)
);
CREATE TABLE moh_files (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    class_id    INTEGER NOT NULL REFERENCES moh_classes(id) ON DELETE CASCADE,
    file_name   TEXT    NOT NULL,
    stored_as   TEXT    NOT NULL,
    bytes       INTEGER NOT NULL,
    created_at  TEXT    NOT NULL,
    UNIQUE (class_id, file_name)
);

CREATE TABLE device_profiles (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    owner_user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    name          TEXT    NOT NULL,
    description   TEXT    NOT NULL DEFAULT '',
    codecs        TEXT    NOT NULL DEFAULT '[]',
    dtmf_mode     TEXT    NOT NULL DEFAULT 'rfc2833',
    timezone      TEXT    NOT NULL DEFAULT '',
    ntp_server    TEXT    NOT NULL DEFAULT '',
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL,
    UNIQUE (tenant_id, name)
);

CREATE TABLE devices (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    owner_user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    mac           TEXT    NOT NULL UNIQUE,           -- 12 lowercase hex; phones fetch by MAC alone
    label         TEXT    NOT NULL DEFAULT '',
    vendor        TEXT    NOT NULL,
    model         TEXT    NOT NULL DEFAULT '',
    profile_id    INTEGER REFERENCES device_profiles(id) ON DELETE SET NULL,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
);
CREATE INDEX devices_tenant ON devices(tenant_id);
CREATE TABLE device_lines (
    parent_id    INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    extension_id INTEGER NOT NULL REFERENCES extensions(id) ON DELETE CASCADE,
    PRIMARY KEY (parent_id, position)
);
