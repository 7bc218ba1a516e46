//! Call detail records: written once per call, when it ends.

use serde::Serialize;

use super::{Result, Store, TenantId};

#[derive(Debug, Clone, Default, Serialize)]
pub struct Cdr {
    pub uuid: String,
    pub tenant: Option<TenantId>,
    pub direction: &'static str,
    pub caller_number: String,
    pub caller_name: String,
    pub callee: String,
    pub did: String,
    pub extension: String,
    pub trunk_id: Option<i64>,
    pub started_at: String,
    pub answered_at: Option<String>,
    pub ended_at: String,
    pub duration: i64,
    pub billsec: i64,
    pub hangup_cause: String,
    pub disposition: &'static str,
    pub recording_path: String,
    pub route: String,
}

impl Store {
    /// Writes the call's record; false when one already exists for this UUID (a repeated
    /// hangup), which is left as it was.
    pub fn write_cdr(&self, c: &Cdr) -> Result<bool> {
        Self::insert_cdr(&*self.conn()?, c)
    }

    /// Many records in one transaction (an import from another system, a benchmark's
    /// history); how many were new.
    pub fn write_cdrs(&self, batch: &[Cdr]) -> Result<usize> {
        self.write(|tx| {
            let mut n = 0;
            for c in batch {
                n += Self::insert_cdr(tx, c)? as usize;
            }
            Ok(n)
        })
    }

    fn insert_cdr(conn: &rusqlite::Connection, c: &Cdr) -> Result<bool> {
        let n = conn
            .prepare_cached(
                "INSERT INTO cdrs (uuid, tenant_id, direction, caller_number, caller_name, callee, did, extension, trunk_id, started_at, answered_at,
                               ended_at, duration, billsec, hangup_cause, disposition, recording_path, route)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18) ON CONFLICT (uuid) DO NOTHING",
            )?
            .execute(rusqlite::params![
                c.uuid,
                c.tenant.map(|t| t.0),
                c.direction,
                c.caller_number,
                c.caller_name,
                c.callee,
                c.did,
                c.extension,
                c.trunk_id,
                c.started_at,
                c.answered_at,
                c.ended_at,
                c.duration,
                c.billsec,
                c.hangup_cause,
                c.disposition,
                c.recording_path,
                c.route
            ])?;
        Ok(n == 1)
    }

    /// One call's record, by UUID (tests and support), in the shape of the CDR list.
    pub fn cdr(&self, uuid: &str) -> Result<Option<serde_json::Value>> {
        use rusqlite::OptionalExtension;
        let c = self.conn()?;
        let row =
            c.prepare_cached(&format!("SELECT {} FROM cdrs WHERE uuid = ?1", CDR_COLUMNS.join(", ")))?.query_row([uuid], cdr_json).optional()?;
        Ok(row)
    }
}

/// A row of [`CDR_COLUMNS`] as JSON, keyed by column.
fn cdr_json(r: &rusqlite::Row<'_>) -> rusqlite::Result<serde_json::Value> {
    use rusqlite::types::Value as Sql;
    let mut o = serde_json::Map::new();
    for (i, col) in CDR_COLUMNS.iter().enumerate() {
        let v = match r.get::<_, Sql>(i)? {
            Sql::Integer(n) => serde_json::json!(n),
            Sql::Text(t) => serde_json::Value::String(t),
            _ => serde_json::Value::Null,
        };
        o.insert(col.to_string(), v);
    }
    Ok(serde_json::Value::Object(o))
}

/// Filters of the CDR list.
#[derive(Debug, Default)]
pub struct CdrFilter {
    pub from: Option<String>,
    pub to: Option<String>,
    pub extension: Option<String>,
    pub direction: Option<String>,
    pub disposition: Option<String>,
    /// Only calls made or taken by these extensions (agents and end users: their own).
    pub own_extensions: Option<Vec<String>>,
    pub page: u32,
    pub per_page: u32,
}

pub const CDR_COLUMNS: &[&str] = &[
    "uuid",
    "direction",
    "caller_number",
    "caller_name",
    "callee",
    "did",
    "extension",
    "trunk_id",
    "started_at",
    "answered_at",
    "ended_at",
    "duration",
    "billsec",
    "hangup_cause",
    "disposition",
    "recording_path",
    "route",
    "tenant_id",
];

impl Store {
    /// Newest first, within a tenant (or all tenants for the super admin).
    pub fn cdrs(&self, within: super::resource::Within, f: &CdrFilter) -> Result<super::Page> {
        use rusqlite::types::Value as Sql;
        let c = self.conn()?;
        let mut w = super::Where::new();
        if let super::resource::Within::Tenant(t) = within {
            w.and("tenant_id =", Sql::Integer(t.0));
        }
        w.time_bound("from", "started_at >=", f.from.as_ref())?;
        w.time_bound("to", "started_at <", f.to.as_ref())?;
        // A call belongs to an extension that made it, took it, or was dialed.
        let touches = |n: usize| format!("extension = ?{n} OR callee = ?{n} OR caller_number = ?{n}");
        if let Some(e) = &f.extension {
            w.and_raw(touches, vec![Sql::Text(e.clone())]);
        }
        if let Some(d) = &f.direction {
            w.and("direction =", Sql::Text(d.clone()));
        }
        if let Some(d) = &f.disposition {
            w.and("disposition =", Sql::Text(d.clone()));
        }
        if let Some(own) = &f.own_extensions {
            let n = own.len();
            w.and_raw(
                |first| if n == 0 { "0".into() } else { (first..first + n).map(touches).collect::<Vec<_>>().join(" OR ") },
                own.iter().map(|e| Sql::Text(e.clone())).collect(),
            );
        }
        w.page(&c, "cdrs", &CDR_COLUMNS.join(", "), "started_at DESC, id DESC", f.page, f.per_page.clamp(1, 10_000), cdr_json)
    }
}
