-- Fax Documents (issue 29): PDFs uploaded once, checked (rendered) at upload, and chosen
-- on Send Fax (and by campaigns) instead of uploading again.
CREATE TABLE fax_documents (
    id         INTEGER PRIMARY KEY,
    tenant_id  INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    user_id    INTEGER REFERENCES users(id) ON DELETE SET NULL, -- who uploaded it
    name       TEXT    NOT NULL,
    pages      INTEGER NOT NULL,
    bytes      INTEGER NOT NULL,
    file       TEXT    NOT NULL,                                -- the PDF, under the data directory's fax/
    tiff       TEXT    NOT NULL,                                -- it rendered at fine resolution, ready for txfax
    created_at TEXT    NOT NULL
);
CREATE INDEX fax_documents_list ON fax_documents(tenant_id, created_at);

-- Whether a fax went by T.38: spandsp's fax_t38_status (off, requested, negotiated, refused).
ALTER TABLE faxes ADD COLUMN t38 TEXT;
