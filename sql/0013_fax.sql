-- Fax (issue 29): each fax received or sent, the tenant's fax settings, and the outbox of
-- received faxes to mail as PDF attachments.
CREATE TABLE faxes (
    id             INTEGER PRIMARY KEY,
    tenant_id      INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    direction      TEXT    NOT NULL CHECK (direction IN ('in', 'out')),
    -- in: received (every page), partial (some pages, then it failed), failed (none);
    -- out: queued, sending, sent, failed.
    status         TEXT    NOT NULL CHECK (status IN ('received', 'partial', 'failed', 'queued', 'sending', 'sent')),
    extension_id   INTEGER,                    -- the fax extension it came to (in)
    number         TEXT    NOT NULL,           -- the far end: its caller ID (in), the number dialed (out)
    remote_station TEXT    NOT NULL DEFAULT '',-- the far machine's station ID (T.30 TSI/CSI)
    pages          INTEGER NOT NULL DEFAULT 0,
    result_code    INTEGER,                    -- spandsp's T.30 completion code
    result_text    TEXT    NOT NULL DEFAULT '',
    rate           INTEGER,                    -- bits a second
    ecm            INTEGER,
    file           TEXT    NOT NULL DEFAULT '',-- the PDF, under the data directory's fax/
    call_uuid      TEXT    NOT NULL DEFAULT '',
    created_at     TEXT    NOT NULL,
    finished_at    TEXT,
    -- out: who sent it, what it says, the TIFF txfax reads, and the job's tries.
    user_id        INTEGER,
    subject        TEXT    NOT NULL DEFAULT '',
    tiff           TEXT    NOT NULL DEFAULT '',
    attempts       INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    -- The try under way: the switch's call carries it back (sb_fax_token), so a call that
    -- is not this try's (an old one, a stranger's variables) changes nothing.
    token          TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX faxes_list ON faxes(tenant_id, direction, created_at);
CREATE INDEX faxes_due ON faxes(next_attempt_at) WHERE status = 'queued';

CREATE TABLE fax_settings (
    tenant_id      INTEGER PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
    caller_id      TEXT    NOT NULL DEFAULT '',
    station_id     TEXT    NOT NULL DEFAULT '',
    header         TEXT    NOT NULL DEFAULT '',
    max_retries    INTEGER NOT NULL DEFAULT 3,
    retry_delay    INTEGER NOT NULL DEFAULT 300,
    ecm            INTEGER NOT NULL DEFAULT 1,
    t38            INTEGER NOT NULL DEFAULT 0,
    delivery_email TEXT    NOT NULL DEFAULT '',
    retention_days INTEGER NOT NULL DEFAULT 90
);

CREATE TABLE fax_deliveries (
    fax_id          INTEGER PRIMARY KEY REFERENCES faxes(id) ON DELETE CASCADE,
    email           TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT    NOT NULL,
    sent_at         TEXT,
    last_error      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX fax_deliveries_due ON fax_deliveries(next_attempt_at) WHERE sent_at IS NULL;
