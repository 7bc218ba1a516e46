//! What one call carries while it is driven, and the small acts every step shares: reading
//! the tenant's configuration, answering once, setting variables, caller ID, hold music,
//! recording paths, api commands, and the last application of a call.

use std::sync::Arc;
use std::time::Duration;

use tracing::{info, warn};

use super::channel::Channel;
use super::pickup::Ringing;
use crate::esl::{ApiCommand, EslError};
use crate::pbx::config::{Extension, FollowMe, Tenant};
use crate::pbx::destination::Destination;
use crate::pbx::dial;
use crate::store::cdr::Cdr;
use crate::store::{Store, StoreError, TenantId};

/// Played after a caller's invalid entry.
pub(crate) const INVALID: &str = "ivr/ivr-that_was_an_invalid_entry.wav";
/// Played before a call that cannot go on is ended.
pub(crate) const UNAVAILABLE: &str = "ivr/ivr-not_available.wav";

pub type Clock = Arc<dyn Fn() -> jiff::Timestamp + Send + Sync>;

/// What every call of a router shares.
pub struct Env {
    pub(crate) store: Store,
    /// The store's read-only connections, for the reads a call makes before its first
    /// command, on its own task ([`Store::reading`]).
    pub(crate) reads: Store,
    pub(crate) clock: Clock,
    /// What a caller hears before a call that cannot be routed is ended (`greeting`).
    pub(crate) announcement: String,
    /// Calls ringing the tenants' phones, for *8.
    pub(crate) ringing: Arc<Ringing>,
    /// Live calls per tenant and per trunk, against their caps.
    pub(crate) caps: Arc<super::caps::Caps>,
    /// One second of a metered call (shorter in tests, matching the simulator's).
    pub(crate) second: Duration,
    /// The call queues.
    pub(crate) acd: crate::acd::Acd,
    /// Where received faxes are kept (the data directory's `fax/`); None: faxes are not
    /// received.
    pub(crate) fax_dir: Option<std::path::PathBuf>,
    /// The data directory, under which uploaded recordings are played from; None: an
    /// uploaded greeting is not played (the menu goes on without it).
    pub(crate) data_dir: Option<std::path::PathBuf>,
}

