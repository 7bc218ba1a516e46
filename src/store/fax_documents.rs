//! Fax Documents' SQL: the tenant's library of PDFs checked at upload, to send without
//! uploading again. Agents and end users see the documents they uploaded; tenant admins
//! all of the tenant's.

use rusqlite::OptionalExtension;

use super::{now, Result, Store, StoreError, TenantId};

/// A document to keep: its name, pages and size, and the PDF's file under the fax directory.
#[derive(Debug, Clone)]
pub struct NewDocument {
    pub user: Option<i64>,
    pub name: String,
    pub pages: i64,
    pub bytes: i64,
    pub file: String,
    /// The PDF rendered at fine resolution (what a send at that resolution hands `txfax`).
    pub tiff: String,
}

const COLUMNS: &str = "id, tenant_id, user_id, name, pages, bytes, created_at, file, tiff";

fn document_json(r: &rusqlite::Row<'_>) -> rusqlite::Result<serde_json::Value> {
    Ok(serde_json::json!({
        "id": r.get::<_, i64>(0)?, "tenant_id": r.get::<_, i64>(1)?, "user_id": r.get::<_, Option<i64>>(2)?,
        "name": r.get::<_, String>(3)?, "pages": r.get::<_, i64>(4)?, "bytes": r.get::<_, i64>(5)?, "created_at": r.get::<_, String>(6)?,
    }))
}

impl Store {
    pub fn add_fax_document(&self, tenant: TenantId, d: &NewDocument) -> Result<i64> {
        super::validate::line(&d.name, 200).map_err(|e| StoreError::invalid("name", e))?;
        if d.name.trim().is_empty() {
            return Err(StoreError::invalid("name", "required"));
        }
        self.write(|tx| {
            tx.prepare_cached(
                "INSERT INTO fax_documents (tenant_id, user_id, name, pages, bytes, file, tiff, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(rusqlite::params![tenant.0, d.user, d.name.trim(), d.pages, d.bytes, d.file, d.tiff, now()])?;
            Ok(tx.last_insert_rowid())
        })
    }

    /// The tenant's documents, newest first (with `owner`, only that user's).
    pub fn fax_documents(&self, tenant: TenantId, owner: Option<i64>, page: u32, per_page: u32) -> Result<super::Page> {
        let c = self.conn()?;
        let mut w = super::Where::new();
        w.and("tenant_id =", rusqlite::types::Value::Integer(tenant.0));
        if let Some(user) = owner {
            w.and("user_id =", rusqlite::types::Value::Integer(user));
        }
        w.page(&c, "fax_documents", COLUMNS, "created_at DESC, id DESC", page, per_page.clamp(1, 500), document_json)
    }

    /// One document (with `owner`, only if that user uploaded it) and its files: the PDF
    /// and the fine TIFF.
    pub fn fax_document(&self, tenant: TenantId, id: i64, owner: Option<i64>) -> Result<(serde_json::Value, [String; 2])> {
        let c = self.conn()?;
        let row = c
            .prepare_cached(&format!("SELECT {COLUMNS} FROM fax_documents WHERE id = ?1 AND tenant_id = ?2 AND (?3 IS NULL OR user_id = ?3)"))?
            .query_row((id, tenant.0, owner), |r| Ok((document_json(r)?, [r.get::<_, String>(7)?, r.get::<_, String>(8)?])))
            .optional()?;
        row.ok_or(StoreError::NotFound)
    }

    /// Removes a document from the library; its files' names, to delete. A fax already
    /// queued from it keeps its own copy.
    pub fn delete_fax_document(&self, tenant: TenantId, id: i64, owner: Option<i64>) -> Result<[String; 2]> {
        self.write(|tx| {
            let file: Option<[String; 2]> = tx
                .prepare_cached("DELETE FROM fax_documents WHERE id = ?1 AND tenant_id = ?2 AND (?3 IS NULL OR user_id = ?3) RETURNING file, tiff")?
                .query_row((id, tenant.0, owner), |r| Ok([r.get(0)?, r.get(1)?]))
                .optional()?;
            file.ok_or(StoreError::NotFound)
        })
    }
}
