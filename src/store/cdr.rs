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
    /// The codec the caller's leg spoke (`PCMU`), and its SIP Call-ID: the detailed record.
    pub codec: String,
    pub sip_call_id: String,
    /// The call was a member of a conference (not a column: its billed seconds count
    /// toward the tenant's conference minutes when it is settled).
    pub conference: bool,
    /// Each call queue the call went to, in order (`queue_calls`).
    pub queue_visits: Vec<QueueVisit>,
}

/// One time a call went to a call queue, and how it left.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct QueueVisit {
    pub queue_id: i64,
    pub entered_at: String,
    /// Seconds in line: until an agent answered, or until it left.
    pub wait: i64,
    /// The user who answered.
    pub agent_id: Option<i64>,
    pub outcome: crate::pbx::queue::Outcome,
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

    /// Writes the record inside the caller's write transaction (which makes the id below
    /// safe: no other writer runs between reading the block's last id and using it).
    pub(crate) fn insert_cdr(conn: &rusqlite::Connection, c: &Cdr) -> Result<bool> {
        // A tenant's records are numbered in a block of their own, `tenant << 32` up, in the
        // order they are written, and the table is stored in id order: each tenant's calls
        // lie together in the file, newest last, instead of one among every tenant's calls
        // of the same minute. A page of a tenant's calls is then a few reads of the file,
        // not one per record — which is what it costs when the page cache is cold (see
        // sql/0008_cdr_list.sql). Records with no tenant (or a tenant id too big for a
        // block), and those written before this, are in block 0.
        let block = c.tenant.map(|t| t.0).filter(|t| (1..1 << 30).contains(t)).unwrap_or(0) << 32;
        let last: Option<i64> =
            conn.prepare_cached("SELECT max(id) FROM cdrs WHERE id >= ?1 AND id < ?2")?.query_row([block, block + (1 << 32)], |r| r.get(0))?;
        let n = conn
            .prepare_cached(
                "INSERT INTO cdrs (id, uuid, tenant_id, direction, caller_number, caller_name, callee, did, extension, trunk_id, started_at, answered_at,
                               ended_at, duration, billsec, hangup_cause, disposition, recording_path, route, codec, sip_call_id)
             VALUES (?19, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?20, ?21) ON CONFLICT (uuid) DO NOTHING",
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
                c.route,
                last.map_or(block + 1, |l| l + 1),
                c.codec,
                c.sip_call_id
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
                let mut visit = conn.prepare_cached(
                    "INSERT INTO queue_calls (cdr_uuid, seq, tenant_id, queue_id, entered_at, wait, agent_id, outcome)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )?;
                for (seq, v) in c.queue_visits.iter().enumerate() {
                    visit.execute(rusqlite::params![c.uuid, seq as i64, t.0, v.queue_id, v.entered_at, v.wait, v.agent_id, v.outcome.as_str()])?;
                }
            }
        }
        Ok(n == 1)
    }

    /// One call's record, by UUID (tests and support), in the shape of the CDR list.
    pub fn cdr(&self, uuid: &str) -> Result<Option<serde_json::Value>> {
        use rusqlite::OptionalExtension;
        let c = self.conn()?;
        let mut row =
            c.prepare_cached(&format!("SELECT {} FROM cdrs WHERE uuid = ?1", CDR_COLUMNS.join(", ")))?.query_row([uuid], cdr_json).optional()?;
        if let Some(r) = row.as_mut() {
            with_queue_visits(&c, std::slice::from_mut(r))?;
        }
        Ok(row)
    }
}

/// Adds each record's `queue_visits` (queue and agent by name, as they are named now).
fn with_queue_visits(c: &rusqlite::Connection, rows: &mut [serde_json::Value]) -> Result<()> {
    let mut q = c.prepare_cached(
        "SELECT v.queue_id, COALESCE(q.name, ''), v.entered_at, v.wait, v.agent_id, COALESCE(u.name, ''), v.outcome
         FROM queue_calls v LEFT JOIN call_queues q ON q.id = v.queue_id LEFT JOIN users u ON u.id = v.agent_id
         WHERE v.cdr_uuid = ?1 ORDER BY v.seq",
    )?;
    for row in rows {
        let Some(uuid) = row["uuid"].as_str().map(str::to_owned) else { continue };
        let visits: Vec<serde_json::Value> = q
            .query_map([uuid], |r| {
                Ok(serde_json::json!({
                    "queue_id": r.get::<_, i64>(0)?, "queue": r.get::<_, String>(1)?, "entered_at": r.get::<_, String>(2)?,
                    "wait": r.get::<_, i64>(3)?, "agent_id": r.get::<_, Option<i64>>(4)?, "agent": r.get::<_, String>(5)?,
                    "outcome": r.get::<_, String>(6)?,
                }))
            })?
            .collect::<rusqlite::Result<_>>()?;
        row["queue_visits"] = serde_json::Value::Array(visits);
    }
    Ok(())
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
    /// The one record with this id (its detail), if the other filters let it through.
    pub id: Option<i64>,
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
    "codec",
    "sip_call_id",
    "id",
];

