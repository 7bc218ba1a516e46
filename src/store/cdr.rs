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
        let n = self
            .conn()?
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

    /// One call's record, by UUID (tests and support).
    pub fn cdr(&self, uuid: &str) -> Result<Option<serde_json::Value>> {
        use rusqlite::OptionalExtension;
        let c = self.conn()?;
        let row = c
            .prepare_cached(
                "SELECT uuid, tenant_id, direction, caller_number, caller_name, callee, did, extension, trunk_id, hangup_cause, disposition, billsec, route
                 FROM cdrs WHERE uuid = ?1",
            )?
            .query_row([uuid], |r| {
                Ok(serde_json::json!({
                    "uuid": r.get::<_, String>(0)?, "tenant_id": r.get::<_, Option<i64>>(1)?, "direction": r.get::<_, String>(2)?,
                    "caller_number": r.get::<_, String>(3)?, "caller_name": r.get::<_, String>(4)?, "callee": r.get::<_, String>(5)?,
                    "did": r.get::<_, String>(6)?, "extension": r.get::<_, String>(7)?, "trunk_id": r.get::<_, Option<i64>>(8)?,
                    "hangup_cause": r.get::<_, String>(9)?, "disposition": r.get::<_, String>(10)?, "billsec": r.get::<_, i64>(11)?,
                    "route": r.get::<_, String>(12)?,
                }))
            })
            .optional()?;
        Ok(row)
    }
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
        let mut args: Vec<Sql> = Vec::new();
        let mut w = String::from("1=1");
        let mut cond = |sql: &str, v: Sql| {
            args.push(v);
            w.push_str(&format!(" AND {sql} ?{}", args.len()));
        };
        if let super::resource::Within::Tenant(t) = within {
            cond("tenant_id =", Sql::Integer(t.0));
        }
        for (field, bound, op) in [("from", &f.from, "started_at >="), ("to", &f.to, "started_at <")] {
            if let Some(v) = bound {
                if v.parse::<jiff::Timestamp>().is_err() && v.parse::<jiff::civil::Date>().is_err() {
                    return Err(super::StoreError::invalid(field, "must be a date (YYYY-MM-DD) or an RFC 3339 time"));
                }
                cond(op, Sql::Text(v.clone()));
            }
        }
        if let Some(e) = &f.extension {
            args.push(Sql::Text(e.clone()));
            w.push_str(&format!(" AND (extension = ?{n} OR callee = ?{n} OR caller_number = ?{n})", n = args.len()));
        }
        if let Some(d) = &f.direction {
            args.push(Sql::Text(d.clone()));
            w.push_str(&format!(" AND direction = ?{}", args.len()));
        }
        if let Some(d) = &f.disposition {
            args.push(Sql::Text(d.clone()));
            w.push_str(&format!(" AND disposition = ?{}", args.len()));
        }
        if let Some(own) = &f.own_extensions {
            if own.is_empty() {
                w.push_str(" AND 0");
            } else {
                let mut ors = Vec::new();
                for e in own {
                    args.push(Sql::Text(e.clone()));
                    ors.push(format!("extension = ?{n} OR callee = ?{n} OR caller_number = ?{n}", n = args.len()));
                }
                w.push_str(&format!(" AND ({})", ors.join(" OR ")));
            }
        }
        let total: i64 = c.query_row(&format!("SELECT COUNT(*) FROM cdrs WHERE {w}"), rusqlite::params_from_iter(args.iter()), |r| r.get(0))?;
        let per_page = f.per_page.clamp(1, 10_000);
        let page = f.page.max(1);
        args.push(Sql::Integer(per_page as i64));
        args.push(Sql::Integer((page as i64 - 1) * per_page as i64));
        let sql = format!(
            "SELECT {} FROM cdrs WHERE {w} ORDER BY started_at DESC, id DESC LIMIT ?{} OFFSET ?{}",
            CDR_COLUMNS.join(", "),
            args.len() - 1,
            args.len()
        );
        let mut st = c.prepare(&sql)?;
        let items = st
            .query_map(rusqlite::params_from_iter(args.iter()), |r| {
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
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(super::Page { items, total, page, per_page })
    }
}
