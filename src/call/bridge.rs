//! Ringing someone: the bridge, the keys both parties press while it runs (acted on by
//! [`super::incall`]), and what its end says about the call.

use std::collections::HashMap;
use tokio::time::Instant;

use tracing::info;

use super::channel::Channel;
use super::incall::{is_phone_channel, Keys};
use super::state::{Call, RouteError};
use crate::esl::Event;

impl<C: Channel> Call<'_, C> {
    /// Runs the bridge. None when the call is over: answered (the conversation happened),
    /// picked up by another phone (*8; `pickable` calls ring the tenant's phones), or the
    /// caller hung up while it rang; else the originate's cause, for the fallback.
    pub(crate) async fn bridge(&mut self, dialstring: &str, pickable: bool) -> Result<Option<String>, RouteError> {
        // Until the bridge reports back, a hangup is the caller giving up while it rang
        // (the record reads this when the hangup cut the wait short).
        self.ringing = true;
        let listed = pickable.then(|| self.env.ringing.list(self.tenant.id, self.ch.uuid(), &self.caller.number));
        let ev = self.bridge_watching_keys(dialstring).await?;
        self.ringing = false;
        let cause = ev.variable("originate_disposition").map(|v| v.into_owned()).unwrap_or_default();
        if cause == "SUCCESS" {
            self.cdr.disposition = "answered";
            return Ok(None);
        }
        if cause == "PICKED_OFF" {
            // Intercepted: FreeSWITCH now bridges the caller to the phone that dialed *8; the
            // call is over when that conversation is.
            let by = self.env.ringing.picked_by(self.ch.uuid()).unwrap_or_default();
            drop(listed);
            info!(by = %by, "call picked up");
            self.cdr.disposition = "answered";
            if !by.is_empty() {
                self.cdr.extension = by.clone();
            }
            self.path.push(format!("picked up by {by}"));
            self.ch.hangup_wait().await;
            return Ok(None);
        }
        if self.ch.hung_up() {
            info!(%cause, "the caller hung up while it rang");
            self.cdr.disposition = "no_answer";
            return Ok(None);
        }
        Ok(Some(cause))
    }

    /// A far leg's answer: the ring group member or queue agent who answered. The member's
    /// leg (user/<number>@<domain>) carries `dialed_user` (mod_dptools.c
    /// user_outgoing_channel); its destination number is the phone's contact user
    /// (`1002-0x55…` for some), not the extension. Recorded as it comes: with
    /// hangup_after_bridge the bridge never reports back.
    fn seen_answer(&mut self, ev: &Event) {
        if !ev.is("CHANNEL_ANSWER") || ev.unique_id().is_some_and(|u| u == self.ch.uuid()) {
            return;
        }
        if let Some(n) = ev.variable("dialed_user").filter(|n| self.in_call.members_ringing.iter().any(|m| m == n)) {
            self.cdr.extension = n.into_owned();
        }
        let agent = ev.variable(super::state::QUEUE_AGENT_VAR).and_then(|a| a.parse().ok());
        if let (Some(told), Some(agent)) = (&self.in_call.on_answer, agent) {
            told(agent);
        }
    }

    /// Runs the bridge application while reading the keys both parties press, acting on the
    /// in-call codes of the tenant's phones (see [`super::incall`]).
    async fn bridge_watching_keys(&mut self, dialstring: &str) -> Result<Event, RouteError> {
        // What arrived before this bridge (IVR digits and all) is not for it.
        while self.events.try_recv().is_ok() {}
        let ch = self.ch;
        let exec = ch.bridge(dialstring);
        tokio::pin!(exec);
        let mut keys: HashMap<String, Keys> = HashMap::new();
        // The bridged party, once it answers.
        let mut partner: Option<String> = None;
        // Whom a presser's code acts on: the caller's partner, or the caller.
        let other_of = |presser: &str, partner: &Option<String>| if presser == ch.uuid() { partner.clone() } else { Some(ch.uuid().to_string()) };
        loop {
            let deadline = keys.values().filter_map(Keys::deadline).min();
            let pause = async {
                match deadline {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                done = &mut exec => {
                    // A leg's answer queued before the bridge's end (its EXECUTE_COMPLETE,
                    // or the caller's hangup in that instant) is still read: else a caller
                    // who hung up as the agent answered is recorded as abandoned.
                    while let Ok(ev) = self.events.try_recv() {
                        self.seen_answer(&ev);
                    }
                    return Ok(done?);
                }
                Some(ev) = self.events.recv() => {
                    let uuid = ev.unique_id().map(|u| u.into_owned()).unwrap_or_default();
                    let own = uuid == ch.uuid();
                    if ev.is("CHANNEL_BRIDGE") && own {
                        partner = ev.get("Other-Leg-Unique-ID").or_else(|| ev.get("Bridge-B-Unique-ID")).map(|u| u.into_owned());
                    }
                    self.seen_answer(&ev);
                    if !ev.is("DTMF") {
                        continue;
                    }
                    let phone = if own { self.caller.from_phone } else { ev.get("Channel-Name").is_some_and(|n| is_phone_channel(&n)) };
                    let Some(key) = ev.get("DTMF-Digit").and_then(|d| d.chars().next()) else { continue };
                    if !phone {
                        continue;
                    }
                    if let Some(code) = keys.entry(uuid.clone()).or_default().push(key, Instant::now()) {
                        // Boxed: rare, and 1.4 KB every ringing or held call would carry.
                        Box::pin(self.in_call_code(code, &uuid, other_of(&uuid, &partner).as_deref())).await?;
                    }
                }
                _ = pause => {
                    let now = Instant::now();
                    let due: Vec<_> = keys.iter_mut().filter_map(|(u, k)| k.timeout(now).map(|c| (u.clone(), c))).collect();
                    for (presser, code) in due {
                        Box::pin(self.in_call_code(code, &presser, other_of(&presser, &partner).as_deref())).await?;
                    }
                }
            }
        }
    }
}
