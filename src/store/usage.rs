//! Usage for a period, by local day: the billing page's breakdown and chart.

use serde::Serialize;

use super::{Result, Store, StoreError, TenantId};

/// One local day's calls (or the period's total).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct DayUsage {
    /// `YYYY-MM-DD` in the tenant's time zone, or `total`.
    pub date: String,
    pub calls: i64,
    pub answered: i64,
    /// Talk time in seconds.
    pub billsec: i64,
    /// Each call's talk time in minutes, rounded up, summed.
    pub minutes: i64,
    /// Credit charged, micro-units.
    pub charges: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Usage {
    pub tenant_id: i64,
    pub timezone: String,
    pub from: String,
    pub to: String,
    /// Every day of the period, oldest first, days without calls included.
    pub days: Vec<DayUsage>,
    pub total: DayUsage,
}

/// The longest period one request may ask for.
pub const MAX_DAYS: i64 = 366;

/// Local days `from` to `to` (inclusive) in the time zone named `tz` (UTC when it is none
/// known): the zone, the first instant of `from` and of the day after `to`, and how many
/// days. Refused when `to` is before `from` or the period is longer than [`MAX_DAYS`].
pub(crate) fn local_days(
    tz: &str,
    from: jiff::civil::Date,
    to: jiff::civil::Date,
) -> Result<(jiff::tz::TimeZone, jiff::Timestamp, jiff::Timestamp, i64)> {
    if to < from {
        return Err(StoreError::invalid("to", "is before from"));
    }
    let span = (to - from).get_days() as i64 + 1;
    if span > MAX_DAYS {
        return Err(StoreError::invalid("to", format!("at most {MAX_DAYS} days from `from`")));
    }
    let tz = jiff::tz::TimeZone::get(tz).unwrap_or(jiff::tz::TimeZone::UTC);
    let start_of = |d: jiff::civil::Date| -> Result<jiff::Timestamp> {
        Ok(d.to_zoned(tz.clone()).map_err(|e| StoreError::invalid("from", e.to_string()))?.timestamp())
    };
    let (lo, hi) = (start_of(from)?, start_of(to.tomorrow().map_err(|e| StoreError::invalid("to", e.to_string()))?)?);
    Ok((tz, lo, hi, span))
}

impl Store {
    /// Calls started from local day `from` to local day `to` (inclusive) in the tenant's
    /// time zone, by day.
    pub fn usage(&self, tenant: TenantId, from: jiff::civil::Date, to: jiff::civil::Date) -> Result<Usage> {
        let tz_name = self.tenant_timezone(tenant)?;
        let (tz, lo, hi, span) = local_days(&tz_name, from, to)?;
        let c = self.conn()?;
        let mut days: Vec<DayUsage> =
            (0..span).map(|i| DayUsage { date: (from + jiff::Span::new().days(i)).to_string(), ..Default::default() }).collect();
        let mut q = c.prepare_cached(
            "SELECT started_at, answered_at IS NOT NULL OR billsec > 0, billsec, charge FROM cdrs
             WHERE tenant_id = ?1 AND started_at >= ?2 AND started_at < ?3",
        )?;
        let mut rows = q.query((tenant.0, lo.to_string(), hi.to_string()))?;
        while let Some(r) = rows.next()? {
            let started: String = r.get(0)?;
            let Ok(t) = started.parse::<jiff::Timestamp>() else { continue };
            let i = (t.to_zoned(tz.clone()).date() - from).get_days() as usize;
            let Some(d) = days.get_mut(i) else { continue };
            let billsec: i64 = r.get(2)?;
            d.calls += 1;
            d.answered += r.get::<_, bool>(1)? as i64;
            d.billsec += billsec;
            d.minutes += crate::billing::credit::minutes(billsec);
            d.charges += r.get::<_, i64>(3)?;
        }
        let total = days.iter().fold(DayUsage { date: "total".into(), ..Default::default() }, |mut t, d| {
            t.calls += d.calls;
            t.answered += d.answered;
            t.billsec += d.billsec;
            t.minutes += d.minutes;
            t.charges += d.charges;
            t
        });
        Ok(Usage { tenant_id: tenant.0, timezone: tz_name, from: from.to_string(), to: to.to_string(), days, total })
    }

    /// The tenant's time zone (UTC when it names none known).
    pub fn tenant_timezone(&self, tenant: TenantId) -> Result<String> {
        let c = self.conn()?;
        c.query_row("SELECT timezone FROM tenants WHERE id = ?1", [tenant.0], |r| r.get(0)).map_err(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => StoreError::NotFound,
            e => e.into(),
        })
    }
}
