//! Live routing: find the tenant, check the block list, resolve the dialed number to a
//! [`Destination`] and drive it, following chains (IVR option → ring group → no answer →
//! voicemail) up to a hop limit; then write the CDR.
//!
//! Configuration is read from the store when the call needs it, so a change saved in the
//! API applies to the next call: what the call needs before its first command on the call's
//! own task (read-only connections, microseconds), the rest on the blocking pool.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tracing::{info, warn};

use super::CallHandler;
use crate::esl::{ApiCommand, EslError, Leg, OutboundSession};
use crate::pbx::destination::Destination;
use crate::pbx::dial;
use crate::pbx::plan::Fallback;
use crate::store::routing::{Conference, Extension, Tenant};
use crate::store::{Store, StoreError, TenantId};

/// How many destinations one call may pass through before it is ended as a loop.
pub const HOP_LIMIT: usize = 16;
/// Played after a caller's invalid IVR entry.
pub(crate) const INVALID: &str = "ivr/ivr-that_was_an_invalid_entry.wav";
const UNAVAILABLE: &str = "ivr/ivr-not_available.wav";
/// Played before an outbound call the tenant's credit cannot pay for is refused.
const NO_CREDIT: &str = "ivr/ivr-account_balance_is.wav";

pub type Clock = Arc<dyn Fn() -> jiff::Timestamp + Send + Sync>;

pub struct Router {
    store: Store,
    /// The store's read-only connections, for the reads a call makes before its first
    /// command, on its own task ([`Store::reading`]).
    reads: Store,
    clock: Clock,
    /// What a caller hears before a call that cannot be routed is ended (`greeting`).
    announcement: String,
    /// Calls ringing the tenants' phones, for *8.
    ringing: Arc<super::pickup::Ringing>,
    /// Live calls per tenant and per trunk, against their caps.
    caps: Arc<super::caps::Caps>,
    /// One second of a metered call (shorter in tests, matching the simulator's).
    second: Duration,
}

/// What a call's session subscribes to besides the session's own events: a bridge watches
/// for the partner it connected to and for in-call keys pressed on either leg
/// (`Call::bridge`).
pub const EVENTS: &[&str] = &["CHANNEL_BRIDGE", "DTMF"];

impl Router {
    pub fn new(store: Store, announcement: String) -> Router {
        Router::with_clock(store, announcement, Arc::new(jiff::Timestamp::now))
    }
    /// A router whose time conditions see `clock` (tests, route explain).
    pub fn with_clock(store: Store, announcement: String, clock: Clock) -> Router {
        Router { reads: store.reading(), store, clock, announcement, ringing: Arc::default(), caps: Arc::default(), second: Duration::from_secs(1) }
    }
    /// Metered calls count seconds of this length (tests run a minute in a fraction of one).
    pub fn with_second(mut self, second: Duration) -> Router {
        self.second = second;
        self
    }
    /// The live-call counts the caps are checked against (reconciliation, the dashboard).
    pub fn caps(&self) -> Arc<super::caps::Caps> {
        self.caps.clone()
    }
}

/// What the dialed number asks for: a destination to route, or a star code.
enum Start {
    Route(Destination),
    Feature(String),
}

/// Where a step of the call leaves it.
enum Next {
    Done,
    Go(Destination),
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum RouteError {
    #[error(transparent)]
    Esl(#[from] EslError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

pub(crate) struct Call<'a> {
    pub(crate) s: &'a OutboundSession,
    store: Store,
    clock: Clock,
    pub(crate) tenant: Tenant,
    pub(crate) caller_number: String,
    caller_name: String,
    answered: bool,
    /// A bridge is ringing and has not reported back.
    ringing: bool,
    pub(crate) path: Vec<String>,
    /// The tenant's block list, read with the tenant.
    blocks: Vec<crate::store::routing::CallBlock>,
    pub(crate) cdr: crate::store::cdr::Cdr,
    /// The call came from one of the tenant's phones (so its keys may move the call).
    from_phone: bool,
    /// The session's events (the bridged party's keys among them).
    events: tokio::sync::mpsc::UnboundedReceiver<crate::esl::Event>,
    /// An in-call recording (*1) is running to this path.
    recording: Option<String>,
    /// How many in-call recordings this call has started (each gets its own file).
    recorded: u32,
    /// Where a blind transfer (*2 by the bridged phone) sends the caller next.
    transfer_to: Option<Destination>,
    /// The phones a ring group's bridge rings: the one whose leg answers (its `dialed_user`)
    /// becomes the record's extension.
    members_ringing: Vec<String>,
    /// Calls ringing the tenants' phones (this one among them while it rings), for *8.
    pub(crate) ringing_calls: Arc<super::pickup::Ringing>,
    caps: Arc<super::caps::Caps>,
    second: Duration,
    /// The rate the call is settled at (an outbound call's, decided when it dials out).
    rate: Option<crate::billing::rating::Rate>,
    /// A prepaid call's metering, while it is up.
    prepaid: Option<super::meter::Prepaid>,
    /// The phone the call's first destination rings, read with the tenant (see
    /// [`first_phone`]); taken by the first step that rings it.
    first_phone: Option<FirstPhone>,
}

/// An extension (and its follow-me) read ahead, keyed by the extension's id.
type FirstPhone = (i64, Extension, Option<crate::store::routing::FollowMe>);

/// When a call's first destination is a phone, its extension is read with the tenant, on
/// the call's task, so the step that rings it needs no trip to the blocking pool before the
/// first command. A read that fails is left to the step that rings the phone, which reads
/// again and reports it as usual; nothing is decided on this copy beyond the call's first
/// step, microseconds later.
fn first_phone(st: &Store, tenant: TenantId, first: Option<&Destination>) -> Option<FirstPhone> {
    match first {
        Some(Destination::Extension { id } | Destination::Fax { id }) => {
            Some((*id, st.extension(tenant, *id).ok()?, st.follow_me(tenant, *id).ok()?))
        }
        _ => None,
    }
}

/// Refuses a call in words: early media, so the caller hears `prompt` without the call being
/// answered (and billed), then `cause`, whatever became of the prompt (a missing file, a
/// caller who hangs up on it).
async fn announce_and_hang_up(s: &OutboundSession, prompt: &str, cause: &str) -> Result<(), EslError> {
    s.execute("pre_answer", None).await?;
    let _ = s.playback(prompt).await;
    s.hangup(cause).await
}

/// Runs a blocking store read or write off the async threads.
pub(crate) async fn db<T: Send + 'static>(store: &Store, f: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static) -> Result<T, StoreError> {
    let s = store.clone();
    tokio::task::spawn_blocking(move || f(&s)).await.map_err(|e| StoreError::Invalid { field: String::new(), message: format!("store task: {e}") })?
}

/// A FreeSWITCH time header (microseconds since the epoch, `0` for never) as the store
/// writes times.
fn micros_to_time(us: &str) -> Option<String> {
    let us: i64 = us.trim().parse().ok().filter(|n| *n > 0)?;
    let t = jiff::Timestamp::from_microsecond(us).ok()?;
    Some(t.round(jiff::Unit::Second).unwrap_or(t).to_string())
}

impl CallHandler for Router {
    fn handle<'a>(&'a self, s: &'a OutboundSession) -> Pin<Box<dyn Future<Output = Result<(), EslError>> + Send + 'a>> {
        Box::pin(async move {
            match self.route(s).await {
                Ok(()) => Ok(()),
                Err(RouteError::Esl(e)) => Err(e),
                Err(RouteError::Store(e)) => {
                    warn!(error = %e, "routing failed reading the configuration");
                    let _ = s.hangup("SERVICE_UNAVAILABLE").await;
                    Ok(())
                }
            }
        })
    }

