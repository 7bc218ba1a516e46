//! The FreeSWITCH simulator: places scripted calls into switchboard's outbound listener
//! ([`call`]), answers inbound ESL connections ([`inbound`]), and drives load
//! ([`load`]). Every byte it writes comes from [`crate::esl::switch_side`]; its behaviour
//! follows mod_event_socket.c and what a real FreeSWITCH 1.10 did on the wire
//! (docs/esl-protocol.md).
//!
//! One [`Switch`] is the simulated box: its identity, its live channels and its event bus,
//! shared by both faces, so a call placed on the outbound side shows up in `show channels`
//! on the inbound side and `uuid_kill` there hangs it up. This file holds the box's state
//! (registrations, gateways, rooms, live calls, the bus); the api commands answered from it
//! are in `api`, its `show`/`sofia status` reports in `show`, mod_conference's rooms in
//! `conference`.

mod api;
pub mod apps;
pub mod bridged;
pub mod call;
pub mod channel;
mod conference;
pub mod event;
pub mod inbound;
pub mod load;
pub mod scenario;
mod show;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, Weak};

use tokio::sync::broadcast;

use conference::Room;

/// The global variables a Debian package install of FreeSWITCH 1.10 has (switch_core.c
/// switch_core_set_globals: SWITCH_GLOBAL_dirs as configured at build time).
pub const RECORDINGS_DIR: &str = "/var/lib/freeswitch/recordings";
pub const SOUND_PREFIX: &str = "/usr/share/freeswitch/sounds/en/us/callie";

/// How long a call's `show channels` row outlives its socket (see `Switch::unregister`).
pub const DESTROY_LAG: std::time::Duration = std::time::Duration::from_millis(50);

pub use call::{CallReport, Core};
pub use event::SimEvent;
pub use scenario::{Scenario, Target};

/// A SIP registration the simulated switch reports.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Registration {
    pub user: String,
    pub realm: String,
    pub contact: String,
    pub network_ip: String,
    pub agent: String,
}

/// A sofia gateway, its state (REGED, FAIL_WAIT, NOREG…) and its status (UP or DOWN: a
/// gateway that does not register stays NOREG, and its pings move the status alone).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Gateway {
    pub name: String,
    pub proxy: String,
    pub state: String,
    pub status: String,
}

/// A conference room: made by its first caller with that caller's limit and recording, gone
/// when its last member leaves (CFLAG_DYNAMIC, mod_conference.c:2572–2576).
struct Inner {
    id: Arc<event::Identity>,
    channels: Mutex<HashMap<String, Weak<Core>>>,
    /// `show channels` rows of calls whose socket has closed, until the switch would have
    /// deleted them (see [`DESTROY_LAG`]).
    destroyed: Mutex<Vec<(std::time::Instant, serde_json::Value)>>,
    bus: broadcast::Sender<Arc<SimEvent>>,
    sessions: std::sync::atomic::AtomicU64,
    registrations: Mutex<Vec<Registration>>,
    gateways: Mutex<Vec<Gateway>>,
    /// Where originate hands answered channels (switchboard's outbound listener).
    socket_target: Mutex<Option<SocketAddr>>,
    /// How originated legs behave.
    originate: Mutex<Scenario>,
    /// Calls whose bridge is ringing (not yet answered), each with a way to hand it the call
    /// that intercepts it.
    ringing: Mutex<HashMap<String, tokio::sync::oneshot::Sender<Arc<Core>>>>,
    /// mod_conference's live rooms, by name.
    conferences: Mutex<HashMap<String, Room>>,
    /// The last conference member id given: one count for every room on the switch
    /// (next_member_id, mod_conference.c:65).
    member_ids: std::sync::atomic::AtomicU64,
    /// Scheduled tasks (sched_hangup) with their group.
    sched: Mutex<Vec<(String, tokio::task::AbortHandle)>>,
    /// `sofia profile …` commands received (rescan, check_sync).
    sofia_log: Mutex<Vec<String>>,
    /// Legs placed by `originate`, as the far ends see them.
    legs: Mutex<Originates>,
    /// mod_hash's table.
    hash: Mutex<HashMap<String, String>>,
    /// Where recordings are written (`recordings_dir`); by default the packaged path, where
    /// nothing is written.
    recordings: Mutex<Option<std::path::PathBuf>>,
}

/// What `originate` placed: legs up now (ringing or answered) and the most ever up at once,
/// every dial string's originates, and the faxes each received whole (`txfax` to the end).
#[derive(Debug, Clone, Default)]
pub struct Originates {
    pub up: usize,
    pub peak: usize,
    pub dialed: BTreeMap<String, usize>,
    pub faxed: BTreeMap<String, usize>,
    live: std::collections::HashSet<String>,
}

#[derive(Clone)]
pub struct Switch {
    inner: Arc<Inner>,
}

