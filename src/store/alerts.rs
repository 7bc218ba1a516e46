//! The alert outbox: alerts are queued in the transaction that causes them and mailed by
//! `crate::alerts`, which marks each sent or schedules its retry.

use rusqlite::Connection;
use serde::Serialize;

use super::{Result, Store};

/// An alert due to be mailed, with what the mail needs.
#[derive(Debug, Clone, Serialize)]
pub struct DueAlert {
    pub id: i64,
    pub tenant_id: i64,
    pub kind: String,
    pub company: String,
    /// The tenant's primary contact.
    pub email: String,
    pub balance: i64,
    pub threshold: i64,
    pub attempts: i64,
    pub created_at: String,
}

/// Queues an alert inside the caller's transaction, due at once.
pub(super) fn queue(c: &Connection, tenant: i64, kind: &str, balance: i64, threshold: i64) -> Result<()> {
    let now = super::now();
    c.execute(
        "INSERT INTO alert_outbox (tenant_id, kind, created_at, balance, threshold, next_attempt_at) VALUES (?1, ?2, ?3, ?4, ?5, ?3)",
        (tenant, kind, &now, balance, threshold),
    )?;
    Ok(())
}

impl Store {
    /// Unsent alerts whose (next) attempt is due at `now`, oldest first.
    pub fn due_alerts(&self, now: &str, limit: u32) -> Result<Vec<DueAlert>> {
        let c = self.conn()?;
        let rows = c
            .prepare_cached(
                "SELECT a.id, a.tenant_id, a.kind, t.company, t.email, a.balance, a.threshold, a.attempts, a.created_at
                 FROM alert_outbox a JOIN tenants t ON t.id = a.tenant_id
                 WHERE a.sent_at IS NULL AND a.next_attempt_at <= ?1 ORDER BY a.id LIMIT ?2",
            )?
            .query_map((now, limit), |r| {
                Ok(DueAlert {
                    id: r.get(0)?,
                    tenant_id: r.get(1)?,
                    kind: r.get(2)?,
                    company: r.get(3)?,
                    email: r.get(4)?,
                    balance: r.get(5)?,
                    threshold: r.get(6)?,
                    attempts: r.get(7)?,
                    created_at: r.get(8)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    pub fn alert_sent(&self, id: i64) -> Result<()> {
        self.write(|tx| {
            tx.execute("UPDATE alert_outbox SET sent_at = ?2, attempts = attempts + 1, last_error = '' WHERE id = ?1", (id, super::now()))?;
            Ok(())
        })
    }

    /// Records a failed attempt; the next is due at `retry_at`.
    pub fn alert_failed(&self, id: i64, error: &str, retry_at: &str) -> Result<()> {
        let error: String = error.chars().take(500).collect();
        self.write(|tx| {
            tx.execute(
                "UPDATE alert_outbox SET attempts = attempts + 1, last_error = ?2, next_attempt_at = ?3 WHERE id = ?1",
                (id, &error, retry_at),
            )?;
            Ok(())
        })
    }
}
