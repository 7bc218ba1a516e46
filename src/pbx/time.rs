//! Time conditions, evaluated in the tenant's time zone (so "09:00" means nine o'clock on
//! the tenant's wall clock on both sides of a daylight-saving change).

use jiff::civil::Weekday;
use jiff::tz::TimeZone;
use jiff::Timestamp;

use super::config::TimeCondition;

fn weekday_name(w: Weekday) -> &'static str {
    match w {
        Weekday::Monday => "mon",
        Weekday::Tuesday => "tue",
        Weekday::Wednesday => "wed",
        Weekday::Thursday => "thu",
        Weekday::Friday => "fri",
        Weekday::Saturday => "sat",
        Weekday::Sunday => "sun",
    }
}

/// Whether `at` falls inside the condition, in time zone `tz` (unknown zones count as UTC).
/// Holidays always fall outside; date ranges (when given) must contain the day; weekdays
/// (when given) must list it; time ranges (when given) must contain the minute, start
/// included, end excluded.
pub fn matches(tc: &TimeCondition, tz: &str, at: Timestamp) -> bool {
    let zone = TimeZone::get(tz).unwrap_or(TimeZone::UTC);
    let local = at.to_zoned(zone);
    let date = local.date().to_string();
    if tc.holidays.iter().any(|h| h.date == date) {
        return false;
    }
    if !tc.date_ranges.is_empty() && !tc.date_ranges.iter().any(|r| r.start <= date && date <= r.end) {
        return false;
    }
    if !tc.weekdays.is_empty() && !tc.weekdays.iter().any(|w| w == weekday_name(local.weekday())) {
        return false;
    }
    let hm = format!("{:02}:{:02}", local.hour(), local.minute());
    tc.time_ranges.is_empty() || tc.time_ranges.iter().any(|r| r.start <= hm && hm < r.end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pbx::config::{Holiday, Range};
    use crate::pbx::destination::Destination;

    fn hours() -> TimeCondition {
        TimeCondition {
            id: 1,
            name: "hours".into(),
            weekdays: ["mon", "tue", "wed", "thu", "fri"].map(String::from).to_vec(),
            time_ranges: vec![Range { start: "09:00".into(), end: "17:00".into() }],
            date_ranges: vec![],
            holidays: vec![Holiday { date: "2026-12-25".into() }],
            matched_destination: Destination::Hangup { cause: None },
            unmatched_destination: Destination::Hangup { cause: None },
        }
    }

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn boundaries_are_exact_to_the_minute() {
        let tc = hours();
        let ny = "America/New_York";
        // Wednesday 2026-11-18, EST (UTC-5).
        assert!(!matches(&tc, ny, at("2026-11-18T13:59:59Z")), "08:59:59 local is closed");
        assert!(matches(&tc, ny, at("2026-11-18T14:00:00Z")), "09:00 opens");
        assert!(matches(&tc, ny, at("2026-11-18T21:59:59Z")), "16:59:59 still open");
        assert!(!matches(&tc, ny, at("2026-11-18T22:00:00Z")), "17:00 closes");
        assert!(!matches(&tc, ny, at("2026-11-21T15:00:00Z")), "Saturday");
        assert!(!matches(&tc, ny, at("2026-12-25T15:00:00Z")), "a holiday on a Friday");
    }

    #[test]
    fn daylight_saving_changes_move_the_utc_boundary() {
        let tc = hours();
        let ny = "America/New_York";
        // Friday 2026-03-06 is EST (UTC-5); Monday 2026-03-09 is EDT (UTC-4) after the change on the 8th.
        assert!(matches(&tc, ny, at("2026-03-06T14:00:00Z")));
        assert!(!matches(&tc, ny, at("2026-03-09T12:59:00Z")), "08:59 EDT");
        assert!(matches(&tc, ny, at("2026-03-09T13:00:00Z")), "09:00 EDT is 13:00 UTC after the change");
        // The same instant is a different wall-clock time elsewhere.
        assert!(!matches(&tc, "Asia/Tokyo", at("2026-03-09T13:00:00Z")), "22:00 in Tokyo");
    }
}
