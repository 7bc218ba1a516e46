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
//! are in `api`, its `show`/`sofia status` reports in `show`.

mod api;
pub mod apps;
pub mod bridged;
pub mod call;
pub mod channel;
pub mod event;
pub mod inbound;
pub mod load;
pub mod scenario;
mod show;

use std::collections::{BTreeMap, HashMap};
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
/// `json_list`'s object for a room (conference_jlist, mod_conference.c:1363–1466).
fn room_json(name: &str, r: &Room) -> serde_json::Value {
    serde_json::json!({
        "conference_name": name,
        "member_count": r.members.len(),
        "ghost_count": 0,
        "rate": 8000,
        "conference_uuid": r.uuid,
        "locked": r.locked,
        "recording": r.recording.is_some(),
        "running": true,
        "variables": {},
        "members": r.members.iter().map(|m| serde_json::json!({
            "type": "caller",
            "id": m.id,
            "flags": { "can_hear": m.hear, "can_see": true, "can_speak": m.speak, "hold": false, "mute_detect": false, "talking": m.talking,
                       "has_video": false, "has_floor": r.members.first().is_some_and(|f| f.id == m.id), "is_moderator": false, "end_conference": false },
            "uuid": m.uuid,
            "caller_id_name": m.caller_name,
            "caller_id_number": m.caller_number,
            "join_time": m.joined.elapsed().as_secs(),
            "last_talking": 0,
            "energy": 100,
            "volume_in": 0,
            "volume_out": 0,
        })).collect::<Vec<_>>(),
    })
}

/// A mod_conference room: its members (newest first, as conference_member_add links
/// them, conference_member.c:1070), its lock and its recording.
struct Room {
    uuid: String,
    max: usize,
    recording: Option<String>,
    locked: bool,
    members: Vec<Member>,
}

/// A member as mod_conference keeps it: its id, its channel, and the flags its events and
/// `json_list` report (conference_member_add_event_data, conference_member.c:236–275).
#[derive(Clone)]
struct Member {
    id: u64,
    uuid: String,
    channel_name: String,
    caller_name: String,
    caller_number: String,
    speak: bool,
    hear: bool,
    talking: bool,
    joined: std::time::Instant,
    /// Told when the member is kicked: its `conference` app returns (mc:2584–2613).
    kicked: Arc<tokio::sync::Notify>,
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
    /// A caller joins `room` (made by its first caller): its member id and the room's
    /// recording, or None when the room is full or locked. `add-member` fires with the new
    /// size (conference_member.c:961–966); the room's first member makes it
    /// (`conference-create`, mod_conference.c:3848).
    pub(crate) fn conference_join(
        &self,
        room: &str,
        max: usize,
        recording: Option<String>,
        who: &channel::Channel,
    ) -> Option<(u64, Option<String>, Arc<tokio::sync::Notify>)> {
        let (ev, created, id, recording, kicked) = {
            let mut rooms = self.inner.conferences.lock().unwrap();
            let created = !rooms.contains_key(room);
            let r = rooms.entry(room.to_string()).or_insert_with(|| Room {
                uuid: uuid::Uuid::new_v4().to_string(),
                max,
                recording,
                locked: false,
                members: Vec::new(),
            });
            // A locked room turns callers away, as a full one does (mod_conference.c:2339–2365).
            if r.locked || (r.max > 0 && r.members.len() >= r.max) {
                return None;
            }
            let id = self.inner.member_ids.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            let kicked = Arc::new(tokio::sync::Notify::new());
            let m = Member {
                id,
                uuid: who.uuid.clone(),
                channel_name: who.name.clone(),
                caller_name: who.cid_name.clone(),
                caller_number: who.cid_number.clone(),
                speak: true,
                hear: true,
                talking: false,
                joined: std::time::Instant::now(),
                kicked: kicked.clone(),
            };
            r.members.insert(0, m.clone());
            (
                self.member_event(room, r, &m, "add-member"),
                created.then(|| self.room_event(room, r, "conference-create", vec![])),
                id,
                r.recording.clone(),
                kicked,
            )
        };
        if let Some(c) = created {
            self.publish(&c);
        }
        self.publish(&ev);
        Some((id, recording, kicked))
    }

