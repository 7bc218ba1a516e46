//! Star codes pressed during a conversation: `*1` records (on/off), `*2<number>` blind
//! transfer, `*4<number>` attended transfer; a number ends with `#` or a pause.
//!
//! Only the tenant's own phones may use them: the caller when the call came from a phone,
//! the bridged party when it is a phone (`sofia/internal/…`). An outside party's keys go
//! through to the other side as ever and never move a call — an outside caller who could
//! press `*2` and a long-distance number would be dialing out on the tenant's trunks.
//!
//! FreeSWITCH facts (docs/in-call-features.md): the bridged party's DTMF events carry its
//! own Unique-ID and `Other-Leg-Unique-ID` of the controlled channel, so the outbound
//! session's filters deliver them; the actions are api commands, which run while the
//! bridge application is still executing.

use std::time::{Duration, Instant};

/// How long a code waits for its next key.
pub const PAUSE: Duration = Duration::from_secs(2);
/// The longest number a transfer code takes.
const MAX_DIGITS: usize = 15;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Code {
    Record,
    Blind(String),
    Attended(String),
}

/// One party's keys on the way to a code.
#[derive(Debug, Default)]
pub struct Keys {
    buf: String,
    last: Option<Instant>,
}

impl Keys {
    /// Feeds one key; a complete code comes back.
    pub fn push(&mut self, key: char, now: Instant) -> Option<Code> {
        if self.expired(now) {
            // A pause ended the code before this key.
            let done = self.finish();
            if done.is_some() {
                self.start(key, now);
                return done;
            }
        }
        self.last = Some(now);
        match (self.buf.as_str(), key) {
            ("", '*') => self.buf.push('*'),
            ("", _) => {}
            ("*", '1') => {
                self.buf.clear();
                return Some(Code::Record);
            }
            ("*", '2' | '4') => self.buf.push(key),
            ("*", '*') => {}
            ("*", _) => self.buf.clear(),
            (_, '#') => return self.finish(),
            // A star drops the number and starts a new code.
            (_, '*') => {
                self.buf.clear();
                self.buf.push('*');
            }
            (_, d) if d.is_ascii_digit() => {
                self.buf.push(d);
                if self.buf.len() - 2 >= MAX_DIGITS {
                    return self.finish();
                }
            }
            _ => self.buf.clear(),
        }
        None
    }

    fn start(&mut self, key: char, now: Instant) {
        self.last = Some(now);
        if key == '*' {
            self.buf.push('*');
        }
    }

    fn expired(&self, now: Instant) -> bool {
        self.last.is_some_and(|t| now.duration_since(t) >= PAUSE) && !self.buf.is_empty()
    }

    /// When a pause would complete the code, if one is under way.
    pub fn deadline(&self) -> Option<Instant> {
        if self.buf.len() > 2 {
            self.last.map(|t| t + PAUSE)
        } else {
            None
        }
    }

    /// The pause ran out: the code with the digits so far.
    pub fn timeout(&mut self, now: Instant) -> Option<Code> {
        if self.expired(now) {
            self.finish()
        } else {
            None
        }
    }

    fn finish(&mut self) -> Option<Code> {
        let buf = std::mem::take(&mut self.buf);
        self.last = None;
        let number = buf.get(2..).unwrap_or("").to_string();
        match buf.as_bytes().get(1) {
            _ if number.is_empty() => None,
            Some(b'2') => Some(Code::Blind(number)),
            Some(b'4') => Some(Code::Attended(number)),
            _ => None,
        }
    }
}

/// Is this event's channel one of the tenant's phones (the `internal` profile, or a
/// `user/` leg that became one)?
pub fn is_phone_channel(name: &str) -> bool {
    name.starts_with("sofia/internal/") || name.starts_with("user/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(keys: &str) -> Vec<Code> {
        let mut k = Keys::default();
        let t = Instant::now();
        keys.chars().filter_map(|c| k.push(c, t)).collect()
    }

    #[test]
    fn codes_are_read_from_keys() {
        assert_eq!(feed("*1"), vec![Code::Record]);
        assert_eq!(feed("*21003#"), vec![Code::Blind("1003".into())]);
        assert_eq!(feed("*41003#"), vec![Code::Attended("1003".into())]);
        assert_eq!(feed("12*1"), vec![Code::Record], "keys before the star are the conversation's");
        assert_eq!(feed("*2#"), vec![], "no number, no transfer");
        assert_eq!(feed("*21003*1"), vec![Code::Record], "a star cancels the number");
        assert_eq!(feed("*9*1"), vec![Code::Record]);
        assert_eq!(feed("*2123456789012345"), vec![Code::Blind("123456789012345".into())], "at most 15 digits");
    }

    #[test]
    fn a_pause_ends_the_number() {
        let mut k = Keys::default();
        let t = Instant::now();
        for c in "*2100".chars() {
            assert_eq!(k.push(c, t), None);
        }
        assert_eq!(k.deadline(), Some(t + PAUSE));
        assert_eq!(k.timeout(t + Duration::from_millis(500)), None);
        assert_eq!(k.timeout(t + PAUSE), Some(Code::Blind("100".into())));
        assert_eq!(k.deadline(), None);
        // A key after the pause both completes the old code and starts afresh.
        for c in "*2100".chars() {
            k.push(c, t);
        }
        assert_eq!(k.push('*', t + PAUSE), Some(Code::Blind("100".into())));
        assert_eq!(k.push('1', t + PAUSE), Some(Code::Record));
    }

    #[test]
    fn phones_are_told_from_outside_legs() {
        assert!(is_phone_channel("sofia/internal/1001@acme.test"));
        assert!(!is_phone_channel("sofia/external/+15551230000"));
        assert!(!is_phone_channel("sofia/gateway/trunk1/15551230000"));
    }
}