impl Default for Switch {
    fn default() -> Self {
        Switch::new("sim-switch")
    }
}

impl Switch {
    pub fn new(hostname: &str) -> Switch {
        let (bus, _) = broadcast::channel(4096);
        Switch {
            inner: Arc::new(Inner {
                id: Arc::new(event::Identity::new(hostname)),
                channels: Mutex::new(HashMap::new()),
                destroyed: Mutex::new(Vec::new()),
                bus,
                sessions: Default::default(),
                registrations: Mutex::new(Vec::new()),
                gateways: Mutex::new(Vec::new()),
                socket_target: Mutex::new(None),
                originate: Mutex::new(Scenario::default()),
                ringing: Mutex::new(HashMap::new()),
                conferences: Mutex::new(HashMap::new()),
                member_ids: Default::default(),
                sched: Mutex::new(Vec::new()),
                sofia_log: Mutex::new(Vec::new()),
                legs: Mutex::new(Originates::default()),
                hash: Mutex::new(HashMap::new()),
                recordings: Mutex::new(None),
            }),
        }
    }

    pub fn identity(&self) -> Arc<event::Identity> {
        self.inner.id.clone()
    }

    /// Places one call into `target` and returns what happened.
    /// Boxed: originate places calls from inside a call's api handling, and the recursion
    /// needs a named future type.
    pub fn call(&self, target: SocketAddr, scenario: Arc<Scenario>) -> std::pin::Pin<Box<dyn std::future::Future<Output = CallReport> + Send>> {
        Box::pin(call::run_call(self.clone(), target, scenario))
    }

    pub fn set_socket_target(&self, addr: SocketAddr) {
        *self.inner.socket_target.lock().unwrap() = Some(addr);
    }

    /// What `originate` has placed so far.
    pub fn originates(&self) -> Originates {
        self.inner.legs.lock().unwrap().clone()
    }

    /// An originated leg `leg` to `endpoint` begins (rings).
    pub(crate) fn leg_up(&self, leg: &str, endpoint: &str) {
        let mut l = self.inner.legs.lock().unwrap();
        if l.live.insert(leg.to_string()) {
            l.up += 1;
            l.peak = l.peak.max(l.up);
            *l.dialed.entry(endpoint.to_string()).or_default() += 1;
        }
    }

    /// An originated leg ends (it failed to connect, or hung up); once.
    pub(crate) fn leg_down(&self, leg: &str) {
        let mut l = self.inner.legs.lock().unwrap();
        if l.live.remove(leg) {
            l.up -= 1;
        }
    }

    /// The far machine at `endpoint` received a whole fax.
    pub(crate) fn faxed(&self, endpoint: &str) {
        *self.inner.legs.lock().unwrap().faxed.entry(endpoint.to_string()).or_default() += 1;
    }

    /// Recordings go to `dir`, each a real (silent) WAV file there, as a test that plays one
    /// back needs.
    pub fn set_recordings_dir(&self, dir: &std::path::Path) {
        *self.inner.recordings.lock().unwrap() = Some(dir.to_path_buf());
    }

    /// `recordings_dir` as `global_getvar` answers it.
    pub(crate) fn recordings_dir(&self) -> String {
        match &*self.inner.recordings.lock().unwrap() {
            Some(d) => d.to_string_lossy().into_owned(),
            None => RECORDINGS_DIR.into(),
        }
    }

    /// A recording starts at `path`: in the directory set for recordings, a WAV file is
    /// there from then on (FreeSWITCH opens the file when the recording starts and writes
    /// as the call goes; here half a second of 8 kHz silence stands for it).
    pub(crate) fn start_recording(&self, path: &str) {
        let Some(dir) = self.inner.recordings.lock().unwrap().clone() else { return };
        let p = std::path::Path::new(path);
        if !p.starts_with(&dir) || p.components().any(|c| c == std::path::Component::ParentDir) {
            return;
        }
        if let Some(parent) = p.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        let samples = 4000u32;
        let mut wav = Vec::with_capacity(44 + samples as usize * 2);
        wav.extend_from_slice(b"RIFF");
        wav.extend_from_slice(&(36 + samples * 2).to_le_bytes());
        wav.extend_from_slice(b"WAVEfmt ");
        wav.extend_from_slice(&16u32.to_le_bytes());
        wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
        wav.extend_from_slice(&1u16.to_le_bytes()); // mono
        wav.extend_from_slice(&8000u32.to_le_bytes());
        wav.extend_from_slice(&16000u32.to_le_bytes());
        wav.extend_from_slice(&2u16.to_le_bytes());
        wav.extend_from_slice(&16u16.to_le_bytes());
        wav.extend_from_slice(b"data");
        wav.extend_from_slice(&(samples * 2).to_le_bytes());
        wav.resize(44 + samples as usize * 2, 0);
        let _ = std::fs::write(p, wav);
    }