    fn events(&self) -> &'static [&'static str] {
        EVENTS
    }
}

impl Router {
    async fn route(&self, s: &OutboundSession) -> Result<(), RouteError> {
        let ch = s.channel();
        let dialed = ch.destination_number().map(|d| d.into_owned()).unwrap_or_default();
        let profile = ch.variable("sofia_profile_name").map(|p| p.into_owned()).unwrap_or_default();
        // The dialplan context says where a call entered: `public` for trunks, the tenant's
        // domain for its phones — and for a leg a phone transferred (*2), whatever profile it
        // came in on. FreeSWITCH sets it (user_context from the directory switchboard serves),
        // not the caller, so it outranks the From host.
        let context = ch.context().map(|c| c.into_owned()).unwrap_or_default();
        let tenant_context = !matches!(context.as_str(), "" | "public" | "default");
        let from_trunk = context == "public" || (profile == "external" && !tenant_context);
        // A phone is who the directory says it authenticated as: sofia copies the user's
        // <variables> (effective_caller_id_name/number, as xml_curl.rs serves them) onto the
        // channel when it authenticates the INVITE, whatever display name or number the
        // phone put in its From. A trunk's caller is what the carrier sent.
        let directory = |var: &str| (!from_trunk).then(|| ch.variable(var)).flatten().filter(|v| !v.is_empty()).map(|v| v.into_owned());
        let caller_number = directory("effective_caller_id_number").or_else(|| ch.caller_id_number().map(|d| d.into_owned())).unwrap_or_default();
        let caller_name =
            dial::caller_name(&directory("effective_caller_id_name").or_else(|| ch.caller_id_name().map(|d| d.into_owned())).unwrap_or_default());
        let started = crate::store::now();
        let mut cdr = crate::store::cdr::Cdr {
            uuid: s.uuid().to_string(),
            caller_number: caller_number.clone(),
            caller_name: caller_name.clone(),
            callee: dialed.clone(),
            started_at: started,
            ..Default::default()
        };

        // Who is calling, and in which tenant.
        let (tenant, blocks, first, first_phone) = if from_trunk {
            let did = crate::pbx::dial::e164_of(&dialed);
            cdr.direction = "inbound";
            cdr.did = did.clone();
            // One read, on this task (see `Router::reads`): the DID, its tenant, the tenant's
            // block list, and the phone the route rings first if it rings one.
            let found = match self.reads.did_route(&did)? {
                None => None,
                Some(r) => {
                    let phone = first_phone(&self.reads, r.tenant, r.destination.as_ref());
                    Some((self.reads.routing_tenant(r.tenant)?, self.reads.call_blocks(r.tenant)?, r, phone))
                }
            };
            let Some((tenant, blocks, route, phone)) = found else {
                warn!(did = %did, caller = %caller_number, "call to an unknown DID");
                return self.refuse(s, &mut cdr, "UNALLOCATED_NUMBER", "unknown DID").await;
            };
            cdr.trunk_id = route.trunk_id;
            let Some(dest) = route.destination else {
                warn!(did = %did, tenant = tenant.id, "DID has no inbound route");
                cdr.tenant = Some(TenantId(tenant.id));
                return self.refuse(s, &mut cdr, "UNALLOCATED_NUMBER", "DID not routed").await;
            };
            (tenant, blocks, Start::Route(dest), phone)
        } else {
            let domain = if tenant_context {
                context.clone()
            } else {
                ch.variable("domain_name").or_else(|| ch.variable("sip_from_host")).map(|d| d.into_owned()).unwrap_or_default()
            };
            // `*72+15551230000`: the forward code followed by an E.164 number.
            let forward_code = dialed.strip_prefix("*72").is_some_and(|n| dial::number(n).is_some());
            let number = dial::number(&dialed).or(forward_code.then_some(dialed.as_str())).map(String::from);
            // One read, on this task (see `Router::reads`): the tenant, what the number
            // reaches in it (the phone, if it is one), its block list.
            let st = &self.reads;
            let found = match st.tenant_by_domain(&domain)? {
                None => None,
                Some(t) => {
                    let id = TenantId(t.id);
                    let internal = match number.as_deref().filter(|n| !n.starts_with('*')) {
                        Some(n) => st.dialable(id, n)?,
                        None => None,
                    };
                    let phone = first_phone(st, id, internal.as_ref());
                    Some((st.call_blocks(id)?, internal, t, phone))
                }
            };
            let Some((blocks, internal, tenant, phone)) = found else {
                warn!(domain = %domain, "call from a domain no tenant owns");
                return self.refuse(s, &mut cdr, "CALL_REJECTED", "unknown domain").await;
            };
            cdr.tenant = Some(TenantId(tenant.id));
            cdr.extension = caller_number.clone();
            let Some(number) = number else {
                warn!(dialed = %dialed.escape_debug(), "dialed number is not a number");
                return self.refuse(s, &mut cdr, "INVALID_NUMBER_FORMAT", "bad number").await;
            };
            if number.starts_with('*') {
                cdr.direction = "internal";
                (tenant, blocks, Start::Feature(number), None)
            } else {
                cdr.direction = if internal.is_some() { "internal" } else { "outbound" };
                (tenant, blocks, Start::Route(internal.unwrap_or(Destination::External { number })), phone)
            }
        };
        cdr.tenant = Some(TenantId(tenant.id));
        if !tenant.enabled {
            warn!(tenant = tenant.id, "tenant disabled");
            return self.refuse(s, &mut cdr, "CALL_REJECTED", "tenant disabled").await;
        }
        // The tenant's concurrency cap, before anything rings; the slot lives as long as
        // this task.
        let Some(_slot) = self.caps.tenant(s.uuid(), tenant.id, tenant.max_concurrent_calls) else {
            warn!(tenant = tenant.id, cap = tenant.max_concurrent_calls, caller = %caller_number, "over the tenant's concurrent call cap");
            return self.refuse(s, &mut cdr, "USER_BUSY", "over the concurrent call cap").await;
        };

        let mut call = Call {
            s,
            store: self.store.clone(),
            clock: self.clock.clone(),
            caller_number,
            caller_name,
            answered: false,
            ringing: false,
            path: Vec::new(),
            blocks,
            cdr,
            from_phone: !from_trunk,
            events: s.connection().subscribe(),
            recording: None,
            recorded: 0,
            transfer_to: None,
            members_ringing: Vec::new(),
            ringing_calls: self.ringing.clone(),
            caps: self.caps.clone(),
            second: self.second,
            rate: None,
            prepaid: None,
            tenant,
            first_phone,
        };
        let outcome = match first {
            Start::Feature(code) => {
                call.path.push(format!("feature {code}"));
                match super::features::run(&mut call, &code).await {
                    Ok(Some(d)) => call.drive(d).await,
                    other => other.map(|_| ()),
                }
            }
            // The block list first: nothing rings for a blocked call.
            Start::Route(d) => match call.blocked(&d, from_trunk) {
                Some(action) => call.finish_blocked(&action, &d).await,
                None => match call.authorize_prepaid_start(&d).await {
                    Ok(true) => call.drive(d).await,
                    other => other.map(|_| ()),
                },
            },
        };
        // A configuration read that failed mid-call (a route naming a row that is gone): the
        // caller gets a proper cause now, and the record has it — not five seconds of
        // silence while the record waits for a hangup nobody sent.
        let outcome = match outcome {
            Err(RouteError::Store(e)) => {
                warn!(error = %e, path = %call.path.join(" → "), "routing failed reading the configuration");
                let _ = s.hangup("SERVICE_UNAVAILABLE").await;
                Ok(())
            }
            other => other,
        };
        // Whatever ended the call (the caller hanging up mid-command included), it gets its
        // record; a hangup is how calls end, not an error.
        call.end().await;
        match outcome {
            Err(RouteError::Esl(EslError::Hangup { .. } | EslError::Closed { .. })) => Ok(()),
            other => other,
        }
    }

