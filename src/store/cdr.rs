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
