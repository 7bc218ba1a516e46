//! System recordings: the rows that say which uploaded audio is whose. The bytes live under
//! the data directory (`sounds/<tenant>/<file>`); the API writes them. A greeting names one
//! as `sound:<id>` ([`sound_ref`]).

use rusqlite::OptionalExtension;
use serde::Serialize;

use super::resource::Within;
use super::{Result, Store, StoreError, TenantId};

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Sound {
    pub id: i64,
    pub tenant_id: i64,
    pub name: String,
    /// Path relative to the data directory.
    pub stored_as: String,
    pub bytes: i64,
    pub seconds: Option<f64>,
    pub created_at: String,
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Sound> {
    Ok(Sound {
        id: r.get(0)?,
        tenant_id: r.get(1)?,
        name: r.get(2)?,
        stored_as: r.get(3)?,
        bytes: r.get(4)?,
        seconds: r.get(5)?,
        created_at: r.get(6)?,
    })
}

const COLS: &str = "id, tenant_id, name, stored_as, bytes, seconds, created_at";

/// The recording a greeting names (`sound:<id>`), if it names one.
pub fn sound_ref(greeting: &str) -> Option<i64> {
    greeting.strip_prefix("sound:")?.parse().ok().filter(|id| *id > 0)
}

impl Store {
    /// Records an upload; a second one of the same name in the tenant is a conflict.
    pub fn add_sound(&self, tenant: TenantId, name: &str, stored_as: &str, bytes: i64, seconds: Option<f64>) -> Result<Sound> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO sounds (tenant_id, name, stored_as, bytes, seconds, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                (tenant.0, name, stored_as, bytes, seconds, super::now()),
            )
            .map_err(|e| super::resource::constraint(e, "recording"))?;
            Ok(tx.query_row(&format!("SELECT {COLS} FROM sounds WHERE id = ?1"), [tx.last_insert_rowid()], row)?)
        })
    }

    pub fn sounds(&self, within: Within) -> Result<Vec<Sound>> {
        let c = self.conn()?;
        let rows: rusqlite::Result<Vec<Sound>> = match within {
            Within::Tenant(t) => {
                c.prepare_cached(&format!("SELECT {COLS} FROM sounds WHERE tenant_id = ?1 ORDER BY name"))?.query_map([t.0], row)?.collect()
            }
            Within::Everything => c.prepare_cached(&format!("SELECT {COLS} FROM sounds ORDER BY tenant_id, name"))?.query_map([], row)?.collect(),
        };
        Ok(rows.map_err(StoreError::from)?)
    }

    pub fn sound(&self, within: Within, id: i64) -> Result<Sound> {
        let c = self.conn()?;
        let s = match within {
            Within::Tenant(t) => c.query_row(&format!("SELECT {COLS} FROM sounds WHERE id = ?1 AND tenant_id = ?2"), (id, t.0), row),
            Within::Everything => c.query_row(&format!("SELECT {COLS} FROM sounds WHERE id = ?1"), [id], row),
        }
        .optional()?;
        s.ok_or(StoreError::NotFound)
    }

    /// Deletes a recording no greeting names (a greeting that names it would go silent):
    /// the IVR menus and voicemail boxes that use it are listed in the refusal.
    pub fn delete_sound(&self, within: Within, id: i64) -> Result<Sound> {
        let s = self.sound(within, id)?;
        let r = format!("sound:{id}");
        self.write(|tx| {
            let mut users: Vec<String> = Vec::new();
            for (table, what) in [("ivr_menus", "IVR menu"), ("voicemail_boxes", "voicemail box")] {
                let mut st = tx.prepare(&format!("SELECT name FROM {table} WHERE tenant_id = ?1 AND greeting = ?2"))?;
                let names = st.query_map((s.tenant_id, &r), |row| row.get::<_, String>(0))?;
                for n in names {
                    users.push(format!("{what} {}", n?));
                }
            }
            if !users.is_empty() {
                return Err(StoreError::Conflict {
                    field: None,
                    message: format!("the recording is the greeting of {}: choose another greeting there first", users.join(", ")),
                });
            }
            tx.execute("DELETE FROM sounds WHERE id = ?1", [id])?;
            Ok(())
        })?;
        Ok(s)
    }
}
