//! Fax contacts' import and export (the rows themselves are a generic resource,
//! `resources::FAX_CONTACTS`): a CSV's rows added or updated by fax number in one
//! transaction, each row's fate reported, optionally into a group.

use rusqlite::OptionalExtension;

use super::{now, Result, Store, StoreError, TenantId};

/// One row as the file gives it.
#[derive(Debug, Clone, Default)]
pub struct ContactRow {
    pub name: String,
    pub company: String,
    pub fax: String,
    pub email: String,
    pub notes: String,
}

/// What became of each row.
#[derive(Debug, Default, serde::Serialize)]
pub struct ContactImport {
    pub imported: usize,
    pub updated: usize,
    /// Rows left out: the row's number (1 is the first after a header) and why.
    pub skipped: Vec<(usize, String)>,
}

impl Store {
    /// Adds the rows (a fax number already in the address book updates that contact), into
    /// `group` when given. `owner`: the user importing, who may update only their own
    /// contacts (None: a tenant admin). Skipped with the reason: a bad number, name or
    /// email, a number twice in the file, a number on the do-not-contact list.
    pub fn import_contacts(&self, tenant: TenantId, owner: Option<i64>, rows: &[ContactRow], group: Option<i64>) -> Result<ContactImport> {
        self.write(|tx| {
            if let Some(g) = group {
                let ok: Option<i64> = tx
                    .query_row("SELECT id FROM fax_groups WHERE id = ?1 AND tenant_id = ?2 AND (?3 IS NULL OR owner_user_id = ?3)", (g, tenant.0, owner), |r| r.get(0))
                    .optional()?;
                ok.ok_or_else(|| StoreError::invalid("group", "no such contact group"))?;
            }
            let mut out = ContactImport::default();
            let mut seen = std::collections::HashSet::new();
            let at = now();
            let mut find = tx.prepare_cached("SELECT id, owner_user_id FROM fax_contacts WHERE tenant_id = ?1 AND fax = ?2")?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO fax_contacts (tenant_id, owner_user_id, name, company, fax, email, notes, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
            )?;
            let mut update = tx.prepare_cached("UPDATE fax_contacts SET name = ?2, company = ?3, email = ?4, notes = ?5, updated_at = ?6 WHERE id = ?1")?;
            let mut member = tx.prepare_cached(
                // (The next position is a subquery: an aggregate over no rows is still a row.)
                "INSERT INTO fax_group_members (parent_id, position, contact_id)
                 SELECT ?1, (SELECT COALESCE(MAX(position), -1) + 1 FROM fax_group_members WHERE parent_id = ?1), ?2
                 WHERE NOT EXISTS (SELECT 1 FROM fax_group_members WHERE parent_id = ?1 AND contact_id = ?2)",
            )?;
            for (i, row) in rows.iter().enumerate() {
                let n = i + 1;
                let checked = (|| -> std::result::Result<(String, String, String, String, String), String> {
                    let fax = crate::pbx::dial::e164(&row.fax).map_err(|e| format!("fax: {e}"))?;
                    let name = super::validate::line(row.name.trim(), 100).map_err(|e| format!("name: {e}"))?;
                    if name.is_empty() {
                        return Err("name: required".into());
                    }
                    let company = super::validate::line(row.company.trim(), 100).map_err(|e| format!("company: {e}"))?;
                    let email = row.email.trim().to_string();
                    if !email.is_empty() {
                        super::validate::email(&email).map_err(|e| format!("email: {e}"))?;
                    }
                    let notes = super::validate::text(row.notes.trim(), 1000).map_err(|e| format!("notes: {e}"))?;
                    Ok((fax, name, company, email, notes))
                })();
                let (fax, name, company, email, notes) = match checked {
                    Ok(v) => v,
                    Err(why) => {
                        out.skipped.push((n, why));
                        continue;
                    }
                };
                if !seen.insert(fax.clone()) {
                    out.skipped.push((n, format!("{fax} is in the file twice")));
                    continue;
                }
                if super::fax_dnc::listing(tx, tenant, &fax)?.is_some() {
                    out.skipped.push((n, format!("{fax} is on the do-not-contact list")));
                    continue;
                }
                let existing: Option<(i64, Option<i64>)> = find.query_row((tenant.0, &fax), |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
                let id = match existing {
                    Some((_, who)) if owner.is_some() && who != owner => {
                        out.skipped.push((n, format!("{fax} is another user's contact")));
                        continue;
                    }
                    Some((id, _)) => {
                        update.execute(rusqlite::params![id, name, company, email, notes, at])?;
                        out.updated += 1;
                        id
                    }
                    None => {
                        insert.execute(rusqlite::params![tenant.0, owner, name, company, fax, email, notes, at])?;
                        out.imported += 1;
                        tx.last_insert_rowid()
                    }
                };
                if let Some(g) = group {
                    member.execute((g, id))?;
                }
            }
            Ok(out)
        })
    }

    /// Every contact of the tenant (with `owner`, that user's), by name, for export.
    pub fn contacts_export(&self, tenant: TenantId, owner: Option<i64>) -> Result<Vec<ContactRow>> {
        let c = self.conn()?;
        let rows = c
            .prepare_cached(
                "SELECT name, company, fax, email, notes FROM fax_contacts WHERE tenant_id = ?1 AND (?2 IS NULL OR owner_user_id = ?2) ORDER BY name, id",
            )?
            .query_map((tenant.0, owner), |r| Ok(ContactRow { name: r.get(0)?, company: r.get(1)?, fax: r.get(2)?, email: r.get(3)?, notes: r.get(4)? }))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }
}