impl Env {
    pub fn new(store: Store, announcement: String, clock: Clock) -> Env {
        Env {
            reads: store.reading(),
            store,
            clock,
            announcement,
            ringing: Arc::default(),
            caps: Arc::default(),
            second: Duration::from_secs(1),
            acd: crate::acd::Acd::default(),
            fax_dir: None,
            data_dir: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum RouteError {
    #[error(transparent)]
    Esl(#[from] EslError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

/// Where a step leaves the call.
#[derive(Debug, PartialEq)]
pub(crate) enum Next {
    Done,
    Go(Destination),
}

/// Who is calling.
#[derive(Debug, Clone, Default)]
pub(crate) struct Caller {
    pub(crate) number: String,
    /// As the switch may see it ([`dial::caller_name`]).
    pub(crate) name: String,
    /// The call came from one of the tenant's phones (so its keys may move the call).
    pub(crate) from_phone: bool,
}

/// What a bridge leaves behind for the rest of the call.
#[derive(Default)]
pub(crate) struct InCall {
    /// An in-call recording (*1) is running to this path.
    pub(crate) recording: Option<String>,
    /// How many in-call recordings this call has started (each gets its own file).
    pub(crate) recorded: u32,
    /// Where a blind transfer (*2 by the bridged phone) sends the caller next.
    pub(crate) transfer_to: Option<Destination>,
    /// The phones a ring group's bridge rings: the one whose leg answers (its `dialed_user`)
    /// becomes the record's extension.
    pub(crate) members_ringing: Vec<String>,
    /// Told which queue agent answered (the leg's [`QUEUE_AGENT_VAR`]), the moment it does:
    /// the agent is in the call from then on, not when the conversation is over.
    pub(crate) on_answer: Option<OnAnswer>,
}

/// What a bridge tells of the queue agent that answered (their user id).
pub(crate) type OnAnswer = Box<dyn Fn(i64) + Send + Sync>;

/// The channel variable a queue offer's every leg carries: the agent it rings for. A leg
/// that reaches the agent elsewhere (a forward, a follow-me number, a trunk) has no
/// `dialed_user` of theirs, but carries this.
pub(crate) const QUEUE_AGENT_VAR: &str = "sb_queue_agent";

/// An extension (and its follow-me) read ahead, keyed by the extension's id.
pub(crate) type FirstPhone = (i64, Extension, Option<FollowMe>);

pub(crate) struct Call<'a, C: Channel> {
    pub(crate) ch: &'a C,
    pub(crate) env: &'a Env,
    pub(crate) tenant: Tenant,
    pub(crate) caller: Caller,
    pub(crate) cdr: Cdr,
    /// The destinations passed, for the record.
    pub(crate) path: Vec<String>,
    pub(crate) answered: bool,
    /// A bridge is ringing and has not reported back.
    pub(crate) ringing: bool,
    /// The session's events (the bridged party's keys among them).
    pub(crate) events: crate::esl::Events,
    pub(crate) in_call: InCall,
    /// The rate the call is settled at (an outbound call's, decided when it dials out).
    pub(crate) rate: Option<crate::billing::rating::Rate>,
    /// A prepaid call's metering, while it is up.
    pub(crate) prepaid: Option<super::meter::Prepaid>,
    /// The phone the call's first destination rings, read with the tenant; taken by the
    /// first step that rings it.
    pub(crate) first_phone: Option<FirstPhone>,
}

/// Places on the blocking pool for the calls' store work: as many as the store has
/// read-write connections. A call beyond them waits here, on its own task, for a few bytes;
/// it used to wait in a blocking thread for a connection, and under a burst of calls tokio
/// started a thread for each (up to 512, each with its allocator's pages), which is where
/// most of the memory of 10,000 held calls went (bench/memory.rs).
static STORE_WORK: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(crate::store::WRITERS as usize);

/// Runs a blocking store read or write off the async threads.
pub(crate) async fn db<T: Send + 'static>(store: &Store, f: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static) -> Result<T, StoreError> {
    let _place = STORE_WORK.acquire().await.expect("the semaphore is never closed");
    let s = store.clone();
    tokio::task::spawn_blocking(move || f(&s)).await.map_err(|e| StoreError::Invalid { field: String::new(), message: format!("store task: {e}") })?
}

/// Refuses a call in words: early media, so the caller hears `prompt` without the call being
/// answered (and billed), then `cause`, whatever became of the prompt (a missing file, a
/// caller who hangs up on it).
pub(crate) async fn announce_and_hang_up(ch: &impl Channel, prompt: &str, cause: &str) -> Result<(), EslError> {
    ch.pre_answer().await?;
    let _ = ch.play(prompt).await;
    ch.hangup(cause).await
}

/// How the record's route names a destination.
pub(crate) fn describe(d: &Destination) -> String {
    match d {
        Destination::External { number } => format!("external {number}"),
        Destination::Hangup { cause } => format!("hangup {}", cause.as_deref().unwrap_or("NORMAL_CLEARING")),
        other => {
            let (table, id) = other.target().unwrap_or(("?", 0));
            format!("{table}/{id}")
        }
    }
}

impl<'a, C: Channel> Call<'a, C> {
    pub(crate) fn new(ch: &'a C, env: &'a Env, tenant: Tenant, caller: Caller, cdr: Cdr) -> Call<'a, C> {
        Call {
            events: ch.events(),
            ch,
            env,
            tenant,
            caller,
            cdr,
            path: Vec::new(),
            answered: false,
            ringing: false,
            in_call: InCall::default(),
            rate: None,
            prepaid: None,
            first_phone: None,
        }
    }

    pub(crate) fn t(&self) -> TenantId {
        TenantId(self.tenant.id)
    }

    /// A read (or write) of the tenant's configuration, on the blocking pool.
    pub(crate) async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store, TenantId) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let t = self.t();
        db(&self.env.store, move |st| f(st, t)).await
    }

    pub(crate) async fn answer(&mut self) -> Result<(), EslError> {
        if !self.answered {
            self.ch.answer().await?;
            self.answered = true;
        }
        Ok(())
    }

    /// The caller ID this call presents when it rings someone.
    pub(crate) fn caller_id(&self) -> Vec<(&'static str, String)> {
        let mut v = vec![("effective_caller_id_name", self.caller.name.clone())];
        if dial::number(&self.caller.number).is_some() {
            v.push(("effective_caller_id_number", self.caller.number.clone()));
        }
        v
    }

    /// Caller ID and the bridge's variables in one application.
    pub(crate) async fn prepare_bridge(&self, timeout: i64, moh_class: Option<i64>) -> Result<(), EslError> {
        let mut vars = self.caller_id();
        vars.push(("call_timeout", timeout.to_string()));
        vars.push(("continue_on_fail", "true".into()));
        vars.push(("hangup_after_bridge", "true".into()));
        vars.extend(self.hold_music_vars(moh_class));
        self.ch.set(&vars).await
    }

    /// What the legs this call rings inherit (export_vars copies it to them at originate):
    /// `hold_music`, so a party held or parked by a transfer hears the tenant's music
    /// (`class`, a ring group's, over the tenant's default); and
    /// media_mix_inbound_outbound_codecs, so a leg offers the caller's codec first and then
    /// the profile's list (switch_core_media.c:2245–2277) instead of the caller's codec
    /// alone, which a phone without it refuses (a G722 phone calling a G.711 one, a
    /// browser calling a desk phone): FreeSWITCH then transcodes. A trunk's leg names its
    /// own codecs (`plan::trunk_leg_vars`), which win over both.
    pub(crate) fn hold_music_vars(&self, class: Option<i64>) -> Vec<(&'static str, String)> {
        let mut vars = vec![("media_mix_inbound_outbound_codecs", "true".to_string())];
        let mut export = String::from("media_mix_inbound_outbound_codecs");
        if let Some(c) = class.or(self.tenant.moh_class) {
            vars.push(("hold_music", crate::pbx::plan::moh_stream(self.tenant.id, c)));
            export.push_str(",hold_music");
        }
        vars.push(("export_vars", export));
        vars
    }

