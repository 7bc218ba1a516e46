//! mod_conference, simulated: rooms with their members (newest first), the
//! `conference::maintenance` events each change fires with the headers FreeSWITCH gives them,
//! and the `conference <room> …` API's replies. docs/conference-events.md is the reference,
//! cited from FreeSWITCH 1.10.12.

use std::sync::Arc;

use super::{channel, SimEvent, Switch};

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
pub(super) struct Room {
    uuid: String,
    max: usize,
    recording: Option<String>,
    locked: bool,
    members: Vec<Member>,
}

/// A member as mod_conference keeps it: its id, its channel, and the flags its events and
/// `json_list` report (conference_member_add_event_data, conference_member.c:236–275).
#[derive(Clone)]
pub(super) struct Member {
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

impl Switch {
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
}
