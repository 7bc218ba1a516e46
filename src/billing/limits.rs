//! Daily and monthly transaction limits (the tenant form's "Daily Limit" and "Monthly
//! Limit", -1 = unlimited, 0 = none): every call a tenant places to the outside world is one
//! transaction, counted per local day and month in the tenant's time zone. The store counts
//! them (`Store::count_transaction`, one transaction with the check).

use serde::Serialize;

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
/// not a known zone): the periods a transaction is counted in.
pub fn periods(tz: &str, at: jiff::Timestamp) -> (String, String) {
    let zone = jiff::tz::TimeZone::get(tz).unwrap_or(jiff::tz::TimeZone::UTC);
    let d = at.to_zoned(zone).date();
    (d.to_string(), format!("{:04}-{:02}", d.year(), d.month()))
}

/// The limit one more transaction would go over, given `today` and `this_month` counted
/// so far (the daily limit is checked first); None: it may go ahead and be counted.
pub fn reached(daily: i64, monthly: i64, today: i64, this_month: i64) -> Option<Limit> {
    [(daily, today, Limit::Daily), (monthly, this_month, Limit::Monthly)]
        .into_iter()
        .find(|&(limit, used, _)| limit >= 0 && used >= limit)
        .map(|(_, _, which)| which)
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
    fn a_transaction_at_a_limit_is_refused_daily_first() {
        assert_eq!(reached(2, 3, 1, 1), None);
        assert_eq!(reached(2, 3, 2, 2), Some(Limit::Daily));
        assert_eq!(reached(2, 3, 0, 3), Some(Limit::Monthly));
        assert_eq!(reached(2, 3, 2, 3), Some(Limit::Daily), "both reached: the daily one is named");
        assert_eq!(reached(-1, -1, 1_000, 1_000), None, "unlimited");
        assert_eq!(reached(0, -1, 0, 0), Some(Limit::Daily), "0 allows none");
        assert_eq!(reached(-1, 0, 0, 0), Some(Limit::Monthly));
    }
}