    /// Where a recording named `name` goes: `<recordings_dir>/<tenant domain>/<name>.wav`,
    /// with the switch's own recordings directory asked for (`global_getvar`). An api
    /// command's arguments are never expanded (switch_api_execute,
    /// switch_loadable_module.c:2933–2968), so `$${recordings_dir}` in `uuid_record` was
    /// taken literally, as a path under the sound prefix; and the record must name the file
    /// itself, not a variable. None (and no recording) when the switch does not say, or
    /// says something that is not a plain absolute path.
    pub(crate) async fn recording_path(&self, name: &str) -> Option<String> {
        let dir = self.switch_dir("recordings_dir").await?;
        Some(format!("{dir}/{}/{name}.wav", self.tenant.sip_domain))
    }

    /// What FreeSWITCH plays for a greeting: a path under its sounds as it is, or the file
    /// of the tenant's uploaded recording it names (`sound:<id>`); None when there is none
    /// to play (no greeting, a recording gone, a data directory with an unsafe path).
    pub(crate) async fn greeting(&self, greeting: &str) -> Result<Option<String>, RouteError> {
        if greeting.is_empty() {
            return Ok(None);
        }
        let Some(id) = crate::store::sounds::sound_ref(greeting) else { return Ok(Some(greeting.to_string())) };
        let tenant = self.tenant.id;
        let sound = match db(&self.env.store, move |st| st.sound(crate::store::resource::Within::Tenant(crate::store::TenantId(tenant)), id)).await {
            Ok(s) => s,
            Err(StoreError::NotFound) => {
                warn!(id, "the greeting's recording is gone");
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        };
        let Some(root) = &self.env.data_dir else { return Ok(None) };
        let path = root.join(&sound.stored_as).to_string_lossy().into_owned();
        // Written into an application's argument: a plain absolute path only.
        Ok(crate::pbx::plain_dir(&path).filter(|p| *p == path))
    }

    /// One of the switch's directories (`recordings_dir`, `temp_dir` …), when it names a
    /// plain absolute path: None (logged) when it does not say, or says something else.
    pub(crate) async fn switch_dir(&self, var: &str) -> Option<String> {
        let body = match self.ch.api(&ApiCommand::GlobalGetVar { name: var.into() }).await {
            Ok(b) => b,
            Err(e) => {
                warn!(error = %e, var, "asking the switch for a directory");
                return None;
            }
        };
        let dir = crate::pbx::plain_dir(&body);
        if dir.is_none() {
            warn!(dir = %body.trim().escape_debug(), var, "the switch's directory is not a plain absolute path");
        }
        dir
    }

    /// An api command that answers `+OK` when it worked; a refusal is logged and false.
    pub(crate) async fn api_ok(&self, cmd: ApiCommand) -> bool {
        match self.ch.api_ok(&cmd).await {
            Ok(()) => true,
            Err(e) => {
                warn!(error = %e, "api command failed");
                false
            }
        }
    }

    /// Runs the application that ends the call (voicemail, a conference). When it returns
    /// with the caller still up — mod_voicemail after its goodbye (mod_voicemail.c:3703–3707),
    /// mod_conference after turning the caller away — the caller has heard the last word,
    /// and the call is hung up now rather than left in silence until the socket closes.
    pub(crate) async fn last_app(&mut self, app: &str, arg: &str) -> Result<(), EslError> {
        self.ch.run(app, arg).await?;
        if !self.ch.hung_up() {
            info!(app, "the caller is still up after the call's last application; hanging up");
            self.ch.hangup("NORMAL_CLEARING").await?;
        }
        Ok(())
    }

    /// A number to forward to: the tenant's own dial plan first, else out through a trunk.
    pub(crate) async fn forward_to(&self, number: &str) -> Result<Destination, RouteError> {
        let n = number.to_string();
        Ok(self.read(move |st, t| st.dialable(t, &n)).await?.unwrap_or(Destination::External { number: number.to_string() }))
    }

    /// Refuses the call before anything rings: `prompt`, then OUTGOING_CALL_BARRED.
    pub(crate) async fn bar(&mut self, why: &str, prompt: &str) -> Result<(), RouteError> {
        self.path.push(why.into());
        self.cdr.disposition = "failed";
        announce_and_hang_up(self.ch, prompt, "OUTGOING_CALL_BARRED").await?;
        Ok(())
    }
}
