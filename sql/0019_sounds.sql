-- System recordings (issue 31): audio a tenant's admin uploads for IVR and voicemail
-- greetings. The bytes live under the data directory (`sounds/<tenant>/<file>`), where
-- FreeSWITCH plays them from; a greeting names one as `sound:<id>`.
CREATE TABLE sounds (
    id         INTEGER PRIMARY KEY,
    tenant_id  INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name       TEXT    NOT NULL,            -- the file name it was uploaded as
    stored_as  TEXT    NOT NULL,            -- relative to the data directory
    bytes      INTEGER NOT NULL,
    seconds    REAL,                        -- length, when the header says (WAV)
    created_at TEXT    NOT NULL,
    UNIQUE (tenant_id, name)
);
