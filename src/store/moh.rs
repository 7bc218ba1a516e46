//! Music-on-hold files: the rows that say which uploaded audio belongs to which class. The
//! bytes live under the data directory (`moh/<tenant>/<class>/<file>`); the API writes them.

use rusqlite::OptionalExtension;
use serde::Serialize;

use super::resource::Within;
use super::{Result, Store, StoreError, TenantId};

#[derive(Debug, Clone, Serialize)]
pub struct MohFile {
    pub id: i64,
    pub class_id: i64,
    pub file_name: String,
    /// Path relative to the data directory.
    pub stored_as: String,
    pub bytes: i64,
    pub created_at: String,
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<MohFile> {
    Ok(MohFile { id: r.get(0)?, class_id: r.get(1)?, file_name: r.get(2)?, stored_as: r.get(3)?, bytes: r.get(4)?, created_at: r.get(5)? })
}

const COLS: &str = "id, class_id, file_name, stored_as, bytes, created_at";

impl Store {
    /// Records an uploaded file; a second upload of the same name to a class is a conflict.
    pub fn add_moh_file(&self, tenant: TenantId, class: i64, file_name: &str, stored_as: &str, bytes: i64) -> Result<MohFile> {
        self.write(|tx| {
            let owned: Option<i64> =
                tx.query_row("SELECT id FROM moh_classes WHERE id = ?1 AND tenant_id = ?2", (class, tenant.0), |r| r.get(0)).optional()?;
            owned.ok_or(StoreError::NotFound)?;
            tx.execute(
                "INSERT INTO moh_files (tenant_id, class_id, file_name, stored_as, bytes, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                (tenant.0, class, file_name, stored_as, bytes, super::now()),
            )
            .map_err(|e| super::resource::constraint(e, "music-on-hold file"))?;
            Ok(tx.query_row(&format!("SELECT {COLS} FROM moh_files WHERE id = ?1"), [tx.last_insert_rowid()], row)?)
        })
    }

    pub fn moh_files(&self, tenant: TenantId, class: i64) -> Result<Vec<MohFile>> {
        let c = self.conn()?;
        let rows = c
            .prepare_cached(&format!("SELECT {COLS} FROM moh_files WHERE tenant_id = ?1 AND class_id = ?2 ORDER BY file_name"))?
            .query_map((tenant.0, class), row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    pub fn moh_file(&self, within: Within, id: i64) -> Result<MohFile> {
        let c = self.conn()?;
        let f = match within {
            Within::Tenant(t) => c.query_row(&format!("SELECT {COLS} FROM moh_files WHERE id = ?1 AND tenant_id = ?2"), (id, t.0), row),
            Within::Everything => c.query_row(&format!("SELECT {COLS} FROM moh_files WHERE id = ?1"), [id], row),
        }
        .optional()?;
        f.ok_or(StoreError::NotFound)
    }

    pub fn delete_moh_file(&self, within: Within, id: i64) -> Result<MohFile> {
        let f = self.moh_file(within, id)?;
        self.conn()?.execute("DELETE FROM moh_files WHERE id = ?1", [f.id])?;
        Ok(f)
    }
}