    /// An announcement, a proper cause, and the record of it.
    async fn refuse(&self, s: &OutboundSession, cdr: &mut crate::store::cdr::Cdr, cause: &str, why: &str) -> Result<(), RouteError> {
        if cdr.direction.is_empty() {
            cdr.direction = "inbound";
        }
        let played = announce_and_hang_up(s, &self.announcement, cause).await;
        // The record whatever became of the announcement (the caller may hang up first).
        cdr.disposition = "failed";
        cdr.hangup_cause = cause.into();
        cdr.route = why.into();
        cdr.ended_at = crate::store::now();
        let c = cdr.clone();
        if let Err(e) = db(&self.store, move |st| st.write_cdr(&c)).await {
            warn!(error = %e, "writing the CDR");
        }
        match played {
            // A caller who hangs up on the announcement ends the call as callers do.
            Ok(()) | Err(EslError::Hangup { .. } | EslError::Closed { .. }) => Ok(()),
            Err(e) => Err(RouteError::Esl(e)),
        }
    }
}

/// What a follow-me number reaches in the tenant.
enum FollowMeLeg {
    Phone(Extension),
    /// A ring group, IVR, … : not a phone a leg can ring.
    Other(Destination),
    Outside(String),
}

fn describe(d: &Destination) -> String {
    match d {
        Destination::External { number } => format!("external {number}"),
        Destination::Hangup { cause } => format!("hangup {}", cause.as_deref().unwrap_or("NORMAL_CLEARING")),
        other => {
            let (table, id) = other.target().unwrap_or(("?", 0));
            format!("{table}/{id}")
        }
    }
}

