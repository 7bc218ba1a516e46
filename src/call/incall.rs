//! Star codes pressed during a conversation, read and carried out: `*1` records (on/off), `*2<number>` blind
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

use std::time::Duration;

// tokio's clock, not std's: a bridge waits for a code's pause on it, and tests pause it.
use tokio::time::Instant;
use tracing::info;

use super::channel::Channel;
use super::state::{Call, RouteError, INVALID};
use crate::esl::{ApiCommand, Leg};
use crate::pbx::destination::Destination;
use crate::pbx::dialstring;

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

impl<C: Channel> Call<'_, C> {
    /// Carries out an in-call code pressed on `presser`, whose partner is `other`.
    pub(crate) async fn in_call_code(&mut self, code: Code, presser: &str, other: Option<&str>) -> Result<(), RouteError> {
        let me = self.ch.uuid().to_string();
        info!(?code, by = if presser == me { "caller" } else { "callee" }, "in-call code");
        match code {
            Code::Record => {
                match self.in_call.recording.take() {
                    Some(path) => {
                        self.api_ok(ApiCommand::UuidRecord { uuid: me.clone(), start: false, path }).await;
                    }
                    None => {
                        self.in_call.recorded += 1;
                        let Some(path) = self.recording_path(&format!("{me}-{}", self.in_call.recorded)).await else { return Ok(()) };
                        if self.api_ok(ApiCommand::UuidRecord { uuid: me.clone(), start: true, path: path.clone() }).await {
                            self.cdr.recording_path = path.clone();
                            self.in_call.recording = Some(path);
                        }
                    }
                }
                Ok(())
            }
            Code::Blind(number) => {
                let Some(other) = other else { return Ok(()) };
                if presser == me {
                    // The caller moves the party it called: that leg re-enters the tenant's
                    // own dialplan context (and so this router) at the number; the bridge then
                    // ends and hangup_after_bridge hangs the caller up.
                    self.api_ok(ApiCommand::UuidTransfer { uuid: other.to_string(), dest: number.clone(), context: self.tenant.sip_domain.clone() })
                        .await;
                    self.path.push(format!("callee transferred to {number}"));
                } else {
                    // The bridged phone moves the caller: it leaves, and the caller (still in
                    // this session once hangup_after_bridge is off) is routed to the number.
                    let dest = self.forward_to(&number).await?;
                    let keep = ApiCommand::UuidSetVar { uuid: me.clone(), name: "hangup_after_bridge".into(), value: "false".into() };
                    if self.api_ok(keep).await {
                        self.in_call.transfer_to = Some(dest);
                        self.api_ok(ApiCommand::UuidKill { uuid: presser.to_string(), cause: "NORMAL_CLEARING".into() }).await;
                    }
                }
                Ok(())
            }
            Code::Attended(number) => {
                // att_xfer on the presser's leg: the other party is held (hold_music), the
                // presser talks to the target, and hanging up joins the two (mod_dptools.c
                // att_thread_run). Only a phone of the tenant is consulted.
                let n = number.clone();
                let target = self
                    .read(move |st, t| match st.dialable(t, &n)? {
                        Some(Destination::Extension { id }) => Ok(Some(st.extension(t, id)?)),
                        _ => Ok(None),
                    })
                    .await?;
                match target.filter(|e| !e.dnd) {
                    Some(e) => {
                        let dial = dialstring::user(&e.number, &self.tenant.sip_domain);
                        self.api_ok(ApiCommand::UuidBroadcast { uuid: presser.to_string(), what: format!("att_xfer::{dial}"), leg: Leg::A }).await;
                        self.path.push(format!("attended transfer to {}", e.number));
                    }
                    None => {
                        info!(%number, "attended transfer target is not an available phone");
                        self.api_ok(ApiCommand::UuidBroadcast { uuid: presser.to_string(), what: INVALID.into(), leg: Leg::A }).await;
                    }
                }
                Ok(())
            }
        }
    }
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
