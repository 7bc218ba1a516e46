//! A time zone as desk phones understand one: a standard offset and, where the zone keeps
//! daylight-saving time, the rule "month, nth (or last) weekday, local time" for its start
//! and end. Phones have no IANA database; each vendor takes this rule in its own notation
//! (POSIX TZ for Grandstream, `month/week/weekday/hour` for Yealink, …).
//!
//! The rule is read off the zone's next two transitions from the IANA database, so it is the
//! rule in force now (the US's 2007 change, the EU's current one, southern-hemisphere zones
//! whose summer spans the new year).

use jiff::civil::Weekday;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan as _};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    /// Seconds east of UTC outside daylight-saving time.
    pub std_offset: i32,
    pub std_abbrev: String,
    pub dst: Option<Dst>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dst {
    /// Seconds east of UTC during daylight-saving time.
    pub offset: i32,
    pub abbrev: String,
    /// In local standard time.
    pub start: Change,
    /// In local daylight-saving time.
    pub end: Change,
}

impl Dst {
    /// How far clocks move, in seconds.
    pub fn save(&self, std_offset: i32) -> i32 {
        self.offset - std_offset
    }
}

/// When a change happens, as a recurring rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    /// 1 to 12.
    pub month: u8,
    /// 1 to 4, or 5 for "the last one in the month".
    pub week: u8,
    pub weekday: Weekday,
    /// Seconds after local midnight, on the wall clock before the change.
    pub time: i32,
}

impl Change {
    /// The first day of the month the rule's week starts on (1, 8, 15, 22), as phones that
    /// take "first `weekday` on or after day N" want it; `None` for "last".
    pub fn first_day(&self) -> Option<u8> {
        (self.week < 5).then(|| (self.week - 1) * 7 + 1)
    }
}

impl Zone {
    /// The zone `name` as of `at`. `None` for a name the database does not know.
    pub fn of(name: &str, at: Timestamp) -> Option<Zone> {
        let tz = TimeZone::get(name).ok()?;
        let horizon = at.checked_add(std::time::Duration::from_secs(366 * 86_400)).ok()?;
        let mut start = None;
        let mut end = None;
        for t in tz.following(at).take(4) {
            if t.timestamp() > horizon {
                break;
            }
            let before = tz.to_offset(t.timestamp().checked_sub(1.second()).ok()?);
            let change = change_at(t.timestamp(), before.seconds())?;
            if t.dst().is_dst() {
                start.get_or_insert((change, t.offset().seconds(), t.abbreviation().to_string()));
            } else {
                end.get_or_insert((change, t.offset().seconds(), t.abbreviation().to_string()));
            }
            if start.is_some() && end.is_some() {
                break;
            }
        }
        match (start, end) {
            (Some((start, offset, abbrev)), Some((end, std_offset, std_abbrev))) => {
                Some(Zone { std_offset, std_abbrev, dst: Some(Dst { offset, abbrev, start, end }) })
            }
            _ => {
                let info = tz.to_offset_info(at);
                // A zone that is in DST for good (or whose rules end) is a fixed offset now.
                Some(Zone { std_offset: info.offset().seconds(), std_abbrev: info.abbreviation().to_string(), dst: None })
            }
        }
    }

    /// POSIX TZ notation (`CET-1CEST-2,M3.5.0/02:00:00,M10.5.0/03:00:00`): offsets are hours
    /// *west* of UTC; a name that is not all letters is quoted in angle brackets.
    pub fn posix(&self) -> String {
        let mut s = format!("{}{}", posix_name(&self.std_abbrev), posix_offset(self.std_offset));
        if let Some(d) = &self.dst {
            let rule = |c: &Change| format!("M{}.{}.{}/{}", c.month, c.week, c.weekday.to_sunday_zero_offset(), hms(c.time));
            s += &format!("{}{},{},{}", posix_name(&d.abbrev), posix_offset(d.offset), rule(&d.start), rule(&d.end));
        }
        s
    }
}