    /// How many are in `room`.
    pub(crate) fn conference_size(&self, room: &str) -> usize {
        self.inner.conferences.lock().unwrap().get(room).map_or(0, |r| r.members.len())
    }

    /// The member `id` leaves `room` (hung up or kicked): `del-member`, and with the last
    /// one the room's recording stops and the room goes (`conference-destroy`).
    pub(crate) fn conference_leave(&self, room: &str, id: u64) {
        let mut out = Vec::new();
        {
            let mut rooms = self.inner.conferences.lock().unwrap();
            let Some(r) = rooms.get_mut(room) else { return };
            let Some(i) = r.members.iter().position(|m| m.id == id) else { return };
            let m = r.members.remove(i);
            out.push(self.member_event(room, r, &m, "del-member"));
            if r.members.is_empty() {
                if let Some(path) = r.recording.take() {
                    out.push(self.room_event(room, r, "stop-recording", vec![("Path", path), ("Other-Recordings", "false".into())]));
                }
                out.push(self.room_event(room, r, "conference-destroy", vec![]));
                rooms.remove(room);
            }
        }
        for ev in out {
            self.publish(&ev);
        }
    }

    /// A member starts or stops talking (the energy gate: conference_loop.c:1152, :782),
    /// for tests of the live view. A muted member is never heard talking.
    pub fn conference_talking(&self, uuid: &str, talking: bool) -> bool {
        let ev = {
            let mut rooms = self.inner.conferences.lock().unwrap();
            let Some((name, r)) = rooms.iter_mut().find(|(_, r)| r.members.iter().any(|m| m.uuid == uuid)) else { return false };
            let m = r.members.iter_mut().find(|m| m.uuid == uuid).expect("found");
            if (talking && !m.speak) || m.talking == talking {
                return false;
            }
            m.talking = talking;
            let m = m.clone();
            let name = name.clone();
            self.member_event(&name, r, &m, if talking { "start-talking" } else { "stop-talking" })
        };
        self.publish(&ev);
        true
    }

