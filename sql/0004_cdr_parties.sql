-- Who took part in each call, for "one extension's calls": a call belongs to the extension
-- that made it, took it, or was dialed. One row per distinct number of a call, ordered for
-- the CDR page (newest first), so a filtered page and its count read one index range
-- instead of every record of the tenant.
CREATE TABLE cdr_parties (
    tenant_id  INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    number     TEXT    NOT NULL,
    started_at TEXT    NOT NULL,
    cdr_id     INTEGER NOT NULL,   -- cdrs.id; records are never deleted but with their tenant
    PRIMARY KEY (tenant_id, number, started_at, cdr_id)
) WITHOUT ROWID;

INSERT OR IGNORE INTO cdr_parties (tenant_id, number, started_at, cdr_id)
    SELECT tenant_id, extension, started_at, id FROM cdrs WHERE tenant_id IS NOT NULL AND extension <> ''
    UNION SELECT tenant_id, callee, started_at, id FROM cdrs WHERE tenant_id IS NOT NULL AND callee <> ''
    UNION SELECT tenant_id, caller_number, started_at, id FROM cdrs WHERE tenant_id IS NOT NULL AND caller_number <> '';
