//! Events as the simulated switch fires them, and their serialization in each format.
//!
//! A channel event is: Event-Name and the core headers, headers the firing code adds before
//! the channel data (Hangup-Cause on HANGUP_COMPLETE, Bridge-A-Unique-ID on BRIDGE), the
//! basic channel data (switch_channel_event_set_basic_data), the caller profile, the other
//! leg's profile when bridged, every channel variable (for the event types listed in
//! switch_channel.c:2767–2800), then headers added after (Application-*, DTMF-*). The
//! profile and the variables are shared, pre-encoded blocks: a call fires a dozen events
//! of 200 headers each, and re-encoding them all would make the simulator, not switchboard,
//! the bottleneck of every benchmark.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};

use crate::esl::command::EventFormat;
use crate::esl::switch_side::{event_frame, finish_plain_body, put_header, serialize_json, serialize_plain_headers, serialize_xml};

/// A list of headers with its plain encoding computed once.
#[derive(Debug, Default)]
pub struct Block {
    pub pairs: Vec<(String, String)>,
    plain: OnceLock<Bytes>,
}

impl Block {
    pub fn new(pairs: Vec<(String, String)>) -> Arc<Block> {
        Arc::new(Block { pairs, plain: OnceLock::new() })
    }

    pub fn plain(&self) -> &Bytes {
        self.plain.get_or_init(|| serialize_plain_headers(self.pairs.iter().map(|(n, v)| (n.as_str(), v.as_str()))).freeze())
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone)]
pub struct SimEvent {
    pub name: String,
    /// Core headers, pre-channel headers and basic channel data.
    pub head: Vec<(String, String)>,
    /// Shared blocks: caller profile, other-leg profile, variables.
    pub blocks: Vec<Arc<Block>>,
    pub tail: Vec<(String, String)>,
    pub body: Option<String>,
}

impl SimEvent {
    /// A header by name, any case, wherever it sits.
    pub fn get(&self, name: &str) -> Option<&str> {
        fn find<'a>(v: &'a [(String, String)], name: &str) -> Option<&'a str> {
            v.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
        }
        find(&self.head, name).or_else(|| self.blocks.iter().find_map(|b| b.get(name))).or_else(|| find(&self.tail, name))
    }

    pub fn unique_id(&self) -> Option<&str> {
        self.get("Unique-ID")
    }

    fn all_pairs(&self) -> Vec<(String, String)> {
        let mut v = self.head.clone();
        for b in &self.blocks {
            v.extend(b.pairs.iter().cloned());
        }
        v.extend(self.tail.iter().cloned());
        v
    }

    /// The whole frame as it goes on the wire in `format`.
    pub fn frame(&self, format: EventFormat, out: &mut BytesMut) {
        match format {
            EventFormat::Plain => {
                let size = self.blocks.iter().map(|b| b.plain().len()).sum::<usize>() + 2048;
                let mut body = BytesMut::with_capacity(size);
                for (n, v) in &self.head {
                    put_header(&mut body, n, v);
                }
                for b in &self.blocks {
                    body.extend_from_slice(b.plain());
                }
                for (n, v) in &self.tail {
                    put_header(&mut body, n, v);
                }
                finish_plain_body(&mut body, self.body.as_deref());
                event_frame(format, &body, out);
            }
            EventFormat::Json => event_frame(format, serialize_json(&self.all_pairs(), self.body.as_deref()).as_bytes(), out),
            EventFormat::Xml => event_frame(format, serialize_xml(&self.all_pairs(), self.body.as_deref()).as_bytes(), out),
        }
    }
}

/// The switch's identity and clock, stamped on every event.
#[derive(Debug)]
pub struct Identity {
    pub core_uuid: String,
    pub hostname: String,
    pub ipv4: String,
    sequence: std::sync::atomic::AtomicU64,
    epoch: SystemTime,
    started: tokio::time::Instant,
}

impl Identity {
    pub fn new(hostname: &str) -> Identity {
        Identity {
            core_uuid: uuid::Uuid::new_v4().to_string(),
            hostname: hostname.to_string(),
            ipv4: "127.0.0.1".into(),
            sequence: std::sync::atomic::AtomicU64::new(1000),
            epoch: SystemTime::now(),
            started: tokio::time::Instant::now(),
        }
    }

    /// Wall time as the simulation sees it: follows tokio's clock, so on a paused clock a
    /// 60-second call is stamped 60 seconds long.
    pub fn now(&self) -> SystemTime {
        self.epoch + self.started.elapsed()
    }

    pub fn now_micros(&self) -> u64 {
        self.now().duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_micros() as u64
    }

    /// Event-Name, the core headers and the sequence (switch_event_prep_for_delivery_detailed,
    /// switch_event.c:1973–2003).
    pub fn core_headers(&self, name: &str, file: &str, func: &str, line: u32) -> Vec<(String, String)> {
        let micros = self.now_micros();
        let seq = self.sequence.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (local, gmt) = format_dates(micros / 1_000_000);
        vec![
            ("Event-Name".into(), name.into()),
            ("Core-UUID".into(), self.core_uuid.clone()),
            ("FreeSWITCH-Hostname".into(), self.hostname.clone()),
            ("FreeSWITCH-Switchname".into(), self.hostname.clone()),
            ("FreeSWITCH-IPv4".into(), self.ipv4.clone()),
            ("FreeSWITCH-IPv6".into(), "::1".into()),
            ("Event-Date-Local".into(), local),
            ("Event-Date-GMT".into(), gmt),
            ("Event-Date-Timestamp".into(), micros.to_string()),
            ("Event-Calling-File".into(), file.into()),
            ("Event-Calling-Function".into(), func.into()),
            ("Event-Calling-Line-Number".into(), line.to_string()),
            ("Event-Sequence".into(), seq.to_string()),
        ]
    }
}

/// `2015-01-06 15:12:37` and `Tue, 06 Jan 2015 15:12:37 GMT` (the simulated switch runs on UTC).
pub fn format_dates(secs: u64) -> (String, String) {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (h, m, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    let (y, mo, d) = civil_from_days(days);
    const WD: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MON: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let wd = WD[(days.rem_euclid(7)) as usize];
    (format!("{y:04}-{mo:02}-{d:02} {h:02}:{m:02}:{s:02}"), format!("{wd}, {d:02} {} {y:04} {h:02}:{m:02}:{s:02} GMT", MON[(mo - 1) as usize]))
}

/// Howard Hinnant's days-to-civil.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_match_freeswitch_format() {
        // 1420557157 is the Event-Date-Timestamp second of corpus frame 01.
        assert_eq!(format_dates(1_420_557_157), ("2015-01-06 15:12:37".into(), "Tue, 06 Jan 2015 15:12:37 GMT".into()));
    }
}