fn change_at(ts: Timestamp, offset_before: i32) -> Option<Change> {
    let local = ts.to_zoned(TimeZone::fixed(jiff::tz::Offset::from_seconds(offset_before).ok()?)).datetime();
    let (day, days) = (local.day() as u8, local.date().days_in_month() as u8);
    let week = if day + 7 > days { 5 } else { (day - 1) / 7 + 1 };
    let time = local.hour() as i32 * 3600 + local.minute() as i32 * 60 + local.second() as i32;
    Some(Change { month: local.month() as u8, week, weekday: local.weekday(), time })
}

fn posix_name(abbrev: &str) -> String {
    if abbrev.len() >= 3 && abbrev.bytes().all(|b| b.is_ascii_alphabetic()) {
        abbrev.to_string()
    } else {
        // `+03`, `-0330`: the quoted form, with only the characters POSIX allows inside it.
        let clean: String = abbrev.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '+' || *c == '-').collect();
        format!("<{}>", if clean.len() >= 3 { clean } else { "UTC".into() })
    }
}

fn posix_offset(east: i32) -> String {
    let west = -east;
    let sign = if west < 0 { "-" } else { "" };
    let a = west.abs();
    let (h, m, s) = (a / 3600, a % 3600 / 60, a % 60);
    match (m, s) {
        (0, 0) => format!("{sign}{h}"),
        (_, 0) => format!("{sign}{h}:{m:02}"),
        _ => format!("{sign}{h}:{m:02}:{s:02}"),
    }
}

/// `02:00:00`
pub fn hms(secs: i32) -> String {
    format!("{:02}:{:02}:{:02}", secs / 3600, secs % 3600 / 60, secs % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn new_york_is_the_2007_us_rule() {
        let z = Zone::of("America/New_York", at("2026-11-22T12:00:00Z")).unwrap();
        assert_eq!(z.std_offset, -5 * 3600);
        let d = z.dst.as_ref().unwrap();
        assert_eq!(d.offset, -4 * 3600);
        assert_eq!(d.start, Change { month: 3, week: 2, weekday: Weekday::Sunday, time: 7200 });
        assert_eq!(d.end, Change { month: 11, week: 1, weekday: Weekday::Sunday, time: 7200 });
        assert_eq!(z.posix(), "EST5EDT4,M3.2.0/02:00:00,M11.1.0/02:00:00");
    }

    #[test]
    fn europe_changes_on_the_last_sunday_at_one_utc() {
        let z = Zone::of("Europe/Paris", at("2026-05-01T00:00:00Z")).unwrap();
        assert_eq!(z.posix(), "CET-1CEST-2,M3.5.0/02:00:00,M10.5.0/03:00:00");
        let z = Zone::of("Europe/London", at("2026-01-10T00:00:00Z")).unwrap();
        assert_eq!(z.posix(), "GMT0BST-1,M3.5.0/01:00:00,M10.5.0/02:00:00");
    }

    #[test]
    fn southern_summer_spans_the_new_year() {
        let z = Zone::of("Australia/Sydney", at("2026-11-22T00:00:00Z")).unwrap();
        let d = z.dst.as_ref().unwrap();
        assert_eq!((z.std_offset, d.offset), (10 * 3600, 11 * 3600));
        assert_eq!((d.start.month, d.start.week), (10, 1));
        assert_eq!((d.end.month, d.end.week, d.end.time), (4, 1, 3 * 3600));
    }

    #[test]
    fn zones_without_dst_and_odd_offsets() {
        let z = Zone::of("Asia/Kolkata", at("2026-11-22T00:00:00Z")).unwrap();
        assert_eq!((z.std_offset, z.dst.is_none()), (19800, true));
        assert_eq!(z.posix(), "IST-5:30");
        let z = Zone::of("America/Sao_Paulo", at("2026-11-22T00:00:00Z")).unwrap();
        assert_eq!(z.posix(), "<-03>3");
        assert_eq!(Zone::of("UTC", at("2026-11-22T00:00:00Z")).unwrap().posix(), "UTC0");
        assert!(Zone::of("Mars/Olympus", at("2026-11-22T00:00:00Z")).is_none());
    }
}
