//! The last phase of a call: wait (briefly) for the switch's final record of the channel,
//! then write the CDR and settle its charge in one transaction, whatever ended the call.

use std::time::Duration;

use tracing::{info, warn};

use super::channel::Channel;
use super::state::{db, Call};

/// A FreeSWITCH time header (microseconds since the epoch, `0` for never) as the store
/// writes times.
fn micros_to_time(us: &str) -> Option<String> {
    let us: i64 = us.trim().parse().ok().filter(|n| *n > 0)?;
    let t = jiff::Timestamp::from_microsecond(us).ok()?;
    Some(t.round(jiff::Unit::Second).unwrap_or(t).to_string())
}

impl<C: Channel> Call<'_, C> {
    /// The call is over (or about to be): wait briefly for the final event, then write the CDR.
    pub(crate) async fn end(&mut self) {
        let done = self.ch.hangup_complete(Duration::from_secs(5)).await;
        let now = crate::store::now();
        let mut answered = false;
        if let Some(ev) = &done {
            self.cdr.hangup_cause = ev.hangup_cause().map(|c| c.into_owned()).unwrap_or_default();
            self.cdr.billsec = ev.variable("billsec").and_then(|v| v.parse().ok()).unwrap_or(0);
            self.cdr.duration = ev.variable("duration").and_then(|v| v.parse().ok()).unwrap_or(0);
            // A bridge the hangup interrupted (hangup_after_bridge) never reported back; the
            // channel's own record says whether it connected.
            answered = ev.variable("originate_disposition").as_deref() == Some("SUCCESS")
                || ev.get("Caller-Channel-Answered-Time").is_some_and(|t| t != "0");
        }
        if self.cdr.disposition.is_empty() {
            self.cdr.disposition = match (answered || self.cdr.billsec > 0, self.ringing) {
                (true, _) => "answered",
                (false, true) => "no_answer",
                (false, false) => "failed",
            };
        }
        if answered || self.cdr.billsec > 0 {
            // When the switch answered the channel (the bridge answers the caller when the
            // far end picks up): Caller-Channel-Answered-Time, microseconds since the epoch
            // (switch_channel.c switch_channel_event_set_basic_data). Now only if it is absent.
            let at = done.as_ref().and_then(|ev| ev.get("Caller-Channel-Answered-Time")).and_then(|t| micros_to_time(&t));
            self.cdr.answered_at = Some(at.unwrap_or_else(|| now.clone()));
        }
        if let Some(ev) = &done {
            // mod_conference names its member (conference_member.c:884): the call was in a
            // room, not only asked for its PIN or turned away.
            self.cdr.conference = ev.variable("conference_member_id").is_some();
            // The detailed record: the codec the caller's leg spoke (set once media was
            // negotiated; empty for a call never answered) and its SIP Call-ID.
            self.cdr.codec = ev.variable("read_codec").map(|c| c.into_owned()).unwrap_or_default();
            self.cdr.sip_call_id = ev.variable("sip_call_id").map(|c| c.into_owned()).unwrap_or_default();
            // A recorded conference's file, as mod_conference named it on the member's channel.
            if let Some(file) = ev.variable("conference_recording").filter(|f| !f.is_empty()) {
                if self.cdr.recording_path.is_empty() {
                    self.cdr.recording_path = file.into_owned();
                }
            }
        }
        self.cdr.ended_at = now;
        self.cdr.route = self.path.join(" → ");
        self.prepaid = None;
        let c = self.cdr.clone();
        let rate = self.rate;
        // The record and its charge in one transaction (an inbound or internal call is rated
        // now, after the fact: only outbound calls are authorised ahead).
        let settled = db(&self.env.store, move |st| {
            let rate = match (rate, c.tenant) {
                (Some(r), _) => Some(r),
                (None, Some(t)) if c.billsec > 0 && c.direction != "outbound" => {
                    let number = if c.direction == "inbound" { &c.did } else { &c.callee };
                    st.rate_for(t, None, c.direction, number)?
                }
                _ => None,
            };
            st.settle(&c, rate.as_ref())
        })
        .await;
        match settled {
            Ok(s) if s.charge > 0 || s.free_seconds > 0 => {
                info!(charge = s.charge, free_seconds = s.free_seconds, flagged = s.flagged, "call settled");
                if s.crossed_low_credit {
                    warn!(tenant = self.tenant.id, "tenant's balance fell below its low-credit threshold");
                }
            }
            Ok(_) => {}
            Err(e) => warn!(error = %e, "writing the CDR"),
        }
    }
}
