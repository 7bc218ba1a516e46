//! The free tier's period: it restarts at midnight of the tenant's billing day, in the
//! tenant's time zone (so a New York tenant's minutes come back at 00:00 New York time,
//! whatever the daylight-saving offset that day).

use jiff::{civil, tz::TimeZone, Timestamp, ToSpan};

/// When the period that contains `now` began, for billing day `day` (1–28) in `tz`.
pub fn start(day: i64, tz: &str, now: Timestamp) -> Timestamp {
    let zone = TimeZone::get(tz).unwrap_or(TimeZone::UTC);
    let day = day.clamp(1, 28) as i8;
    let today = now.to_zoned(zone.clone()).date();
    let this_month = civil::date(today.year(), today.month(), day);
    let first = if today >= this_month { this_month } else { this_month.checked_sub(1.month()).unwrap_or(this_month) };
    first.to_zoned(zone).map(|z| z.timestamp()).unwrap_or(now)
}

/// The local dates from the first of the month to today in `tz` at `now` (UTC when `tz`
/// is not a known zone): the usage report's default period.
pub fn month_so_far(tz: &str, now: Timestamp) -> (civil::Date, civil::Date) {
    let today = now.to_zoned(TimeZone::get(tz).unwrap_or(TimeZone::UTC)).date();
    (today.first_of_month(), today)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn the_period_starts_on_the_billing_day_at_local_midnight() {
        // Billing day 15, New York (UTC-5 in winter).
        assert_eq!(start(15, "America/New_York", at("2026-12-20T12:00:00Z")), at("2026-12-15T05:00:00Z"));
        assert_eq!(start(15, "America/New_York", at("2026-12-10T12:00:00Z")), at("2026-11-15T05:00:00Z"));
        // 04:59 UTC on the 15th is still the 14th in New York: the old period.
        assert_eq!(start(15, "America/New_York", at("2026-12-15T04:59:59Z")), at("2026-11-15T05:00:00Z"));
        assert_eq!(start(15, "America/New_York", at("2026-12-15T05:00:00Z")), at("2026-12-15T05:00:00Z"));
    }

    #[test]
    fn across_daylight_saving_and_the_year_end() {
        // Summer time in New York is UTC-4.
        assert_eq!(start(1, "America/New_York", at("2026-07-10T00:00:00Z")), at("2026-07-01T04:00:00Z"));
        // January 5th with billing day 10: December 10th of the year before.
        assert_eq!(start(10, "UTC", at("2027-01-05T00:00:00Z")), at("2026-12-10T00:00:00Z"));
        // Month rollover seen in Tokyo before UTC.
        assert_eq!(start(1, "Asia/Tokyo", at("2026-11-30T15:00:00Z")), at("2026-11-30T15:00:00Z"));
    }

    #[test]
    fn the_month_so_far_is_local() {
        let (from, to) = month_so_far("America/New_York", at("2026-12-01T03:00:00Z"));
        assert_eq!((from.to_string(), to.to_string()), ("2026-11-01".into(), "2026-11-30".into()));
        assert_eq!(month_so_far("Not/AZone", at("2026-12-01T03:00:00Z")).0.to_string(), "2026-12-01");
    }
}
