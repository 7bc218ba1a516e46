//! Call queues' SQL: the agents' phones and their own choice (logged out, available, on
//! break), which survives a restart. The queue row itself is a resource (`routing`).

use rusqlite::OptionalExtension;

use super::{now, Result, Store, StoreError, TenantId};
use crate::pbx::config::AgentPhones;
use crate::pbx::queue::{Counters, Outcome};

/// The choices an agent makes, as stored.
pub const STATUSES: &[&str] = &["logged_out", "available", "on_break"];

impl Store {
    /// The phones and choice of each of `users` in `tenant` (users of another tenant are
    /// not returned), in the order asked.
    pub fn queue_agents(&self, tenant: TenantId, users: &[i64]) -> Result<Vec<AgentPhones>> {
        let c = self.conn()?;
        let mut user = c.prepare_cached(
            "SELECT u.name, COALESCE(s.status, 'logged_out') FROM users u LEFT JOIN queue_agent_status s ON s.user_id = u.id
             WHERE u.id = ?1 AND u.tenant_id = ?2",
        )?;
        let mut phones = c.prepare_cached("SELECT number, dnd FROM extensions WHERE tenant_id = ?1 AND user_id = ?2 ORDER BY number")?;
        let mut out = Vec::with_capacity(users.len());
        for &id in users {
            let Some((name, status)) = user.query_row((id, tenant.0), |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))).optional()? else {
                continue;
            };
            let extensions =
                phones.query_map((tenant.0, id), |r| Ok((r.get::<_, String>(0)?, r.get::<_, bool>(1)?)))?.collect::<rusqlite::Result<_>>()?;
            out.push(AgentPhones { user_id: id, name, extensions, status });
        }
        Ok(out)
    }

    /// The call queues of `tenant` (None: of every tenant), by tenant and number.
    pub fn call_queue_ids(&self, tenant: Option<TenantId>) -> Result<Vec<(TenantId, i64)>> {
        let c = self.conn()?;
        let ids = c
            .prepare_cached("SELECT tenant_id, id FROM call_queues WHERE ?1 IS NULL OR tenant_id = ?1 ORDER BY tenant_id, number")?
            .query_map([tenant.map(|t| t.0)], |r| Ok((TenantId(r.get(0)?), r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(ids)
    }

    /// An agent's own choice (`logged_out` until they first log in).
    pub fn agent_status(&self, user: i64) -> Result<String> {
        let c = self.conn()?;
        let s = c.prepare_cached("SELECT status FROM queue_agent_status WHERE user_id = ?1")?.query_row([user], |r| r.get(0)).optional()?;
        Ok(s.unwrap_or_else(|| "logged_out".into()))
    }

    /// Records an agent's choice. The user must be of `tenant`.
    pub fn set_agent_status(&self, tenant: TenantId, user: i64, status: &str) -> Result<()> {
        if !STATUSES.contains(&status) {
            return Err(StoreError::Invalid { field: "status".into(), message: format!("must be one of {}", STATUSES.join(", ")) });
        }
        let c = self.conn()?;
        let mine: Option<i64> =
            c.prepare_cached("SELECT id FROM users WHERE id = ?1 AND tenant_id = ?2")?.query_row((user, tenant.0), |r| r.get(0)).optional()?;
        if mine.is_none() {
            return Err(StoreError::NotFound);
        }
        c.prepare_cached(
            "INSERT INTO queue_agent_status (user_id, status, changed_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (user_id) DO UPDATE SET status = excluded.status, changed_at = excluded.changed_at",
        )?
        .execute((user, status, now()))?;
        Ok(())
    }
}

/// One queue's figures for one local day of the report.
#[derive(Debug, Clone, serde::Serialize, PartialEq)]
pub struct QueueDay {
    /// `YYYY-MM-DD` in the tenant's time zone.
    pub date: String,
    pub queue_id: i64,
    /// As the queue is named now ('' when it has since been deleted).
    pub queue: String,
    #[serde(flatten)]
    pub counts: Counters,
}

impl Store {
    /// Every queue's figures per local day, from day `from` to day `to` (inclusive) in the
    /// tenant's time zone, counted from the calls' records (`queue_calls`) with the same
    /// rules as the live wallboard. Days and queues without calls are left out.
    pub fn queue_report(&self, tenant: TenantId, from: jiff::civil::Date, to: jiff::civil::Date) -> Result<Vec<QueueDay>> {
        let (tz, lo, hi, _) = super::usage::local_days(&self.tenant_timezone(tenant)?, from, to)?;
        let c = self.conn()?;
        let mut q = c.prepare_cached(
            "SELECT v.entered_at, v.queue_id, COALESCE(q.name, ''), COALESCE(q.service_level, 0), v.wait, v.outcome
             FROM queue_calls v LEFT JOIN call_queues q ON q.id = v.queue_id
             WHERE v.tenant_id = ?1 AND v.entered_at >= ?2 AND v.entered_at < ?3",
        )?;
        let mut days: std::collections::BTreeMap<(String, String, i64), Counters> = Default::default();
        let mut rows = q.query((tenant.0, lo.to_string(), hi.to_string()))?;
        while let Some(r) = rows.next()? {
            let (Ok(at), Some(how)) = (r.get::<_, String>(0)?.parse::<jiff::Timestamp>(), Outcome::parse(&r.get::<_, String>(5)?)) else { continue };
            let day = at.to_zoned(tz.clone()).date().to_string();
            let c = days.entry((day, r.get(2)?, r.get(1)?)).or_default();
            if how.entered() {
                c.entered();
            }
            c.left(how, r.get::<_, i64>(4)?.max(0) as u64 * 1000, r.get::<_, i64>(3)?.max(0) as u64);
        }
        Ok(days.into_iter().map(|((date, queue, queue_id), counts)| QueueDay { date, queue_id, queue, counts }).collect())
    }
}
