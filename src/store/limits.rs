//! Counting the daily and monthly transactions (every call a tenant places to the outside
//! world is one, counted per local day and month in the tenant's time zone). The limits'
//! rule is [`crate::billing::limits`]; checked and counted here in one transaction, so a
//! burst of calls cannot slip past the limit together.

use rusqlite::{Connection, OptionalExtension};

use super::{Result, Store, TenantId};
use crate::billing::limits::reached;
pub use crate::billing::limits::{periods, Limit};

/// The transactions counted for the local `day` and `month`.
pub(super) fn counts(c: &Connection, tenant: TenantId, day: &str, month: &str) -> Result<(i64, i64)> {
    let mut q = c.prepare_cached("SELECT count FROM transaction_counts WHERE tenant_id = ?1 AND period = ?2")?;
    let mut get = |p: &str| -> Result<i64> { Ok(q.query_row((tenant.0, p), |r| r.get(0)).optional()?.unwrap_or(0)) };
    Ok((get(day)?, get(month)?))
}

impl Store {
    /// Counts one transaction of `tenant` at `at`, unless it would go over `daily` or
    /// `monthly` (-1: unlimited): then nothing is counted and the limit reached is returned.
    pub fn count_transaction(&self, tenant: TenantId, tz: &str, daily: i64, monthly: i64, at: jiff::Timestamp) -> Result<Option<Limit>> {
        let (day, month) = periods(tz, at);
        self.write(|tx| {
            let (today, this_month) = counts(tx, tenant, &day, &month)?;
            if let Some(limit) = reached(daily, monthly, today, this_month) {
                return Ok(Some(limit));
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
        counts(&*self.conn()?, tenant, &day, &month)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