    pub fn set_originate_scenario(&self, s: Scenario) {
        *self.inner.originate.lock().unwrap() = s;
    }

    /// A phone registers (or refreshes): the registration replaces the user's previous one
    /// and `sofia::register` fires (sofia_reg.c:2059–2085).
    pub fn add_registration(&self, r: Registration) {
        {
            let mut regs = self.inner.registrations.lock().unwrap();
            regs.retain(|x| !(x.user == r.user && x.realm == r.realm));
            regs.push(r.clone());
        }
        let headers = vec![
            ("profile-name", "internal".to_string()),
            ("from-user", r.user.clone()),
            ("from-host", r.realm.clone()),
            ("presence-hosts", "n/a".into()),
            ("contact", r.contact.clone()),
            ("call-id", format!("{}-{}", r.user, r.realm)),
            ("rpid", "unknown".into()),
            ("status", "Registered(UDP)".into()),
            ("expires", "3600".into()),
            ("to-user", r.user.clone()),
            ("to-host", r.realm.clone()),
            ("network-ip", r.network_ip.clone()),
            ("network-port", "5060".into()),
            ("username", r.user.clone()),
            ("realm", r.realm.clone()),
            ("user-agent", r.agent.clone()),
        ];
        self.publish(&self.custom_event("sofia::register", ("sofia_reg.c", "sofia_reg_handle_register_token", 2059), headers));
    }

    /// A phone unregisters: `sofia::unregister` (sofia_reg.c:2213–2226).
    pub fn remove_registration(&self, user: &str, realm: &str) {
        let gone: Vec<Registration> = {
            let mut regs = self.inner.registrations.lock().unwrap();
            let (gone, kept) = regs.drain(..).partition(|x| x.user == user && x.realm == realm);
            *regs = kept;
            gone
        };
        for r in gone {
            let headers = vec![
                ("profile-name", "internal".to_string()),
                ("username", r.user.clone()),
                ("from-user", r.user.clone()),
                ("from-host", r.realm.clone()),
                ("contact", r.contact.clone()),
                ("call-id", format!("{}-{}", r.user, r.realm)),
                ("rpid", "unknown".into()),
                ("realm", r.realm.clone()),
                ("network-ip", r.network_ip.clone()),
                ("network-port", "5060".into()),
                ("user-agent", r.agent.clone()),
                ("expires", "0".into()),
            ];
            self.publish(&self.custom_event("sofia::unregister", ("sofia_reg.c", "sofia_reg_handle_register_token", 2213), headers));
        }
    }

    /// A gateway added to the external profile (a start, a rescan): `sofia::gateway_add`,
    /// and nothing else while its state does not change (sofia_reg.c:3719–3727).
    pub fn add_gateway(&self, g: Gateway) {
        let headers = vec![("Gateway", g.name.clone()), ("profile-name", "external".to_string())];
        self.inner.gateways.lock().unwrap().push(g);
        self.publish(&self.custom_event("sofia::gateway_add", ("sofia_reg.c", "sofia_reg_add_gateway", 3722), headers));
    }

    /// A gateway changes state or status: `sofia::gateway_state`, which always carries the
    /// status as Ping-Status (sofia_reg.c:153–172).
    pub fn set_gateway_state(&self, name: &str, state: &str, status: &str) {
        let found = {
            let mut gws = self.inner.gateways.lock().unwrap();
            match gws.iter_mut().find(|g| g.name == name) {
                Some(g) => {
                    g.state = state.to_string();
                    g.status = status.to_string();
                    true
                }
                None => false,
            }
        };
        if found {
            let headers = vec![("Gateway", name.to_string()), ("State", state.to_string()), ("Ping-Status", status.to_string())];
            self.publish(&self.custom_event("sofia::gateway_state", ("sofia_reg.c", "sofia_reg_fire_custom_gateway_state_event", 156), headers));
        }
    }

    /// `sofia profile <name> rescan` and `check_sync` commands received, in order.
    pub fn sofia_commands(&self) -> Vec<String> {
        self.inner.sofia_log.lock().unwrap().clone()
    }

    /// A CUSTOM event: the core headers, `Event-Subclass`, then the event's own
    /// (switch_event_create_subclass_detailed, switch_event.c:779–784).
    fn custom_event(&self, subclass: &str, origin: (&str, &str, u32), headers: Vec<(&str, String)>) -> SimEvent {
        let mut head = self.inner.id.core_headers("CUSTOM", origin.0, origin.1, origin.2);
        head.push(("Event-Subclass".into(), subclass.into()));
        head.extend(headers.into_iter().map(|(k, v)| (k.to_string(), v)));
        SimEvent { name: "CUSTOM".into(), head, blocks: Vec::new(), tail: Vec::new(), body: None }
    }

