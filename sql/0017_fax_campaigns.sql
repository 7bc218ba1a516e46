-- Cover pages and bulk fax campaigns (issue 30).

-- Cover page templates: a heading and a body whose {{merge fields}} are filled per
-- recipient. At most one default a tenant, and one a user among their own (kept so by the
-- store when one is set).
CREATE TABLE fax_cover_pages (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    owner_user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    name          TEXT    NOT NULL,
    heading       TEXT    NOT NULL DEFAULT 'FAX',
    body          TEXT    NOT NULL DEFAULT '',
    paper         TEXT    NOT NULL DEFAULT 'letter' CHECK (paper IN ('letter', 'a4')),
    is_default    INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL,
    UNIQUE (tenant_id, name)
);

-- A campaign: one document (its own links to the document's files) to many recipients,
-- within a sending window of the tenant's time zone, at most max_concurrent at once.
CREATE TABLE fax_campaigns (
    id             INTEGER PRIMARY KEY,
    tenant_id      INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    user_id        INTEGER REFERENCES users(id) ON DELETE SET NULL,
    name           TEXT    NOT NULL,
    document_name  TEXT    NOT NULL,
    pdf            TEXT    NOT NULL,
    tiff           TEXT    NOT NULL,
    pages          INTEGER NOT NULL,
    cover_page_id  INTEGER REFERENCES fax_cover_pages(id) ON DELETE SET NULL,
    subject        TEXT    NOT NULL DEFAULT '',
    message        TEXT    NOT NULL DEFAULT '',
    -- running (sending when due and in its window), paused (by a user, or for credit),
    -- cancelled, completed (every recipient in a final state).
    status         TEXT    NOT NULL CHECK (status IN ('running', 'paused', 'cancelled', 'completed')),
    paused_reason  TEXT    NOT NULL DEFAULT '',
    start_at       TEXT    NOT NULL,
    window_start   INTEGER NOT NULL DEFAULT 0,     -- minutes after midnight, tenant's zone
    window_end     INTEGER NOT NULL DEFAULT 1440,
    window_days    TEXT    NOT NULL DEFAULT '1234567', -- ISO weekdays, 1 Monday
    max_concurrent INTEGER NOT NULL,
    max_retries    INTEGER NOT NULL,
    retry_delay    INTEGER NOT NULL,
    created_at     TEXT    NOT NULL,
    finished_at    TEXT
);
CREATE INDEX fax_campaigns_list ON fax_campaigns(tenant_id, created_at);
CREATE INDEX fax_campaigns_live ON fax_campaigns(status) WHERE status IN ('running', 'paused');

-- One recipient of a campaign and where it is: queued (not yet tried, or waiting for its
-- next try), sending, sent, failed (tries spent or a number no route dials), skipped (on
-- the do-not-contact list, invalid, twice in the campaign, or the campaign cancelled).
CREATE TABLE fax_campaign_recipients (
    id          INTEGER PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES fax_campaigns(id) ON DELETE CASCADE,
    contact_id  INTEGER,
    name        TEXT    NOT NULL DEFAULT '',
    company     TEXT    NOT NULL DEFAULT '',
    number      TEXT    NOT NULL,
    state       TEXT    NOT NULL CHECK (state IN ('queued', 'sending', 'sent', 'failed', 'skipped')),
    reason      TEXT    NOT NULL DEFAULT '',
    tries       INTEGER NOT NULL DEFAULT 0,
    fax_id      INTEGER,                       -- the fax job, once made
    updated_at  TEXT    NOT NULL
);
CREATE INDEX fax_campaign_recipients_state ON fax_campaign_recipients(campaign_id, state, id);
CREATE UNIQUE INDEX fax_campaign_recipients_fax ON fax_campaign_recipients(fax_id) WHERE fax_id IS NOT NULL;

-- A campaign's fax: its recipient, and the campaign's retries instead of the tenant's.
ALTER TABLE faxes ADD COLUMN campaign_id INTEGER;
ALTER TABLE faxes ADD COLUMN recipient_id INTEGER;
ALTER TABLE faxes ADD COLUMN max_retries INTEGER;
ALTER TABLE faxes ADD COLUMN retry_delay INTEGER;
CREATE INDEX faxes_campaign ON faxes(campaign_id, status) WHERE campaign_id IS NOT NULL;