impl Call<'_> {
    pub(crate) fn t(&self) -> TenantId {
        TenantId(self.tenant.id)
    }

    pub(crate) async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store, TenantId) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let t = self.t();
        db(&self.store, move |st| f(st, t)).await
    }

    async fn drive(&mut self, first: Destination) -> Result<(), RouteError> {
        let mut dest = first;
        let mut hops = 0;
        loop {
            hops += 1;
            if hops > HOP_LIMIT {
                warn!(path = %self.path.join(" → "), "destination loop: more than {HOP_LIMIT} hops; ending the call");
                self.s.hangup("EXCHANGE_ROUTING_ERROR").await?;
                return Ok(());
            }
            if self.s.status().hangup.is_some() {
                return Ok(());
            }
            self.path.push(describe(&dest));
            match self.run(dest).await? {
                Next::Go(d) => dest = d,
                // A phone transferred the caller (*2): it goes on from there.
                Next::Done => match self.transfer_to.take() {
                    Some(d) if self.s.status().hangup.is_none() => {
                        self.path.push("transferred".into());
                        dest = d;
                    }
                    _ => return Ok(()),
                },
            }
        }
    }

    fn blocked(&mut self, first: &Destination, from_trunk: bool) -> Option<String> {
        let blocks = std::mem::take(&mut self.blocks);
        let (direction, number) = match first {
            Destination::External { number } if !from_trunk => ("outbound", number.clone()),
            _ => ("inbound", self.caller_number.clone()),
        };
        crate::pbx::plan::blocked(blocks, direction, &number).map(|b| {
            info!(number = %number, direction, action = %b.action, "call blocked");
            b.action
        })
    }

    /// A blocked call ends as the entry says; `voicemail` sends it to the mailbox of what it
    /// dialed (an extension with voicemail, or a voicemail box), and is refused otherwise.
    async fn finish_blocked(&mut self, action: &str, dialed: &Destination) -> Result<(), RouteError> {
        self.path.push(format!("blocked ({action})"));
        self.cdr.disposition = "blocked";
        let mailbox = match (action, dialed) {
            ("voicemail", Destination::Extension { id }) => {
                let id = *id;
                let e = self.read(move |st, t| st.extension(t, id)).await?;
                e.voicemail_enabled.then_some(e.number)
            }
            ("voicemail", Destination::Voicemail { id }) => {
                let id = *id;
                Some(self.read(move |st, t| st.voicemail_box(t, id)).await?.number)
            }
            _ => None,
        };
        match (action, mailbox) {
            ("busy", _) => self.s.hangup("USER_BUSY").await?,
            ("hangup", _) => self.s.hangup("NORMAL_CLEARING").await?,
            ("voicemail", Some(b)) => {
                self.voicemail(&b).await?;
            }
            _ => self.s.hangup("CALL_REJECTED").await?,
        }
        Ok(())
    }

    pub(crate) async fn answer(&mut self) -> Result<(), EslError> {
        if !self.answered {
            self.s.answer().await?;
            self.answered = true;
        }
        Ok(())
    }

    /// Sets variables from typed values in one application (`multiset ^^|a=1|b=2`; the
    /// values expand `${}`, so only checked values go in, and none holds a `|`).
    async fn set(&self, vars: &[(&str, String)]) -> Result<(), EslError> {
        let mut arg = String::from("^^|");
        for (i, (k, v)) in vars.iter().enumerate() {
            debug_assert!(!v.contains('|'), "{k}={v}");
            if i > 0 {
                arg.push('|');
            }
            arg.push_str(k);
            arg.push('=');
            arg.push_str(&v.replace('|', ""));
        }
        self.s.execute("multiset", Some(&arg)).await.map(|_| ())
    }

    /// The caller ID this call presents when it rings someone.
    fn caller_id(&self) -> Vec<(&'static str, String)> {
        let mut v = vec![("effective_caller_id_name", self.caller_name.clone())];
        if dial::number(&self.caller_number).is_some() {
            v.push(("effective_caller_id_number", self.caller_number.clone()));
        }
        v
    }

    /// Caller ID and the bridge's variables in one application.
    async fn prepare_bridge(&self, timeout: i64, moh_class: Option<i64>) -> Result<(), EslError> {
        let mut vars = self.caller_id();
        vars.push(("call_timeout", timeout.to_string()));
        vars.push(("continue_on_fail", "true".into()));
        vars.push(("hangup_after_bridge", "true".into()));
        vars.extend(self.hold_music_vars(moh_class));
        self.set(&vars).await
    }

    /// What the legs this call rings inherit (export_vars copies it to them at originate):
    /// `hold_music`, so a party held or parked by a transfer hears the tenant's music
    /// (`class`, a ring group's, over the tenant's default); and
    /// media_mix_inbound_outbound_codecs, so a leg offers the caller's codec first and then
    /// the profile's list (switch_core_media.c:2245–2277) instead of the caller's codec
    /// alone, which a phone without it refuses (a G722 phone calling a G.711 one, a
    /// browser calling a desk phone): FreeSWITCH then transcodes. A trunk's leg names its
    /// own codecs (`plan::trunk_leg_vars`), which win over both.
    fn hold_music_vars(&self, class: Option<i64>) -> Vec<(&'static str, String)> {
        let mut vars = vec![("media_mix_inbound_outbound_codecs", "true".to_string())];
        let mut export = String::from("media_mix_inbound_outbound_codecs");
        if let Some(c) = class.or(self.tenant.moh_class) {
            vars.push(("hold_music", crate::pbx::plan::moh_stream(self.tenant.id, c)));
            export.push_str(",hold_music");
        }
        vars.push(("export_vars", export));
        vars
    }

    /// Runs the bridge. None when the call is over: answered (the conversation happened),
    /// picked up by another phone (*8; `pickable` calls ring the tenant's phones), or the
    /// caller hung up while it rang; else the originate's cause, for the fallback.
    async fn bridge(&mut self, dialstring: &str, pickable: bool) -> Result<Option<String>, RouteError> {
        // Until the bridge reports back, a hangup is the caller giving up while it rang
        // (end() reads this when the hangup cut the wait short).
        self.ringing = true;
        let listed = pickable.then(|| self.ringing_calls.list(self.tenant.id, self.s.uuid(), &self.caller_number));
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
            let by = self.ringing_calls.picked_by(self.s.uuid()).unwrap_or_default();
            drop(listed);
            info!(by = %by, "call picked up");
            self.cdr.disposition = "answered";
            if !by.is_empty() {
                self.cdr.extension = by.clone();
            }
            self.path.push(format!("picked up by {by}"));
            self.s.hangup_wait().await;
            return Ok(None);
        }
        if self.s.status().hangup.is_some() {
            info!(%cause, "the caller hung up while it rang");
            self.cdr.disposition = "no_answer";
            return Ok(None);
        }
        Ok(Some(cause))
    }

    /// Runs the bridge application while reading the keys both parties press, acting on the
    /// in-call codes of the tenant's phones (see [`super::incall`]).
    async fn bridge_watching_keys(&mut self, dialstring: &str) -> Result<crate::esl::Event, RouteError> {
        use super::incall::{is_phone_channel, Keys};
        // What arrived before this bridge (IVR digits and all) is not for it.
        while self.events.try_recv().is_ok() {}
        let s = self.s;
        let exec = s.execute("bridge", Some(dialstring));
        tokio::pin!(exec);
        let mut keys: std::collections::HashMap<String, Keys> = std::collections::HashMap::new();
        // The bridged party, once it answers.
        let mut partner: Option<String> = None;
        // Whom a presser's code acts on: the caller's partner, or the caller.
        let other_of = |presser: &str, partner: &Option<String>| if presser == s.uuid() { partner.clone() } else { Some(s.uuid().to_string()) };
        loop {
            let deadline = keys.values().filter_map(Keys::deadline).min();
            let pause = async {
                match deadline {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                done = &mut exec => return Ok(done?),
                Some(ev) = self.events.recv() => {
                    let uuid = ev.unique_id().map(|u| u.into_owned()).unwrap_or_default();
                    let own = uuid == s.uuid();
                    if ev.is("CHANNEL_BRIDGE") && own {
                        partner = ev.get("Other-Leg-Unique-ID").or_else(|| ev.get("Bridge-B-Unique-ID")).map(|u| u.into_owned());
                    }
                    // The ring group member that answered: its leg (user/<number>@<domain>)
                    // carries `dialed_user` (mod_dptools.c user_outgoing_channel); its
                    // destination number is the phone's contact user (`1002-0x55…` for
                    // some), not the extension. Recorded now: with hangup_after_bridge the
                    // bridge never reports back.
                    if ev.is("CHANNEL_ANSWER") && !own {
                        if let Some(n) = ev.variable("dialed_user").filter(|n| self.members_ringing.iter().any(|m| m == n)) {
                            self.cdr.extension = n.into_owned();
                        }
                    }
                    if !ev.is("DTMF") {
                        continue;
                    }
                    let phone = if own { self.from_phone } else { ev.get("Channel-Name").is_some_and(|n| is_phone_channel(&n)) };
                    let Some(key) = ev.get("DTMF-Digit").and_then(|d| d.chars().next()) else { continue };
                    if !phone {
                        continue;
                    }
                    if let Some(code) = keys.entry(uuid.clone()).or_default().push(key, std::time::Instant::now()) {
                        self.in_call(code, &uuid, other_of(&uuid, &partner).as_deref()).await?;
                    }
                }
                _ = pause => {
                    let now = std::time::Instant::now();
                    let due: Vec<_> = keys.iter_mut().filter_map(|(u, k)| k.timeout(now).map(|c| (u.clone(), c))).collect();
                    for (presser, code) in due {
                        self.in_call(code, &presser, other_of(&presser, &partner).as_deref()).await?;
                    }
                }
            }
        }
    }

    /// Carries out an in-call code pressed on `presser`, whose partner is `other`.
    async fn in_call(&mut self, code: super::incall::Code, presser: &str, other: Option<&str>) -> Result<(), RouteError> {
        use super::incall::Code;
        let me = self.s.uuid().to_string();
        info!(?code, by = if presser == me { "caller" } else { "callee" }, "in-call code");
        match code {
            Code::Record => {
                match self.recording.take() {
                    Some(path) => {
                        self.api_ok(ApiCommand::UuidRecord { uuid: me.clone(), start: false, path }).await;
                    }
                    None => {
                        self.recorded += 1;
                        let Some(path) = self.recording_path(&format!("{me}-{}", self.recorded)).await else { return Ok(()) };
                        if self.api_ok(ApiCommand::UuidRecord { uuid: me.clone(), start: true, path: path.clone() }).await {
                            self.cdr.recording_path = path.clone();
                            self.recording = Some(path);
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
                        self.transfer_to = Some(dest);
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
                        let dial = format!("user/{}@{}", e.number, self.tenant.sip_domain);
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

    /// Where a recording named `name` goes: `<recordings_dir>/<tenant domain>/<name>.wav`,
    /// with the switch's own recordings directory asked for (`global_getvar`). An api
    /// command's arguments are never expanded (switch_api_execute,
    /// switch_loadable_module.c:2933–2968), so `$${recordings_dir}` in `uuid_record` was
    /// taken literally, as a path under the sound prefix; and the record must name the file
    /// itself, not a variable. None (and no recording) when the switch does not say, or
    /// says something that is not a plain absolute path.
    async fn recording_path(&self, name: &str) -> Option<String> {
        let body = match self.s.connection().api_cmd(&ApiCommand::GlobalGetVar { name: "recordings_dir".into() }).await {
            Ok(b) => b,
            Err(e) => {
                warn!(error = %e, "asking the switch for its recordings_dir; not recording");
                return None;
            }
        };
        let dir = String::from_utf8_lossy(&body).trim().trim_end_matches('/').to_string();
        let ok = dir.starts_with('/') && !dir.contains("..") && dir.chars().all(|c| c.is_ascii_alphanumeric() || "/._-".contains(c));
        if !ok {
            warn!(dir = %dir.escape_debug(), "the switch's recordings_dir is not a plain absolute path; not recording");
            return None;
        }
        Some(format!("{dir}/{}/{name}.wav", self.tenant.sip_domain))
    }

    /// An api command that answers `+OK` when it worked; a refusal is logged and false.
    async fn api_ok(&self, cmd: ApiCommand) -> bool {
        match self.s.connection().api_cmd_ok(&cmd).await {
            Ok(_) => true,
            Err(e) => {
                warn!(error = %e, "api command failed");
                false
            }
        }
    }

    async fn run(&mut self, d: Destination) -> Result<Next, RouteError> {
        match d {
            Destination::Extension { id } | Destination::Fax { id } => {
                let (e, fm) = match self.first_phone.take().filter(|p| p.0 == id) {
                    Some((_, e, fm)) => (e, fm),
                    None => self.read(move |st, t| Ok((st.extension(t, id)?, st.follow_me(t, id)?))).await?,
                };
                self.extension(e, fm).await
            }
            Destination::RingGroup { id } => self.ring_group(id).await,
            Destination::Ivr { id } => self.ivr(id).await,
            Destination::TimeCondition { id } => {
                let tc = self.read(move |st, t| st.time_condition(t, id)).await?;
                let open = crate::pbx::time::matches(&tc, &self.tenant.timezone, (self.clock)());
                info!(condition = %tc.name, open, "time condition");
                Ok(Next::Go(if open { tc.matched_destination } else { tc.unmatched_destination }))
            }
            Destination::CallFlow { id } => {
                let f = self.read(move |st, t| st.call_flow(t, id)).await?;
                Ok(Next::Go(if f.state == "night" { f.night_destination } else { f.day_destination }))
            }
            Destination::Voicemail { id } => {
                let vm = self.read(move |st, t| st.voicemail_box(t, id)).await?;
                self.voicemail(&vm.number).await
            }
            Destination::Conference { id } => {
                let c = self.read(move |st, t| st.conference(t, id)).await?;
                self.conference(c).await
            }
            Destination::External { number } => self.external(&number).await,
            Destination::Queue { id } => {
                // Call queues arrive with their own issue; until then the caller hears why.
                warn!(queue = id, "call queues are not routed yet");
                self.answer().await?;
                let _ = self.s.playback(UNAVAILABLE).await;
                self.s.hangup("SERVICE_UNAVAILABLE").await?;
                Ok(Next::Done)
            }
            Destination::Hangup { cause } => {
                self.s.hangup(cause.as_deref().unwrap_or("NORMAL_CLEARING")).await?;
                Ok(Next::Done)
            }
        }
    }

    /// mod_conference: `<number>-<domain>@default[+<pin>]` — the room is named by number
    /// and domain, so two tenants' rooms 3000 never meet; mod_conference asks for the PIN.
    /// The limit and the recording are read from the channel that makes the room
    /// (mod_conference.c:2178–2197), so every caller sets them and the room opens as
    /// configured whoever comes first; a change applies from the room's next opening.
    async fn conference(&mut self, c: Conference) -> Result<Next, RouteError> {
        let domain = &self.tenant.sip_domain;
        let mut vars = Vec::new();
        if c.max_participants >= 2 {
            vars.push(("conference_max_members", c.max_participants.to_string()));
        }
        if c.record {
            // Named for the call that opens the room; each member's channel is then given
            // the room's file as conference_recording, which the record keeps (`end`).
            if let Some(path) = self.recording_path(&format!("conference-{}-{}", c.number, self.s.uuid())).await {
                vars.push(("conference_auto_record", path));
            }
        }
        let mut arg = format!("{}-{domain}@default", c.number);
        if !c.pin.is_empty() {
            arg.push('+');
            arg.push_str(&c.pin);
        }
        if !vars.is_empty() {
            self.set(&vars).await?;
        }
        self.answer().await?;
        self.cdr.disposition = "answered";
        // mod_conference returns with the caller still up when it turned them away (the
        // PIN wrong three times, a full room: mod_conference.c:2326–2365) or kicked them.
        self.last_app("conference", &arg).await?;
        Ok(Next::Done)
    }

    /// Runs the application that ends the call (voicemail, a conference). When it returns
    /// with the caller still up — mod_voicemail after its goodbye (mod_voicemail.c:3703–3707),
    /// mod_conference after turning the caller away — the caller has heard the last word,
    /// and the call is hung up now rather than left in silence until the socket closes.
    pub(crate) async fn last_app(&mut self, app: &str, arg: &str) -> Result<(), EslError> {
        self.s.execute(app, Some(arg)).await?;
        if self.s.status().hangup.is_none() {
            info!(app, "the caller is still up after the call's last application; hanging up");
            self.s.hangup("NORMAL_CLEARING").await?;
        }
        Ok(())
    }

    async fn voicemail(&mut self, mailbox: &str) -> Result<Next, RouteError> {
        // mod_voicemail: voicemail <profile> <domain> <id>; the domain is a checked host
        // name, the box a checked digit string.
        let arg = format!("default {} {mailbox}", self.tenant.sip_domain);
        // The box's own greeting, a sound under FreeSWITCH's sound prefix: mod_voicemail
        // plays voicemail_greeting_path instead of the box's recorded one when the file
        // exists (mod_voicemail.c:3518–3531). The set expands ${sound_prefix} (a global
        // variable) into the absolute path that existence check needs. Checked again here:
        // the value is written into an application argument.
        let n = mailbox.to_string();
        let greeting = self.read(move |st, t| st.voicemail_greeting(t, &n)).await?;
        if !greeting.is_empty() && crate::store::validate::sound(&greeting).is_ok() {
            self.set(&[("voicemail_greeting_path", format!("${{sound_prefix}}/{greeting}"))]).await?;
        }
        // Set first: the caller usually ends a voicemail call by hanging up mid-app. (A
        // blocked call sent to voicemail stays "blocked".)
        if self.cdr.disposition.is_empty() {
            self.cdr.disposition = "voicemail";
        }
        // The record is the box's, as an answered call is the phone's that answered it
        // (`ring`): a call to 1002 that ends in 1002's voicemail is 1002's call.
        self.cdr.extension = mailbox.to_string();
        // mod_voicemail never answers (it is registered SAF_NONE, so the core only
        // pre-answers the channel: switch_core_session.c:2789–2796, "Requires media!
        // pre_answering channel"): the message would be recorded in early media and the
        // caller never get a 200 OK. The call is answered here, so it is billed and recorded
        // as the conversation it is.
        self.answer().await?;
        self.last_app("voicemail", &arg).await?;
        Ok(Next::Done)
    }

    /// A number to forward to: the tenant's own dial plan first, else out through a trunk.
    async fn forward_to(&self, number: &str) -> Result<Destination, RouteError> {
        let n = number.to_string();
        Ok(self.read(move |st, t| st.dialable(t, &n)).await?.unwrap_or(Destination::External { number: number.to_string() }))
    }

    async fn extension(&mut self, e: Extension, fm: Option<crate::store::routing::FollowMe>) -> Result<Next, RouteError> {
        if !e.forward_always.is_empty() {
            return Ok(Next::Go(self.forward_to(&e.forward_always).await?));
        }
        if e.dnd {
            info!(extension = %e.number, "do not disturb");
            return self.unavailable(&e, "USER_BUSY").await;
        }
        if let Some(fm) = fm.filter(|f| !f.destinations.is_empty()) {
            return self.follow_me(&e, fm).await;
        }
        let dialstring = format!("user/{}@{}", e.number, self.tenant.sip_domain);
        match self.ring(&e, &dialstring, 30).await? {
            None => Ok(Next::Done),
            Some(disposition) => {
                info!(extension = %e.number, %disposition, "extension did not answer");
                self.unavailable(&e, &disposition).await
            }
        }
    }

    /// Rings `dialstring` for the extension `e` (its caller ID, its recording); None when
    /// the call was answered (or the caller gave up), else why nobody answered.
    async fn ring(&mut self, e: &Extension, dialstring: &str, timeout: i64) -> Result<Option<String>, RouteError> {
        self.prepare_bridge(timeout, None).await?;
        if e.record_calls {
            if let Some(path) = self.recording_path(self.s.uuid()).await {
                self.cdr.recording_path = path.clone();
                self.s.execute("record_session", Some(&path)).await?;
            }
        }
        // Set before the bridge: when the callee hangs up, hangup_after_bridge can end this
        // channel before the bridge reports back, and the record must still name who answered.
        let before = std::mem::replace(&mut self.cdr.extension, e.number.clone());
        let outcome = self.bridge(dialstring, true).await?;
        if outcome.is_some() {
            self.cdr.extension = before;
        }
        Ok(outcome)
    }

    /// Follow-me: every destination in one originate, each held back by its delay and
    /// dropped at delay + timeout (FreeSWITCH counts leg_timeout from the start of the
    /// originate), so the desk phone rings first and the mobile joins when it is due; then
    /// voicemail when the rule says so.
    async fn follow_me(&mut self, e: &Extension, fm: crate::store::routing::FollowMe) -> Result<Next, RouteError> {
        // One trip to the store: what each number reaches, and the routes if one is outside.
        let numbers: Vec<String> = fm.destinations.iter().map(|d| d.number.clone()).collect();
        let (reached, routes) = self
            .read(move |st, t| {
                let mut reached = Vec::new();
                for n in &numbers {
                    reached.push(match st.dialable(t, n)? {
                        Some(Destination::Extension { id }) => FollowMeLeg::Phone(st.extension(t, id)?),
                        Some(other) => FollowMeLeg::Other(other),
                        None => FollowMeLeg::Outside(n.clone()),
                    });
                }
                let outside = reached.iter().any(|r| matches!(r, FollowMeLeg::Outside(_)));
                Ok((reached, if outside { st.outbound_routes(t)? } else { Vec::new() }))
            })
            .await?;
        let mut legs = Vec::new();
        let mut until_max = 0;
        for (step, leg) in fm.destinations.iter().zip(reached) {
            let (delay, until) = crate::pbx::plan::follow_me_window(step);
            let mut vars = format!("leg_delay_start={delay},leg_timeout={until}");
            let endpoint = match leg {
                FollowMeLeg::Phone(x) if x.dnd => {
                    info!(extension = %x.number, "follow-me step skipped: do not disturb");
                    continue;
                }
                FollowMeLeg::Phone(x) => format!("user/{}@{}", x.number, self.tenant.sip_domain),
                FollowMeLeg::Outside(number) => {
                    let planned = crate::pbx::plan::outbound(routes.clone(), &number);
                    let Some((route, out)) = planned.filter(|(r, out)| dial::number(out).is_some() && !r.trunks.is_empty()) else {
                        warn!(number = %number, "follow-me step skipped: no outbound route dials it");
                        continue;
                    };
                    // One leg among several cannot fail over by itself: the route's first trunk.
                    let trunk = &route.trunks[0];
                    for v in crate::pbx::plan::trunk_leg_vars(&route, trunk) {
                        vars.push(',');
                        vars.push_str(&v);
                    }
                    format!("sofia/gateway/trunk{}/{out}", trunk.trunk_id)
                }
                FollowMeLeg::Other(other) => {
                    warn!(destination = %describe(&other), "follow-me step skipped: not a phone number");
                    continue;
                }
            };
            legs.push(format!("[{vars}]{endpoint}"));
            until_max = until_max.max(until);
        }
        self.path.push(format!("follow-me ({} legs)", legs.len()));
        if !legs.is_empty() {
            let Some(disposition) = self.ring(e, &legs.join(","), until_max).await? else {
                return Ok(Next::Done);
            };
            info!(extension = %e.number, %disposition, "follow-me not answered");
        }
        self.fall_back(crate::pbx::plan::after_follow_me(&fm, e), "no_answer").await
    }

    /// Busy or no answer: the forward for that case, else voicemail, else the cause.
    async fn unavailable(&mut self, e: &Extension, cause: &str) -> Result<Next, RouteError> {
        let busy = cause == "USER_BUSY";
        self.fall_back(crate::pbx::plan::unavailable(e, busy), if busy { "busy" } else { "no_answer" }).await
    }

    /// Carries out what the plan says follows an unanswered call.
    async fn fall_back(&mut self, f: Fallback, disposition: &'static str) -> Result<Next, RouteError> {
        match f {
            Fallback::Forward(n) => Ok(Next::Go(self.forward_to(&n).await?)),
            Fallback::Voicemail(b) => self.voicemail(&b).await,
            Fallback::End(cause) => {
                self.cdr.disposition = disposition;
                self.s.hangup(cause).await?;
                Ok(Next::Done)
            }
        }
    }

    async fn ring_group(&mut self, id: i64) -> Result<Next, RouteError> {
        let g = self.read(move |st, t| st.ring_group(t, id)).await?;
        let mut members = Vec::new();
        for m in &g.members {
            let mid = m.extension_id;
            let e = self.read(move |st, t| st.extension(t, mid)).await?;
            if !e.dnd {
                members.push(e);
            }
        }
        if members.is_empty() {
            return Ok(Next::Go(g.no_answer_destination));
        }
        match g.strategy.as_str() {
            "round_robin" => {
                let n = members.len();
                let start = self.read(move |st, t| st.ring_group_next_start(t, id, n)).await?;
                members.rotate_left(start);
            }
            "random" => fastrand::shuffle(&mut members),
            _ => {}
        }
        let domain = &self.tenant.sip_domain;
        let timeout = g.timeout.clamp(5, 600);
        let dialstring = match g.strategy.as_str() {
            "simultaneous" => members.iter().map(|e| format!("user/{}@{domain}", e.number)).collect::<Vec<_>>().join(","),
            // One after the other, each for the group's ring time.
            _ => members.iter().map(|e| format!("[leg_timeout={timeout}]user/{}@{domain}", e.number)).collect::<Vec<_>>().join("|"),
        };
        self.prepare_bridge(timeout, g.moh_class_id).await?;
        // The record is the member's that answers, as a call to one extension is the
        // extension's.
        self.members_ringing = members.iter().map(|e| e.number.clone()).collect();
        let bridged = self.bridge(&dialstring, true).await;
        self.members_ringing.clear();
        let Some(disposition) = bridged? else {
            return Ok(Next::Done);
        };
        info!(group = %g.name, %disposition, "ring group not answered");
        Ok(Next::Go(g.no_answer_destination))
    }

    async fn ivr(&mut self, id: i64) -> Result<Next, RouteError> {
        let m = self.read(move |st, t| st.ivr(t, id)).await?;
        self.answer().await?;
        let prompt = if m.greeting.is_empty() { "silence_stream://250".to_string() } else { m.greeting.clone() };
        let max = if m.direct_dial { 6 } else { 1 };
        let mut last_timeout = true;
        for _ in 0..m.max_failures.max(1) {
            let got = self
                .s
                .play_and_get_digits(
                    1,
                    max,
                    1,
                    Duration::from_secs(m.timeout.max(1) as u64),
                    "",
                    &prompt,
                    "silence_stream://250",
                    r"^(\d+|\*|#)$",
                    Duration::from_secs(m.inter_digit_timeout.max(1) as u64),
                )
                .await?;
            let digits = got.digits;
            if digits.is_empty() {
                last_timeout = true;
                continue;
            }
            last_timeout = false;
            if let Some(o) = m.options.iter().find(|o| o.digit == digits) {
                info!(menu = %m.name, %digits, "IVR choice");
                return Ok(Next::Go(o.destination.clone()));
            }
            if m.direct_dial && digits.len() >= 3 {
                let d = digits.clone();
                if let Some(dest @ Destination::Extension { .. }) = self.read(move |st, t| st.dialable(t, &d)).await? {
                    info!(menu = %m.name, %digits, "IVR direct dial");
                    return Ok(Next::Go(dest));
                }
            }
            info!(menu = %m.name, %digits, "IVR invalid entry");
            let _ = self.s.playback(INVALID).await?;
        }
        Ok(Next::Go(if last_timeout { m.timeout_destination } else { m.invalid_destination }))
    }

    async fn external(&mut self, number: &str) -> Result<Next, RouteError> {
        let routes = self.read(|st, t| st.outbound_routes(t)).await?;
        let Some((route, out)) = crate::pbx::plan::outbound(routes, number) else {
            warn!(number, "no outbound route matches");
            self.cdr.disposition = "failed";
            announce_and_hang_up(self.s, INVALID, "NO_ROUTE_DESTINATION").await?;
            return Ok(Next::Done);
        };
        if dial::number(&out).is_none() {
            warn!(route = %route.name, "the rewritten number is not dialable");
            self.s.hangup("INVALID_NUMBER_FORMAT").await?;
            return Ok(Next::Done);
        }
        if route.trunks.is_empty() {
            // None given, or every one switched off: nothing is counted or held for it.
            warn!(route = %route.name, "the route has no active trunk");
            self.cdr.disposition = "failed";
            announce_and_hang_up(self.s, UNAVAILABLE, "NO_ROUTE_DESTINATION").await?;
            return Ok(Next::Done);
        }
        // Only the route's failover causes may move the call to the next trunk; a callee's
        // BUSY or NO_ANSWER ends it (FreeSWITCH hangs up on causes not listed).
        let cof = if route.failover_causes.is_empty() { "false".to_string() } else { route.failover_causes.join(",") };
        let mut vars = vec![("effective_caller_id_name", self.caller_name.clone())];
        vars.push(("hangup_after_bridge", "true".into()));
        vars.push(("continue_on_fail", cof));
        vars.extend(self.hold_music_vars(None));
        // The tenant's daily and monthly transaction limits, checked and counted at once.
        let (tz, daily, monthly, at) = (self.tenant.timezone.clone(), self.tenant.daily_limit, self.tenant.monthly_limit, (self.clock)());
        if let Some(limit) = self.read(move |st, t| st.count_transaction(t, &tz, daily, monthly, at)).await? {
            warn!(tenant = self.tenant.id, limit = limit.as_str(), "the tenant's transaction limit is reached");
            self.bar(&format!("refused: {} transaction limit", limit.as_str()), UNAVAILABLE).await?;
            return Ok(Next::Done);
        }
        // The rate, and for a prepaid tenant the credit, before anything rings.
        if !self.authorize("outbound", &out, route.rate_plan_id).await? {
            return Ok(Next::Done);
        }
        self.set(&vars).await?;
        let mut last = String::new();
        let mut tried = 0;
        for (i, trunk) in route.trunks.iter().enumerate() {
            // The trunk's channel cap: a full trunk is skipped like a failed one.
            let Some(_channel) = self.caps.trunk(self.s.uuid(), trunk.trunk_id, trunk.max_channels) else {
                warn!(trunk = trunk.trunk_id, cap = trunk.max_channels, "trunk at its channel cap; trying the next");
                continue;
            };
            tried += 1;
            self.cdr.trunk_id = Some(trunk.trunk_id);
            // The caller ID and the codecs go with the leg, as each trunk has its own.
            let vars = crate::pbx::plan::trunk_leg_vars(&route, trunk);
            let leg = if vars.is_empty() { String::new() } else { format!("[{}]", vars.join(",")) };
            match self.bridge(&format!("{leg}sofia/gateway/trunk{}/{out}", trunk.trunk_id), false).await? {
                None => return Ok(Next::Done),
                Some(cause) => last = cause,
            }
            if !route.failover_causes.contains(&last) {
                break;
            }
            info!(route = %route.name, trunk = trunk.trunk_id, cause = %last, next = i + 1 < route.trunks.len(), "trunk failed; failing over");
        }
        self.cdr.disposition = "failed";
        if tried == 0 {
            warn!(route = %route.name, "every trunk of the route is at its channel cap");
            announce_and_hang_up(self.s, UNAVAILABLE, "NORMAL_CIRCUIT_CONGESTION").await?;
            return Ok(Next::Done);
        }
        self.s.hangup(if last.is_empty() { "NO_ROUTE_DESTINATION" } else { &last }).await?;
        Ok(Next::Done)
    }

    /// A prepaid tenant's rated call in or between phones (a call out is authorised when it
    /// reaches its trunk) is authorised before anything rings, like a call out: its money
    /// runs from the answer, as its billed seconds do.
    async fn authorize_prepaid_start(&mut self, first: &Destination) -> Result<bool, RouteError> {
        if !self.tenant.prepaid || matches!(first, Destination::External { .. }) {
            return Ok(true);
        }
        let (direction, number) = match self.cdr.direction {
            "inbound" => ("inbound", self.cdr.did.clone()),
            _ => ("internal", self.cdr.callee.clone()),
        };
        self.authorize(direction, &number, None).await
    }

    /// Rates the call (`direction`, `number`, the route's `plan` or the tenant's); a prepaid
    /// tenant's rated call is authorised against its credit (see [`super::meter`]) or
    /// refused with an announcement. False when the call was refused.
    async fn authorize(&mut self, direction: &'static str, number: &str, plan: Option<i64>) -> Result<bool, RouteError> {
        let n = number.to_string();
        let rate = self.read(move |st, t| st.rate_for(t, plan, direction, &n)).await?.filter(|r| !r.is_free());
        self.rate = rate;
        let Some(rate) = rate.filter(|_| self.tenant.prepaid) else { return Ok(true) };
        let call = super::meter::MeteredCall {
            store: self.store.clone(),
            conn: self.s.connection().clone(),
            uuid: self.s.uuid().to_string(),
            tenant: self.t(),
            rate,
            second: self.second,
        };
        match super::meter::authorize(call, 60).await {
            Some(p) => {
                self.prepaid = Some(p);
                Ok(true)
            }
            None => {
                warn!(tenant = self.tenant.id, direction, "no credit left for a rated call");
                self.bar("refused: no credit", NO_CREDIT).await?;
                Ok(false)
            }
        }
    }

    /// Refuses the call before anything rings: `prompt`, then OUTGOING_CALL_BARRED.
    async fn bar(&mut self, why: &str, prompt: &str) -> Result<(), RouteError> {
        self.path.push(why.into());
        self.cdr.disposition = "failed";
        announce_and_hang_up(self.s, prompt, "OUTGOING_CALL_BARRED").await?;
        Ok(())
    }

    /// The call is over (or about to be): wait briefly for the final event, then write the CDR.
    async fn end(&mut self) {
        let done = self.s.hangup_complete(Duration::from_secs(5)).await;
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
        let settled = db(&self.store, move |st| {
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