    pub(crate) fn register(&self, core: &Arc<Core>) {
        self.inner.sessions.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.inner.channels.lock().unwrap().insert(core.uuid(), Arc::downgrade(core));
    }

    /// The call's socket has closed. Its `show channels` row outlives it: FreeSWITCH deletes
    /// the row on CHANNEL_DESTROY, which comes once every lock on the session is released
    /// (after the outbound socket closes) and then waits in the core's SQL queue
    /// (switch_core_sqldb.c:2449–2461); a hangup never updates the row, so it keeps its
    /// last call state. Seen on a real 1.10.12: listed ~44 ms after the socket closed.
    pub(crate) fn unregister(&self, uuid: &str) {
        let core = self.inner.channels.lock().unwrap().remove(uuid).and_then(|w| w.upgrade());
        if let Some(core) = core {
            let st = core.lock();
            let row = self.channel_row(&st.ch, st.held);
            drop(st);
            let mut gone = self.inner.destroyed.lock().unwrap();
            gone.retain(|(at, _)| at.elapsed() < DESTROY_LAG);
            gone.push((std::time::Instant::now(), row));
        }
    }

    /// A caller enters `room`, making it with `max` members (0: no limit) and `recording`
    /// when it does not exist yet. Err(()) when the room is full; else the members now in it
    /// and the caller's member id, and the room's recording.
    /// The call `uuid` starts ringing: the receiver gets the call that intercepts it.
    pub(crate) fn ringing(&self, uuid: &str) -> tokio::sync::oneshot::Receiver<Arc<Core>> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.inner.ringing.lock().unwrap().insert(uuid.to_string(), tx);
        rx
    }

    pub(crate) fn ringing_done(&self, uuid: &str) {
        self.inner.ringing.lock().unwrap().remove(uuid);
    }

    /// Takes the call `uuid` while it rings, for `intercept`.
    pub(crate) fn take_ringing(&self, uuid: &str) -> Option<tokio::sync::oneshot::Sender<Arc<Core>>> {
        self.inner.ringing.lock().unwrap().remove(uuid).filter(|tx| !tx.is_closed())
    }

    /// The call whose controlled channel is `uuid`, or whose bridged leg is.
    pub fn find_owner(&self, uuid: &str) -> Option<Arc<Core>> {
        self.find(uuid).or_else(|| self.live().into_iter().find(|c| c.lock().legs.iter().any(|l| l.uuid == uuid)))
    }

    /// Hands an api action to the conversation `uuid` takes part in (as a bridged leg).
    fn leg_ctl(&self, uuid: &str, ctl: bridged::LegCtl) -> bool {
        match self.find_owner(uuid).and_then(|c| c.lock().ctl.clone()) {
            Some(tx) => tx.send(ctl).is_ok(),
            None => false,
        }
    }

    pub fn find(&self, uuid: &str) -> Option<Arc<Core>> {
        self.inner.channels.lock().unwrap().get(uuid).and_then(Weak::upgrade)
    }

    /// Live channels (A-legs and their bridged B-legs).
    pub fn live(&self) -> Vec<Arc<Core>> {
        self.inner.channels.lock().unwrap().values().filter_map(Weak::upgrade).collect()
    }

    /// Every conversation up now, as the switch sees it: the controlled channel's UUID and
    /// the channel name of the leg it is bridged to (`sofia/internal/1002@domain`), each once.
    pub fn conversations(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .live()
            .iter()
            .flat_map(|c| {
                let st = c.lock();
                st.legs.iter().map(|l| (st.ch.uuid.clone(), l.name.clone())).collect::<Vec<_>>()
            })
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    pub(crate) fn publish(&self, ev: &SimEvent) {
        if self.inner.bus.receiver_count() > 0 {
            let _ = self.inner.bus.send(Arc::new(ev.clone()));
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<SimEvent>> {
        self.inner.bus.subscribe()
    }

    /// BACKGROUND_JOB (mod_event_socket.c:1529–1636): the result is the body.
    pub(crate) fn background_job(&self, job: &str, owner: &str, cmd: &str, result: &str) -> SimEvent {
        let mut head = self.inner.id.core_headers("BACKGROUND_JOB", "mod_event_socket.c", "api_exec", 1557);
        let (c, a) = cmd.split_once(' ').unwrap_or((cmd, ""));
        head.push(("Job-UUID".into(), job.into()));
        if !owner.is_empty() {
            head.push(("Job-Owner-UUID".into(), owner.into()));
        }
        head.push(("Job-Command".into(), c.into()));
        if !a.is_empty() {
            head.push(("Job-Command-Arg".into(), a.into()));
        }
        SimEvent { name: "BACKGROUND_JOB".into(), head, blocks: Vec::new(), tail: Vec::new(), body: Some(result.to_string()) }
    }
}
