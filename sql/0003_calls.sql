-- Live call state and call records.

-- Round-robin ring groups remember where they stopped.
ALTER TABLE ring_groups ADD COLUMN rr_position INTEGER NOT NULL DEFAULT 0;

-- One row per call, keyed by the channel UUID: a repeated hangup never writes twice.
CREATE TABLE cdrs (
    id             INTEGER PRIMARY KEY,
    uuid           TEXT    NOT NULL UNIQUE,
    tenant_id      INTEGER REFERENCES tenants(id) ON DELETE CASCADE,
    direction      TEXT    NOT NULL CHECK (direction IN ('inbound','outbound','internal')),
    caller_number  TEXT    NOT NULL DEFAULT '',
    caller_name    TEXT    NOT NULL DEFAULT '',
    callee         TEXT    NOT NULL DEFAULT '',   -- the number dialed
    did            TEXT    NOT NULL DEFAULT '',
    extension      TEXT    NOT NULL DEFAULT '',   -- the caller's or the answering extension
    trunk_id       INTEGER,
    started_at     TEXT    NOT NULL,
    answered_at    TEXT,
    ended_at       TEXT    NOT NULL,
    duration       INTEGER NOT NULL DEFAULT 0,    -- seconds, start to end
    billsec        INTEGER NOT NULL DEFAULT 0,    -- seconds, answer to end
    hangup_cause   TEXT    NOT NULL DEFAULT '',
    disposition    TEXT    NOT NULL DEFAULT '',   -- answered, busy, no_answer, failed, blocked
    recording_path TEXT    NOT NULL DEFAULT '',
    route          TEXT    NOT NULL DEFAULT ''    -- the path the call took, for support
);
CREATE INDEX cdrs_tenant_started ON cdrs(tenant_id, started_at);
