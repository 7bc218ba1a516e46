-- The do-not-contact list (issue 30): numbers no fax of the tenant's may be sent to, single
-- or campaign; an entry is a whole number (E.164) or, with prefix = 1, every number that
-- begins with it.
CREATE TABLE fax_dnc (
    id         INTEGER PRIMARY KEY,
    tenant_id  INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    number     TEXT    NOT NULL,
    prefix     INTEGER NOT NULL DEFAULT 0,
    note       TEXT    NOT NULL DEFAULT '',
    created_at TEXT    NOT NULL,
    UNIQUE (tenant_id, number, prefix)
);