    /// `conference <room> <command>` (conference_api.c), as the reply text mod_conference
    /// writes: json_list, mute/unmute/deaf/undeaf/kick of a member id, lock/unlock, and
    /// recording start/stop.
    pub(crate) fn conference_api(&self, room: &str, rest: &str) -> String {
        let words: Vec<&str> = rest.split_whitespace().collect();
        let mut events = Vec::new();
        let mut kick = None;
        let reply = {
            let mut rooms = self.inner.conferences.lock().unwrap();
            let Some(r) = rooms.get_mut(room) else {
                // A global command word (`conference json_list`) is tried before giving up
                // (conference_api.c:240–256).
                if room == "json_list" {
                    let all: Vec<serde_json::Value> = rooms.iter().map(|(n, r)| room_json(n, r)).collect();
                    return serde_json::Value::Array(all).to_string();
                }
                return format!("-ERR Conference {room} not found\n");
            };
            match words.as_slice() {
                ["json_list", ..] => serde_json::Value::Array(vec![room_json(room, r)]).to_string(),
                [cmd @ ("mute" | "unmute" | "deaf" | "undeaf" | "kick"), target, ..] => {
                    let Some(id) = target.parse::<u64>().ok().filter(|n| *n > 0) else {
                        return format!("{cmd} <[member_id|all|last|non_moderator]> [<optional sound file>]");
                    };
                    let Some(m) = r.members.iter_mut().find(|m| m.id == id) else { return format!("-ERR Non-Existant ID {id}\n") };
                    // Mute clears talking without a stop-talking (conference_api.c:323).
                    match *cmd {
                        "mute" => {
                            m.speak = false;
                            m.talking = false;
                        }
                        "unmute" => m.speak = true,
                        "deaf" => m.hear = false,
                        "undeaf" => m.hear = true,
                        _ => kick = Some((m.id, m.kicked.clone())),
                    }
                    let m = m.clone();
                    let (action, reply) = match *cmd {
                        "kick" => ("kick-member", format!("+OK kicked {id}\n")),
                        c => (
                            match c {
                                "mute" => "mute-member",
                                "unmute" => "unmute-member",
                                "deaf" => "deaf-member",
                                _ => "undeaf-member",
                            },
                            format!("+OK {c} {id}\n"),
                        ),
                    };
                    events.push(self.member_event(room, r, &m, action));
                    reply
                }
                ["lock"] | ["unlock"] => {
                    r.locked = words[0] == "lock";
                    events.push(self.room_event(room, r, words[0], vec![]));
                    format!("+OK {room} {}ed\n", words[0])
                }
                ["recording", "start", path] => {
                    if r.recording.as_deref() == Some(*path) {
                        format!("-ERR file [{path}] is already being used for recording.\n")
                    } else {
                        r.recording = Some(path.to_string());
                        self.start_recording(path);
                        events.push(self.room_event(room, r, "start-recording", vec![("Path", path.to_string())]));
                        format!("+OK Record file {path}\n")
                    }
                }
                ["recording", "stop", path] => match r.recording.take() {
                    Some(p) if p == *path || *path == "all" => {
                        events.push(self.room_event(room, r, "stop-recording", vec![("Path", p.clone()), ("Other-Recordings", "false".into())]));
                        // The count is taken before the recorder's thread has ended (conference_api.c:3829).
                        format!("Stopped recording file {p}\n+OK Stopped recording 0 files\n")
                    }
                    other => {
                        r.recording = other;
                        format!("-ERR non-existant recording '{path}'\n+OK Stopped recording 0 files\n")
                    }
                },
                [cmd, ..] => format!("-ERR Conference command '{cmd}' not found.\n"),
                [] => "Conference command, not specified.\nTry 'help'\n".into(),
            }
        };
        for ev in events {
            self.publish(&ev);
        }
        // Kicked: the member's app returns (it leaves, del-member), the caller stays up.
        if let Some((_, notify)) = kick {
            notify.notify_one();
        }
        reply
    }

    /// A room-level `conference::maintenance` event (conference_event_add_data,
    /// conference_event.c:741–754).
    fn room_event(&self, name: &str, r: &Room, action: &str, extra: Vec<(&str, String)>) -> SimEvent {
        let mut h = vec![
            ("Conference-Name", name.to_string()),
            ("Conference-Domain", name.rsplit_once('-').map_or(name, |(_, d)| d).to_string()),
            ("Conference-Size", r.members.len().to_string()),
            ("Conference-Ghosts", "0".into()),
            ("Conference-Profile-Name", "default".into()),
            ("Conference-Unique-ID", r.uuid.clone()),
        ];
        h.extend(extra);
        h.push(("Action", action.to_string()));
        self.custom_event("conference::maintenance", ("conference_event.c", "conference_event_add_data", 741), h)
    }

    /// A member's event: the room's headers, the member's channel and flags
    /// (conference_member.c:236–275), then `Action`.
    fn member_event(&self, name: &str, r: &Room, m: &Member, action: &str) -> SimEvent {
        let b = |v: bool| if v { "true" } else { "false" }.to_string();
        self.room_event(
            name,
            r,
            action,
            vec![
                ("Floor", b(r.members.first().is_some_and(|f| f.id == m.id))),
                ("Channel-Name", m.channel_name.clone()),
                ("Unique-ID", m.uuid.clone()),
                ("Caller-Caller-ID-Name", m.caller_name.clone()),
                ("Caller-Caller-ID-Number", m.caller_number.clone()),
                ("Video", "false".into()),
                ("Hear", b(m.hear)),
                ("See", "true".into()),
                ("Speak", b(m.speak)),
                ("Talking", b(m.talking)),
                ("Mute-Detect", "false".into()),
                ("Hold", "false".into()),
                ("Member-ID", m.id.to_string()),
                ("Member-Type", "member".into()),
                ("Member-Ghost", "false".into()),
                ("Energy-Level", "100".into()),
                ("Current-Energy", "0".into()),
            ],
        )
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
