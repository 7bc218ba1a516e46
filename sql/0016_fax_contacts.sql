-- Fax contacts and contact groups (issue 30): the address book behind faxes and campaigns.
-- Owned like other PBX objects: a user with the contacts token keeps their own, tenant
-- admins all of the tenant's.
CREATE TABLE fax_contacts (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    owner_user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    name          TEXT    NOT NULL,
    company       TEXT    NOT NULL DEFAULT '',
    fax           TEXT    NOT NULL,              -- E.164
    email         TEXT    NOT NULL DEFAULT '',
    notes         TEXT    NOT NULL DEFAULT '',
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL,
    UNIQUE (tenant_id, fax)
);
CREATE INDEX fax_contacts_name ON fax_contacts(tenant_id, name);

CREATE TABLE fax_groups (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    owner_user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    name          TEXT    NOT NULL,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL,
    UNIQUE (tenant_id, name)
);

CREATE TABLE fax_group_members (
    parent_id  INTEGER NOT NULL REFERENCES fax_groups(id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    contact_id INTEGER NOT NULL REFERENCES fax_contacts(id) ON DELETE CASCADE,
    PRIMARY KEY (parent_id, position)
);
CREATE INDEX fax_group_members_contact ON fax_group_members(contact_id);