impl Store {
    /// Newest first, within a tenant (or all tenants for the super admin).
    ///
    /// Built for millions of records (see sql/0008_cdr_list.sql): within a tenant, the
    /// count and the page's keys come from one index range — `cdr_parties` when the filters
    /// name one number (an extension, or a user's only own one), `cdrs_tenant_list`
    /// otherwise — and only the page's own rows are read from the table.
    pub fn cdrs(&self, within: super::resource::Within, f: &CdrFilter) -> Result<super::Page> {
        use rusqlite::types::Value as Sql;
        let c = self.conn()?;
        let tenant = match within {
            super::resource::Within::Tenant(t) => Some(t.0),
            _ => None,
        };
        let mut w = super::Where::new();
        // The one number whose calls are listed, when the filters name one.
        let own = f.own_extensions.as_deref();
        let party = match (&f.extension, own) {
            (Some(e), _) => Some(e),
            (None, Some([only])) => Some(only),
            _ => None,
        }
        .filter(|_| tenant.is_some());
        // A user's only extension named as the party needs no second test of the same thing.
        let party_is_own = f.extension.is_none() && party.is_some();
        let own_filter = own.filter(|_| !party_is_own);
        // The record's own columns are read only when a filter asks for one of them.
        let needs_record = f.direction.is_some() || f.disposition.is_some() || f.flagged || f.id.is_some() || own_filter.is_some();
        let (table, time, keys, order) = match party {
            Some(_) if !needs_record => ("cdr_parties p", "p.started_at", "p.cdr_id AS id, p.started_at AS at", "p.started_at DESC, p.cdr_id DESC"),
            Some(_) => (
                "cdr_parties p JOIN cdrs c ON c.id = p.cdr_id",
                "p.started_at",
                "p.cdr_id AS id, p.started_at AS at",
                "p.started_at DESC, p.cdr_id DESC",
            ),
            None => ("cdrs c", "c.started_at", "c.id AS id, c.started_at AS at", "c.started_at DESC, c.id DESC"),
        };
        if let Some(t) = tenant {
            w.and(if party.is_some() { "p.tenant_id =" } else { "c.tenant_id =" }, Sql::Integer(t));
        }
        w.time_bound("from", &format!("{time} >="), f.from.as_ref())?;
        w.time_bound("to", &format!("{time} <"), f.to.as_ref())?;
        // A call belongs to an extension that made it, took it, or was dialed.
        let touches = |n: usize| format!("c.extension = ?{n} OR c.callee = ?{n} OR c.caller_number = ?{n}");
        match (party, &f.extension) {
            (Some(number), _) => w.and("p.number =", Sql::Text(number.clone())),
            (None, Some(e)) => w.and_raw(touches, vec![Sql::Text(e.clone())]),
            (None, None) => {}
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
        if let Some(id) = f.id {
            w.and("c.id =", Sql::Integer(id));
        }
        if let Some(own) = own_filter {
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
        let mut page = w.page_keyed(&c, table, keys, order, f.page, f.per_page.clamp(1, 10_000), cdr_json, |page| {
            format!("SELECT {cols} FROM {page} k JOIN cdrs c ON c.id = k.id ORDER BY k.at DESC, k.id DESC")
        })?;
        with_queue_visits(&c, &mut page.items)?;
        Ok(page)
    }
}

#[cfg(test)]
mod tests {
    use super::{Cdr, CdrFilter};
    use crate::store::resource::Within;
    use crate::store::TenantId;

    fn tenants(c: &rusqlite::Connection, ids: &[i64]) {
        for t in ids {
            c.execute(
                "INSERT INTO tenants (id, company, email, sip_domain, created_at, updated_at) VALUES (?1, 'T', 't@t.test', ?2, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
                rusqlite::params![t, format!("t{t}.test")],
            )
            .unwrap();
        }
    }

    /// Records written interleaved are numbered in their tenant's block, in order, so the
    /// table keeps each tenant's calls together; a repeated hangup takes no number.
    #[test]
    fn a_tenants_records_are_numbered_together() {
        let (s, dir) = crate::store::temp_store();
        let c = s.conn().unwrap();
        tenants(&c, &[1, 2]);
        let mk = |uuid: &str, tenant: Option<i64>| Cdr {
            uuid: uuid.into(),
            tenant: tenant.map(TenantId),
            direction: "inbound",
            started_at: "2026-03-01T10:00:00Z".into(),
            ended_at: "2026-03-01T10:01:00Z".into(),
            ..Default::default()
        };
        for (uuid, t) in [("a", Some(1)), ("b", Some(2)), ("c", Some(1)), ("d", None), ("a", Some(1)), ("e", Some(2))] {
            s.write_cdr(&mk(uuid, t)).unwrap();
        }
        let ids: Vec<(String, i64)> = c
            .prepare("SELECT uuid, id FROM cdrs ORDER BY uuid")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let block = |t: i64| t << 32;
        assert_eq!(
            ids,
            vec![("a".into(), block(1) + 1), ("b".into(), block(2) + 1), ("c".into(), block(1) + 2), ("d".into(), 1), ("e".into(), block(2) + 2)]
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    /// Every way the list can be asked for (scope, one number, a user's own extensions,
    /// direction, disposition, the flag, a period, pages), against the same records
    /// filtered and ordered plainly in Rust: the index-driven paths must agree with it,
    /// totals and pages, ties in start time included.
    #[test]
    fn every_filter_and_page_agrees_with_a_plain_reading() {
        let (s, dir) = crate::store::temp_store();
        let c = s.conn().unwrap();
        tenants(&c, &[1, 2]);
        let numbers = ["1001", "1002", "1003", "+15550100"];
        let dirs = ["inbound", "outbound", "internal"];
        let disps = ["answered", "no_answer", "busy"];
        let mut all: Vec<(i64, Cdr, bool)> = Vec::new();
        for i in 0..240usize {
            // Several records share a start second: "newest first" must then be by id.
            let at = format!("2026-03-{:02}T10:00:{:02}Z", 1 + (i / 12) % 28, (i / 3) % 4);
            let cdr = Cdr {
                uuid: format!("u{i}"),
                tenant: Some(TenantId(1 + (i % 5 == 0) as i64)),
                direction: dirs[i % 3],
                caller_number: numbers[i % 4].into(),
                callee: numbers[(i / 4) % 4].into(),
                extension: numbers[(i / 7) % 3].into(),
                started_at: at.clone(),
                ended_at: at,
                disposition: disps[(i / 2) % 3],
                ..Default::default()
            };
            assert!(s.write_cdr(&cdr).unwrap());
            let flagged = i % 7 == 3;
            c.execute("UPDATE cdrs SET flagged = ?1 WHERE uuid = ?2", rusqlite::params![flagged, cdr.uuid]).unwrap();
            let id: i64 = c.query_row("SELECT id FROM cdrs WHERE uuid = ?1", [&cdr.uuid], |r| r.get(0)).unwrap();
            all.push((id, cdr, flagged));
        }
        let owns: [Option<Vec<String>>; 4] = [None, Some(vec![]), Some(vec!["1002".into()]), Some(vec!["1001".into(), "1003".into()])];
        let mut checked = 0;
        for within in [Within::Tenant(TenantId(1)), Within::Tenant(TenantId(2)), Within::Everything] {
            for extension in [None, Some("1001"), Some("+15550100")] {
                for own in &owns {
                    for direction in [None, Some("inbound")] {
                        for disposition in [None, Some("answered")] {
                            for flagged in [false, true] {
                                for (from, to) in [(None, None), (Some("2026-03-05"), Some("2026-03-20T10:00:01Z"))] {
                                    let mut expected: Vec<&(i64, Cdr, bool)> = all
                                        .iter()
                                        .filter(|(_, r, fl)| {
                                            let touches = |n: &str| r.extension == n || r.callee == n || r.caller_number == n;
                                            (match within {
                                                Within::Tenant(t) => r.tenant == Some(t),
                                                Within::Everything => true,
                                            }) && extension.is_none_or(touches)
                                                && own.as_ref().is_none_or(|o| o.iter().any(|n| touches(n)))
                                                && direction.is_none_or(|d| r.direction == d)
                                                && disposition.is_none_or(|d| r.disposition == d)
                                                && (!flagged || *fl)
                                                && from.is_none_or(|f| r.started_at.as_str() >= f)
                                                && to.is_none_or(|t| r.started_at.as_str() < t)
                                        })
                                        .collect();
                                    expected.sort_by(|a, b| (&b.1.started_at, b.0).cmp(&(&a.1.started_at, a.0)));
                                    for page in 1..=3 {
                                        let f = CdrFilter {
                                            from: from.map(String::from),
                                            to: to.map(String::from),
                                            extension: extension.map(String::from),
                                            direction: direction.map(String::from),
                                            disposition: disposition.map(String::from),
                                            own_extensions: own.clone(),
                                            flagged,
                                            id: None,
                                            page,
                                            per_page: 7,
                                        };
                                        let got = s.cdrs(within, &f).unwrap();
                                        let want: Vec<&str> =
                                            expected.iter().skip(7 * (page as usize - 1)).take(7).map(|(_, r, _)| r.uuid.as_str()).collect();
                                        let uuids: Vec<&str> = got.items.iter().map(|i| i["uuid"].as_str().unwrap()).collect();
                                        assert_eq!((got.total, uuids), (expected.len() as i64, want), "{f:?} within {within:?}");
                                        checked += 1;
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        assert_eq!(checked, 3 * 3 * 4 * 2 * 2 * 2 * 2 * 3);
        let _ = std::fs::remove_dir_all(dir);
    }

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
