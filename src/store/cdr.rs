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
        Ok(self.settle(c, None)?.new)
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

    pub(crate) fn insert_cdr(conn: &rusqlite::Connection, c: &Cdr) -> Result<bool> {
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
        if n == 1 {
            if let Some(t) = c.tenant {
                // The record's parties (see sql/0004_cdr_parties.sql), each number once.
                let id = conn.last_insert_rowid();
                let mut numbers = vec![c.extension.as_str(), c.callee.as_str(), c.caller_number.as_str()];
                numbers.retain(|n| !n.is_empty());
                numbers.sort_unstable();
                numbers.dedup();
                let mut ins =
                    conn.prepare_cached("INSERT OR IGNORE INTO cdr_parties (tenant_id, number, started_at, cdr_id) VALUES (?1, ?2, ?3, ?4)")?;
                for number in numbers {
                    ins.execute(rusqlite::params![t.0, number, c.started_at, id])?;
                }
            }
        }
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
    /// Only calls that ran on no credit under the `flag` policy (the admins' review list).
    pub flagged: bool,
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
    "charge",
    "free_seconds",
    "flagged",
];

impl Store {
    /// Newest first, within a tenant (or all tenants for the super admin).
    ///
    /// Within a tenant, the extension filters read `cdr_parties`: one extension's page walks
    /// its index range newest first and stops at the page, and the count is a range count.
    pub fn cdrs(&self, within: super::resource::Within, f: &CdrFilter) -> Result<super::Page> {
        use rusqlite::types::Value as Sql;
        let c = self.conn()?;
        let tenant = match within {
            super::resource::Within::Tenant(t) => Some(t.0),
            _ => None,
        };
        let mut w = super::Where::new();
        // One extension of one tenant: the party index drives the page.
        let by_party = tenant.is_some() && f.extension.is_some();
        let (table, order, time) = if by_party {
            ("cdr_parties p JOIN cdrs c ON c.id = p.cdr_id", "p.started_at DESC, p.cdr_id DESC", "p.started_at")
        } else {
            ("cdrs c", "c.started_at DESC, c.id DESC", "c.started_at")
        };
        if let Some(t) = tenant {
            w.and(if by_party { "p.tenant_id =" } else { "c.tenant_id =" }, Sql::Integer(t));
        }
        w.time_bound("from", &format!("{time} >="), f.from.as_ref())?;
        w.time_bound("to", &format!("{time} <"), f.to.as_ref())?;
        // A call belongs to an extension that made it, took it, or was dialed.
        let touches = |n: usize| format!("c.extension = ?{n} OR c.callee = ?{n} OR c.caller_number = ?{n}");
        if let Some(e) = &f.extension {
            if by_party {
                w.and("p.number =", Sql::Text(e.clone()));
            } else {
                w.and_raw(touches, vec![Sql::Text(e.clone())]);
            }
        }
        if let Some(d) = &f.direction {
            w.and("c.direction =", Sql::Text(d.clone()));
        }
        if let Some(d) = &f.disposition {
            w.and("c.disposition =", Sql::Text(d.clone()));
        }
        if f.flagged {
            w.and("c.flagged =", Sql::Integer(1));
        }
        if let Some(own) = &f.own_extensions {
            let n = own.len();
            let values: Vec<Sql> = own.iter().map(|e| Sql::Text(e.clone())).collect();
            match tenant {
                // An agent's or end user's own calls: the few records the party index names.
                Some(t) if n > 0 => w.and_raw(
                    |first| {
                        let list = (first + 1..first + 1 + n).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ");
                        format!("c.id IN (SELECT cdr_id FROM cdr_parties WHERE tenant_id = ?{first} AND number IN ({list}))")
                    },
                    std::iter::once(Sql::Integer(t)).chain(values).collect(),
                ),
                _ => w.and_raw(|first| if n == 0 { "0".into() } else { (first..first + n).map(touches).collect::<Vec<_>>().join(" OR ") }, values),
            }
        }
        let cols = CDR_COLUMNS.iter().map(|col| format!("c.{col}")).collect::<Vec<_>>().join(", ");
        w.page(&c, table, &cols, order, f.page, f.per_page.clamp(1, 10_000), cdr_json)
    }
}

#[cfg(test)]
mod tests {
    /// Records written before `cdr_parties` existed are indexed by the migration that adds it.
    #[test]
    fn the_migration_indexes_existing_records() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        let m = super::super::migrations();
        m.to_version(&mut conn, 3).unwrap();
        conn.execute_batch(
            "INSERT INTO tenants (id, company, email, sip_domain, created_at, updated_at) VALUES (7, 'T', 't@t.test', 't.test', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
             INSERT INTO cdrs (uuid, tenant_id, direction, caller_number, callee, extension, started_at, ended_at)
                 VALUES ('a', 7, 'internal', '1001', '1002', '1002', '2026-01-01T00:00:00Z', '2026-01-01T00:01:00Z'),
                        ('b', NULL, 'inbound', '+15550100', '+12125550100', '', '2026-01-02T00:00:00Z', '2026-01-02T00:01:00Z');",
        )
        .unwrap();
        m.to_latest(&mut conn).unwrap();
        let rows: Vec<(i64, String)> = conn
            .prepare("SELECT tenant_id, number FROM cdr_parties ORDER BY number")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rows, vec![(7, "1001".to_string()), (7, "1002".to_string())], "each number once; no tenant, no party");
    }
}
