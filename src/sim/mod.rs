//! The FreeSWITCH simulator: places scripted calls into switchboard's outbound listener
//! ([`call`]), answers inbound ESL connections ([`inbound`]), and drives load
//! ([`load`]). Every byte it writes comes from [`crate::esl::switch_side`]; its behaviour
//! follows mod_event_socket.c and what a real FreeSWITCH 1.10 did on the wire
//! (docs/esl-protocol.md).
//!
//! One [`Switch`] is the simulated box: its identity, its live channels and its event bus,
//! shared by both faces, so a call placed on the outbound side shows up in `show channels`
//! on the inbound side and `uuid_kill` there hangs it up.

pub mod apps;
pub mod bridged;
pub mod call;
pub mod channel;
pub mod event;
pub mod inbound;
pub mod load;
pub mod scenario;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, Weak};

use tokio::sync::broadcast;

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
struct Room {
    members: usize,
    max: usize,
    recording: Option<String>,
}

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
    pub(crate) fn conference_join(&self, room: &str, max: usize, recording: Option<String>) -> Result<(usize, u64, Option<String>), ()> {
        let mut rooms = self.inner.conferences.lock().unwrap();
        let r = rooms.entry(room.to_string()).or_insert(Room { members: 0, max, recording });
        if r.max > 0 && r.members >= r.max {
            return Err(());
        }
        r.members += 1;
        let id = self.inner.member_ids.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        Ok((r.members, id, r.recording.clone()))
    }

    pub(crate) fn conference_leave(&self, room: &str) {
        let mut rooms = self.inner.conferences.lock().unwrap();
        if let Some(r) = rooms.get_mut(room) {
            r.members = r.members.saturating_sub(1);
            if r.members == 0 {
                rooms.remove(room);
            }
        }
    }

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

    /// The api commands a PBX uses, answered from the simulated switch's own state.
    /// (`$${…}` in an api command's arguments is never expanded, by the switch or here.)
    pub async fn api(&self, line: &str, _session: Option<&str>) -> String {
        let line = line.trim();
        let (cmd, args) = line.split_once(' ').map(|(c, a)| (c, a.trim())).unwrap_or((line, ""));
        let words: Vec<&str> = args.split_whitespace().collect();
        match cmd {
            "status" => {
                let n = self.live().len();
                let total = self.inner.sessions.load(std::sync::atomic::Ordering::Relaxed);
                format!(
                    "UP 0 years, 0 days, 0 hours, 0 minutes, 1 second, 0 milliseconds, 0 microseconds\nFreeSWITCH (Version 1.10.12 -release 64bit) is ready\n{total} session(s) since startup\n{n} session(s) - peak {n}, last 5min {n} \n0 session(s) per Sec out of max 30, peak 0, last 5min 0 \n1000 session(s) max\nmin idle cpu 0.00/99.00\nCurrent Stack Size/Max 240K/8192K\n"
                )
            }
            "show" if args.starts_with("channels") => self.show_channels(args.contains("as json")),
            "show" if args.starts_with("registrations") => self.show_registrations(args.contains("as json")),
            "uuid_kill" => {
                let cause = words.get(1).copied().unwrap_or("NORMAL_CLEARING");
                match words.first() {
                    Some(u) => match self.find(u) {
                        Some(c) => {
                            c.hangup(cause, "switch");
                            "+OK\n".into()
                        }
                        None if self.leg_ctl(u, bridged::LegCtl::Kill { uuid: u.to_string(), cause: cause.to_string() }) => "+OK\n".into(),
                        None => "-ERR No such channel!\n".into(),
                    },
                    None => "-ERR No such channel!\n".into(),
                }
            }
            // mod_commands.c uuid_broadcast_function: `<uuid> <path> [aleg|bleg|both]`; an
            // `app::args` path runs the application on that channel (switch_ivr_broadcast).
            "uuid_broadcast" => match (words.first(), words.get(1)) {
                (Some(u), Some(path)) if self.find_owner(u).is_some() => {
                    match path.strip_prefix("att_xfer::") {
                        Some(target) => {
                            self.leg_ctl(u, bridged::LegCtl::AttXfer { presser: u.to_string(), target: target.to_string() });
                        }
                        None => {
                            if let Some(c) = self.find_owner(u) {
                                c.lock().report.broadcasts.push(words[1..].join(" "));
                            }
                        }
                    }
                    "+OK Message sent\n".into()
                }
                (Some(_), Some(_)) => "-ERR invalid uuid\n".into(),
                _ => "-USAGE: <uuid> <path> [aleg|bleg|holdb|both]\n".into(),
            },
            // mod_commands.c sched_hangup_function: `+<secs>|<epoch> <uuid> [<cause>]`; the task's
            // group is the channel's UUID (switch_ivr_schedule_hangup), so `sched_del <uuid>`
            // cancels it. Seconds are the scenario's (second_ms).
            "sched_hangup" => match (words.first(), words.get(1).and_then(|u| self.find(u))) {
                (Some(when), Some(c)) => {
                    let secs: u64 = when.trim_start_matches('+').parse().unwrap_or(0);
                    let cause = words.get(2).copied().unwrap_or("ALLOTTED_TIMEOUT").to_string();
                    c.lock().report.sched_hangup = Some((secs, cause.clone()));
                    let ms = secs * c.scenario.second_ms;
                    let group = c.uuid();
                    let target = c.clone();
                    let task = tokio::spawn(async move {
                        if target.wait(ms).await {
                            target.hangup(&cause, "switch");
                        }
                    });
                    self.inner.sched.lock().unwrap().push((group, task.abort_handle()));
                    "+OK\n".into()
                }
                (None, _) => "-USAGE: <time> <uuid> [<cause>]\n".into(),
                _ => "-ERR No such channel!\n".into(),
            },
            // mod_commands.c sched_del_function: by task id (digits) or group; always +OK.
            "sched_del" => {
                let group = args.trim();
                let mut all = self.inner.sched.lock().unwrap();
                let before = all.len();
                all.retain(|(g, task)| {
                    let hit = g == group;
                    if hit {
                        task.abort();
                    }
                    !hit && !task.is_finished()
                });
                let n = before - all.len();
                format!("+OK Deleted: {n}\n")
            }
            // mod_commands.c session_record_function: `<uuid> start|stop <path> [<limit>]`.
            "uuid_record" => match (words.first().and_then(|u| self.find_owner(u)), words.get(1), words.get(2)) {
                (Some(c), Some(&"start"), Some(path)) => {
                    c.lock().report.recordings.push(path.to_string());
                    "+OK Success\n".into()
                }
                (Some(c), Some(&"stop"), Some(path)) => {
                    c.lock().report.stopped_recordings.push(path.to_string());
                    "+OK Success\n".into()
                }
                (None, Some(_), Some(_)) => "-ERR Cannot locate session!\n".into(),
                _ => "-USAGE: <uuid> [start|stop|mask|unmask] <path> [<limit>]\n".into(),
            },
            // mod_commands.c global_getvar_function: the value, no line break; nothing for
            // a variable that is not set.
            "global_getvar" => match args {
                "recordings_dir" => RECORDINGS_DIR.into(),
                "sound_prefix" => SOUND_PREFIX.into(),
                _ => String::new(),
            },
            // mod_commands.c uuid_exists_function: "true" or "false", no line break.
            "uuid_exists" => (words.first().is_some_and(|u| self.find(u).is_some())).to_string(),
            "uuid_getvar" => match words.first().and_then(|u| self.find(u)) {
                Some(c) => c.lock().ch.var(words.get(1).copied().unwrap_or("")).unwrap_or("_undef_").to_string(),
                None => "-ERR No such channel!\n".into(),
            },
            "uuid_setvar" => match words.first().and_then(|u| self.find(u)) {
                Some(c) => {
                    let value = words.get(2..).map(|w| w.join(" ")).unwrap_or_default();
                    c.lock().ch.set_var(words.get(1).copied().unwrap_or(""), &value);
                    "+OK\n".into()
                }
                None => "-ERR No such channel!\n".into(),
            },
            "uuid_transfer" => {
                let rest: Vec<&str> = words.iter().skip(1).filter(|w| !w.starts_with('-')).copied().collect();
                match words.first().and_then(|u| self.find(u)) {
                    Some(c) if !rest.is_empty() => {
                        c.lock().report.transferred_to = Some(rest.join(" "));
                        c.release_socket();
                        "+OK\n".into()
                    }
                    None if !rest.is_empty()
                        && self.leg_ctl(words[0], bridged::LegCtl::Transfer { uuid: words[0].to_string(), dest: rest.join(" ") }) =>
                    {
                        "+OK\n".into()
                    }
                    Some(_) => "-USAGE: <uuid> [-bleg|-both] <dest-exten> [<dialplan>] [<context>]\n".into(),
                    None => "-ERR No such channel!\n".into(),
                }
            }
            "uuid_hold" => {
                let (off, uuid) = match words.as_slice() {
                    ["off", u, ..] => (true, *u),
                    ["toggle", u, ..] => (false, *u),
                    [u, ..] => (false, *u),
                    [] => return "-USAGE: [off|toggle] <uuid>\n".into(),
                };
                match self.find(uuid) {
                    Some(c) => {
                        let name = {
                            let mut st = c.lock();
                            st.held = if words.first() == Some(&"toggle") { !st.held } else { !off };
                            if st.held {
                                "CHANNEL_HOLD"
                            } else {
                                "CHANNEL_UNHOLD"
                            }
                        };
                        c.fire_a(name, ("switch_channel.c", "switch_channel_perform_mark_hold", 1060), Vec::new(), Vec::new());
                        "+OK Success\n".into()
                    }
                    None => "-ERR No such channel!\n".into(),
                }
            }
            "sofia" if args.starts_with("status gateway") => self.sofia_gateways(words.get(2).copied()),
            "sofia" if args.starts_with("xmlstatus gateway") => self.sofia_gateways_xml(words.get(2).copied()),
            // mod_sofia.c:3623–3645: `sofia profile <name> rescan | check_sync [<user@host>]`.
            "sofia" if words.first() == Some(&"profile") && words.len() >= 3 => {
                self.inner.sofia_log.lock().unwrap().push(words[1..].join(" "));
                match (words[1], words[2]) {
                    ("internal" | "external", "rescan") => "Reload XML [Success]\n+OK scan complete\n".into(),
                    ("internal" | "external", "check_sync") if words.len() > 3 => "+OK syncing all registrations matching specified call_id\n".into(),
                    ("internal" | "external", "check_sync") => "+OK syncing all registrations\n".into(),
                    // mod_sofia.c:3583–3601.
                    ("internal" | "external", "killgw") => match words.get(3) {
                        None => "-ERR missing gw name\n".into(),
                        // The real switch unlinks it at the profile's next tick (about a
                        // second later) and fires gateway_delete then (sofia_reg.c:334–350).
                        Some(gw) => {
                            let removed = {
                                let mut gws = self.inner.gateways.lock().unwrap();
                                let before = gws.len();
                                gws.retain(|g| g.name != *gw);
                                gws.len() < before
                            };
                            if removed {
                                let headers = vec![("profile-name", words[1].to_string()), ("Gateway", gw.to_string())];
                                self.publish(&self.custom_event("sofia::gateway_delete", ("sofia_reg.c", "sofia_reg_check_gateway", 343), headers));
                                "+OK gateway marked for deletion.\n".into()
                            } else {
                                "-ERR no such gateway.\n".into()
                            }
                        }
                    },
                    ("internal" | "external", _) => "-ERR Unknown command!\n".into(),
                    (p, _) => format!("Invalid Profile [{p}]"),
                }
            }
            // originate splits its arguments like switch_separate_string: a single-quoted
            // value keeps its spaces and loses its quotes (switch_utils.c:2814–2868).
            "originate" => {
                let quoted = apps::split_args(args);
                let words: Vec<&str> = quoted.iter().map(String::as_str).collect();
                self.originate(&words).await
            }
            _ => format!("-ERR {cmd} Command not found!\n"),
        }
    }

    fn channel_row(&self, ch: &channel::Channel, held: bool) -> serde_json::Value {
        serde_json::json!({
            "uuid": ch.uuid, "direction": ch.direction, "created_epoch": (ch.created_us / 1_000_000).to_string(),
            "name": ch.name, "state": ch.state, "cid_name": ch.cid_name, "cid_num": ch.cid_number,
            "dest": ch.destination, "application": ch.var("current_application").unwrap_or(""),
            "application_data": ch.var("current_application_data").unwrap_or(""),
            "read_codec": "PCMU", "write_codec": "PCMU", "callstate": ch.call_state,
            "callee_num": "", "context": ch.context, "hostname": self.inner.id.hostname,
            "call_uuid": ch.uuid, "presence_id": ch.var("presence_id").unwrap_or(""),
            "held": held.to_string(),
        })
    }

    fn show_channels(&self, json: bool) -> String {
        let mut rows = Vec::new();
        for c in self.live() {
            let st = c.lock();
            let mut chans = vec![&st.ch];
            chans.extend(st.legs.iter());
            for ch in chans {
                if !ch.is_up() {
                    continue;
                }
                rows.push(self.channel_row(ch, st.held));
            }
        }
        let mut gone = self.inner.destroyed.lock().unwrap();
        gone.retain(|(at, _)| at.elapsed() < DESTROY_LAG);
        rows.extend(gone.iter().map(|(_, r)| r.clone()));
        drop(gone);
        if json {
            if rows.is_empty() {
                return "{\"row_count\":0}".into();
            }
            serde_json::json!({"row_count": rows.len(), "rows": rows}).to_string()
        } else {
            let mut out = String::from("uuid,direction,created_epoch,name,state,cid_name,cid_num,dest,callstate\n");
            for r in &rows {
                out.push_str(&format!(
                    "{},{},{},{},{},{},{},{},{}\n",
                    r["uuid"].as_str().unwrap_or(""),
                    r["direction"].as_str().unwrap_or(""),
                    r["created_epoch"].as_str().unwrap_or(""),
                    r["name"].as_str().unwrap_or(""),
                    r["state"].as_str().unwrap_or(""),
                    r["cid_name"].as_str().unwrap_or(""),
                    r["cid_num"].as_str().unwrap_or(""),
                    r["dest"].as_str().unwrap_or(""),
                    r["callstate"].as_str().unwrap_or("")
                ));
            }
            out.push_str(&format!("\n{} total.\n", rows.len()));
            out
        }
    }

    /// mod_commands.c show registrations: `select reg_user,realm,token,url,expires,network_ip,
    /// network_port,network_proto,hostname,metadata from registrations`.
    fn show_registrations(&self, json: bool) -> String {
        let regs = self.inner.registrations.lock().unwrap();
        if json {
            if regs.is_empty() {
                return "{\"row_count\":0}".into();
            }
            let rows: Vec<serde_json::Value> = regs
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "reg_user": r.user, "realm": r.realm, "token": format!("{}-{}", r.user, r.realm), "url": r.contact,
                        "expires": "3600", "network_ip": r.network_ip, "network_port": "5060", "network_proto": "udp",
                        "hostname": self.inner.id.hostname, "metadata": r.agent,
                    })
                })
                .collect();
            return serde_json::json!({"row_count": rows.len(), "rows": rows}).to_string();
        }
        let mut out = String::from("reg_user,realm,token,url,expires,network_ip,network_port,network_proto,hostname,metadata\n");
        for r in regs.iter() {
            out.push_str(&format!("{},{},{},{},3600,{},5060,udp,{},\n", r.user, r.realm, r.user, r.contact, r.network_ip, self.inner.id.hostname));
        }
        out.push_str(&format!("\n{} total.\n", regs.len()));
        out
    }

    /// `sofia xmlstatus gateway [<name>]` (mod_sofia.c:3204–3292): every gateway inside
    /// `<gateways>`, or one bare `<gateway>`; each field on its own line.
    fn sofia_gateways_xml(&self, name: Option<&str>) -> String {
        let gws = self.inner.gateways.lock().unwrap();
        let one = |g: &Gateway| {
            format!(
                "  <gateway>\n    <name>{}</name>\n    <profile>external</profile>\n    <scheme>Digest</scheme>\n    <realm>{p}</realm>\n    \
                 <proxy>sip:{p}</proxy>\n    <state>{}</state>\n    <status>{}</status>\n    <uptime-usec>0</uptime-usec>\n  </gateway>\n",
                g.name,
                g.state,
                g.status,
                p = g.proxy
            )
        };
        let head = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n";
        match name {
            Some(n) => match gws.iter().find(|g| g.name == n) {
                Some(g) => format!("{head}{}", one(g)),
                None => "Invalid Gateway!\n".into(),
            },
            None => format!("{head}<gateways>\n{}</gateways>\n", gws.iter().map(one).collect::<String>()),
        }
    }

    fn sofia_gateways(&self, name: Option<&str>) -> String {
        let gws = self.inner.gateways.lock().unwrap();
        match name {
            Some(n) => match gws.iter().find(|g| g.name == n) {
                Some(g) => format!("Name    \t{}\nProxy   \t{}\nState   \t{}\nStatus  \t{}\n", g.name, g.proxy, g.state, g.status),
                None => "Invalid Gateway!\n".into(),
            },
            // mod_sofia.c:2947–2990, field widths included.
            None => {
                let line = "=".repeat(97);
                let mut out = format!(
                    "{:>25}\t{:>32}\t{}\t{:>9}\t{}\t{}\n{line}\n",
                    "Profile::Gateway-Name", "    Data    ", "State", "Ping Time", "IB Calls(F/T)", "OB Calls(F/T)"
                );
                for g in gws.iter() {
                    out.push_str(&format!(
                        "{:>25}\t{:>32}\t{}\t{:6.2}\t0/0\t0/0",
                        format!("external::{}", g.name),
                        format!("sip:{}", g.proxy),
                        g.state,
                        0.0
                    ));
                    if matches!(g.state.as_str(), "FAILED" | "FAIL_WAIT" | "TRYING") {
                        out.push_str(" (retry: 30s)");
                    }
                    out.push('\n');
                }
                let c = gws.len();
                out.push_str(&format!(
                    "{line}\n{c} gateway{}: Inbound(Failed/Total): 0/0,Outbound(Failed/Total):0/0\n",
                    if c == 1 { "" } else { "s" }
                ));
                out
            }
        }
    }

    /// `originate <dialstring> <&app(args)|exten [dialplan] [context]>`: rings the leg as the
    /// originate scenario says; when it answers, `&park()` parks it and an extension hands
    /// it to switchboard's outbound socket like the dialplan would.
    async fn originate(&self, words: &[&str]) -> String {
        let Some(dial) = words.first() else {
            return "-USAGE: <call url> <exten>|&<application_name>(<app_args>) [<dialplan>] [<context>] [<cid_name>] [<cid_num>] [<timeout_sec>]\n"
                .into();
        };
        let dest = words.get(1).copied().unwrap_or("&park()");
        let (globals, groups) = apps::parse_dialstring(dial);
        let endpoint = groups.first().and_then(|g| g.first()).map(|l| l.endpoint.clone()).unwrap_or_default();
        let base = self.inner.originate.lock().unwrap().clone();
        let target = base.target(&endpoint);
        let gv = |k: &str| globals.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        match target {
            Target::Answer { after_ms, .. } => {
                tokio::time::sleep(std::time::Duration::from_millis(after_ms)).await;
                let mut s = base.clone();
                let user = endpoint.strip_prefix("user/").map(|u| u.split('@').next().unwrap_or("").to_string());
                s.caller_id_number = gv("origination_caller_id_number")
                    .unwrap_or_else(|| endpoint.rsplit('/').next().unwrap_or("").split('@').next().unwrap_or("").to_string());
                s.caller_id_name = gv("origination_caller_id_name").unwrap_or_else(|| s.caller_id_number.clone());
                if let (Some(u), false) = (&user, dest.starts_with('&')) {
                    // A phone's leg sent into the dialplan has its caller and callee swapped
                    // there (switch_channel.c:3236–3309, switch_channel_flip_cid): its caller
                    // becomes its callee as originate made it, "Outbound Call" at the phone's
                    // contact user (switch_ivr_originate.c:2972), not the origination_caller_id
                    // set above. What says which phone it is are the directory user's
                    // variables, which the user/ endpoint puts on the leg (mod_dptools.c
                    // user_outgoing_channel); this switch has no directory, so it knows the
                    // number alone.
                    s.caller_id_number = channel::contact_user(u);
                    s.caller_id_name = "Outbound Call".into();
                    s.variables.insert("effective_caller_id_number".into(), u.clone());
                }
                s.destination = dest.trim_start_matches('&').to_string();
                s.hangup_after_ms = None;
                let target_addr = *self.inner.socket_target.lock().unwrap();
                match (dest.starts_with('&'), target_addr) {
                    (false, Some(addr)) => {
                        // The answered leg enters the dialplan, which hands it to the socket.
                        s.context = words.get(3).copied().unwrap_or("default").to_string();
                        s.variables.insert("originated_leg".into(), "true".into());
                        for (k, v) in &globals {
                            s.variables.insert(k.clone(), v.clone());
                        }
                        let sw = self.clone();
                        let (tx, rx) = tokio::sync::oneshot::channel();
                        tokio::spawn(async move {
                            let mut sub = sw.subscribe();
                            let scen = Arc::new(s);
                            let handle = tokio::spawn({
                                let sw = sw.clone();
                                async move { sw.call(addr, scen).await }
                            });
                            // The new channel's uuid comes with its first event.
                            let mut tx = Some(tx);
                            while let Ok(ev) = sub.recv().await {
                                if let (Some(u), Some(t)) = (ev.unique_id(), tx.take()) {
                                    let _ = t.send(u.to_string());
                                    break;
                                }
                            }
                            let _ = handle.await;
                        });
                        match tokio::time::timeout(std::time::Duration::from_secs(5), rx).await {
                            Ok(Ok(uuid)) => format!("+OK {uuid}\n"),
                            _ => "-ERR DESTINATION_OUT_OF_ORDER\n".into(),
                        }
                    }
                    _ => {
                        let uuid = uuid::Uuid::new_v4();
                        format!("+OK {uuid}\n")
                    }
                }
            }
            Target::NoAnswer => "-ERR NO_ANSWER\n".into(),
            Target::Busy { .. } => "-ERR USER_BUSY\n".into(),
            Target::Reject { .. } => "-ERR CALL_REJECTED\n".into(),
            Target::Unregistered => "-ERR USER_NOT_REGISTERED\n".into(),
            Target::Fail { cause, .. } => format!("-ERR {cause}\n"),
        }
    }
}
