//! Daily and monthly transaction limits (the tenant form's "Daily Limit" and "Monthly
//! Limit", -1 = unlimited): every call a tenant places to the outside world is one
//! transaction, counted per local day and month in the tenant's time zone. Checked and
//! counted in one transaction, so a burst of calls cannot slip past the limit together.

use rusqlite::OptionalExtension;
use serde::Serialize;

use super::{Result, Store, TenantId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Limit {
    Daily,
    Monthly,
}

impl Limit {
    pub fn as_str(self) -> &'static str {
        match self {
            Limit::Daily => "daily",
            Limit::Monthly => "monthly",
        }
    }
}

/// The local day (`2026-11-22`) and month (`2026-11`) of `at` in `tz` (UTC when `tz` is
/// not a known zone).
pub fn periods(tz: &str, at: jiff::Timestamp) -> (String, String) {
    let zone = jiff::tz::TimeZone::get(tz).unwrap_or(jiff::tz::TimeZone::UTC);
    let d = at.to_zoned(zone).date();
    (d.to_string(), format!("{:04}-{:02}", d.year(), d.month()))
}

impl Store {
    /// Counts one transaction of `tenant` at `at`, unless it would go over `daily` or
    /// `monthly` (-1: unlimited): then nothing is counted and the limit reached is returned.
    pub fn count_transaction(&self, tenant: TenantId, tz: &str, daily: i64, monthly: i64, at: jiff::Timestamp) -> Result<Option<Limit>> {
        let (day, month) = periods(tz, at);
        self.write(|tx| {
            for (period, limit, which) in [(&day, daily, Limit::Daily), (&month, monthly, Limit::Monthly)] {
                if limit < 0 {
                    continue;
                }
                let n: i64 = tx
                    .query_row("SELECT count FROM transaction_counts WHERE tenant_id = ?1 AND period = ?2", (tenant.0, period), |r| r.get(0))
                    .optional()?
                    .unwrap_or(0);
                if n >= limit {
                    return Ok(Some(which));
                }
            }
            let mut up = tx.prepare_cached(
                "INSERT INTO transaction_counts (tenant_id, period, count) VALUES (?1, ?2, 1)
                 ON CONFLICT (tenant_id, period) DO UPDATE SET count = count + 1",
            )?;
            up.execute((tenant.0, &day))?;
            up.execute((tenant.0, &month))?;
            Ok(None)
        })
    }

    /// Transactions counted for the local day and month of `at`.
    pub fn transactions(&self, tenant: TenantId, tz: &str, at: jiff::Timestamp) -> Result<(i64, i64)> {
        let (day, month) = periods(tz, at);
        let c = self.conn()?;
        let mut q = c.prepare_cached("SELECT count FROM transaction_counts WHERE tenant_id = ?1 AND period = ?2")?;
        let mut get = |p: &str| -> Result<i64> { Ok(q.query_row((tenant.0, p), |r| r.get(0)).optional()?.unwrap_or(0)) };
        Ok((get(&day)?, get(&month)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_local() {
        let t: jiff::Timestamp = "2026-12-01T03:00:00Z".parse().unwrap();
        assert_eq!(periods("America/New_York", t), ("2026-11-30".into(), "2026-11".into()));
        assert_eq!(periods("UTC", t), ("2026-12-01".into(), "2026-12".into()));
        assert_eq!(periods("Not/AZone", t).0, "2026-12-01");
    }

    #[test]
    fn a_limit_refuses_the_transaction_over_it_and_counts_nothing() {
        let (st, _dir) = crate::store::temp_store();
        let t = TenantId(crate::store::seed::single_tenant(&st).unwrap().unwrap());
        let at: jiff::Timestamp = "2026-11-22T12:00:00Z".parse().unwrap();
        for _ in 0..2 {
            assert_eq!(st.count_transaction(t, "UTC", 2, 3, at).unwrap(), None);
        }
        assert_eq!(st.count_transaction(t, "UTC", 2, 3, at).unwrap(), Some(Limit::Daily));
        assert_eq!(st.transactions(t, "UTC", at).unwrap(), (2, 2), "the refused one is not counted");
        let tomorrow = at + jiff::SignedDuration::from_hours(24);
        assert_eq!(st.count_transaction(t, "UTC", 2, 3, tomorrow).unwrap(), None);
        assert_eq!(st.count_transaction(t, "UTC", 2, 3, tomorrow).unwrap(), Some(Limit::Monthly));
        assert_eq!(st.count_transaction(t, "UTC", -1, -1, tomorrow).unwrap(), None, "unlimited still counts");
        assert_eq!(st.transactions(t, "UTC", tomorrow).unwrap(), (2, 4));
        assert_eq!(st.count_transaction(t, "UTC", 0, -1, tomorrow).unwrap(), Some(Limit::Daily), "0 allows none");
    }
}
