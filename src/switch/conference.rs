//! Conference rooms as mod_conference reports them: each member's talking, mute and deaf
//! state, the room's lock and recording. Moved by `conference::maintenance` events (their
//! headers: conference_member_add_event_data, conference_member.c:236–275; the actions:
//! docs/conference-events.md) and loaded from `conference json_list` when the control
//! connection is made (conference_jlist, mod_conference.c:1363–1466).

use serde::Serialize;
use serde_json::Value;

use super::model::{Change, Model};
use super::tenants::Tenants;
use crate::esl::Event;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LiveConference {
    /// The room's name on the switch (`3000-acme.test`: `pbx::room`).
    pub name: String,
    /// The conference's number in its tenant.
    pub number: String,
    pub tenant_id: Option<i64>,
    pub locked: bool,
    /// The file being recorded, while it is.
    pub recording: Option<String>,
    /// Newest first, as mod_conference lists them.
    pub members: Vec<LiveMember>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LiveMember {
    pub id: u64,
    pub uuid: String,
    pub caller_name: String,
    pub caller_number: String,
    pub talking: bool,
    /// Cannot speak (`Speak: false`).
    pub muted: bool,
    /// Cannot hear (`Hear: false`).
    pub deaf: bool,
    pub moderator: bool,
}

/// A member from an event's headers.
fn member_of(ev: &Event) -> Option<LiveMember> {
    let flag = |h: &str| ev.get(h).as_deref() == Some("true");
    let get = |h: &str| ev.get(h).map(|v| v.into_owned()).unwrap_or_default();
    Some(LiveMember {
        id: ev.get("Member-ID")?.parse().ok()?,
        uuid: get("Unique-ID"),
        caller_name: get("Caller-Caller-ID-Name"),
        caller_number: get("Caller-Caller-ID-Number"),
        talking: flag("Talking"),
        muted: ev.get("Speak").as_deref() == Some("false"),
        deaf: ev.get("Hear").as_deref() == Some("false"),
        moderator: ev.get("Member-Type").as_deref() == Some("moderator"),
    })
}

fn room(name: &str, tenants: &mut dyn Tenants) -> LiveConference {
    let (number, tenant_id) = match crate::pbx::room::parse(name) {
        Some((number, domain)) => (number.to_string(), tenants.by_domain(domain)),
        None => (String::new(), None),
    };
    LiveConference { name: name.to_string(), number, tenant_id, ..Default::default() }
}

impl Model {
    pub fn conference(&self, name: &str) -> Option<&LiveConference> {
        self.conferences.get(name)
    }

    /// One `conference::maintenance` event; the room as it is now (or its end).
    pub(super) fn conference_event(&mut self, ev: &Event, tenants: &mut dyn Tenants) -> Option<Change> {
        let name = ev.get("Conference-Name")?.into_owned();
        let action = ev.get("Action")?.into_owned();
        if action == "conference-destroy" {
            let gone = self.conferences.remove(&name)?;
            return Some(Change::ConferenceGone { name, tenant_id: gone.tenant_id });
        }
        let new = !self.conferences.contains_key(&name);
        let c = self.conferences.entry(name.clone()).or_insert_with(|| room(&name, tenants));
        let before = c.clone();
        match action.as_str() {
            "del-member" => {
                let id: u64 = ev.get("Member-ID")?.parse().ok()?;
                c.members.retain(|m| m.id != id);
            }
            "lock" => c.locked = true,
            "unlock" => c.locked = false,
            "start-recording" => c.recording = ev.get("Path").map(|p| p.into_owned()),
            "stop-recording" => c.recording = None,
            // Every other member event says the member's whole state: add-member,
            // start/stop-talking, mute/unmute, deaf/undeaf, kick (its del-member follows).
            _ => {
                if let Some(m) = member_of(ev) {
                    match c.members.iter_mut().find(|x| x.id == m.id) {
                        Some(x) => *x = m,
                        None => c.members.insert(0, m),
                    }
                }
            }
        }
        (new || *c != before).then(|| Change::Conference { conference: c.clone() })
    }

    /// The rooms of `conference json_list` (an array of rooms; empty when there are none).
    pub fn load_conferences(&mut self, json: &str, tenants: &mut dyn Tenants) {
        self.conferences.clear();
        let Ok(Value::Array(rooms)) = serde_json::from_str::<Value>(json.trim()) else {
            if !json.trim().is_empty() {
                tracing::warn!(reply = %json.trim(), "conference json_list: not a list of rooms");
            }
            return;
        };
        for r in rooms {
            let Some(name) = r["conference_name"].as_str() else { continue };
            let mut c = room(name, tenants);
            c.locked = r["locked"].as_bool().unwrap_or(false);
            let members = r["members"].as_array().cloned().unwrap_or_default();
            for m in &members {
                match m["type"].as_str() {
                    Some("caller") => {
                        let f = &m["flags"];
                        c.members.push(LiveMember {
                            id: m["id"].as_u64().unwrap_or(0),
                            uuid: m["uuid"].as_str().unwrap_or("").into(),
                            caller_name: m["caller_id_name"].as_str().unwrap_or("").into(),
                            caller_number: m["caller_id_number"].as_str().unwrap_or("").into(),
                            talking: f["talking"].as_bool().unwrap_or(false),
                            muted: !f["can_speak"].as_bool().unwrap_or(true),
                            deaf: !f["can_hear"].as_bool().unwrap_or(true),
                            moderator: f["is_moderator"].as_bool().unwrap_or(false),
                        });
                    }
                    Some("recording_node") => c.recording = m["record_path"].as_str().map(str::to_string),
                    _ => {}
                }
            }
            self.conferences.insert(name.to_string(), c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::esl::Headers;

    struct OneTenant;
    impl Tenants for OneTenant {
        fn by_domain(&mut self, domain: &str) -> Option<i64> {
            (domain == "acme.test").then_some(7)
        }
        fn by_did(&mut self, _: &str) -> Option<i64> {
            None
        }
    }

    fn ev(action: &str, member: Option<(u64, &str, &str)>) -> Event {
        let mut h: Vec<(&str, String)> = vec![
            ("Event-Name", "CUSTOM".into()),
            ("Event-Subclass", "conference::maintenance".into()),
            ("Conference-Name", "3000-acme.test".into()),
            ("Conference-Size", "1".into()),
        ];
        if let Some((id, speak, talking)) = member {
            h.extend([
                ("Unique-ID", format!("uuid-{id}")),
                ("Caller-Caller-ID-Name", "Ann".into()),
                ("Caller-Caller-ID-Number", "1001".into()),
                ("Hear", "true".into()),
                ("Speak", speak.into()),
                ("Talking", talking.into()),
                ("Member-ID", id.to_string()),
                ("Member-Type", "member".into()),
            ]);
        }
        h.push(("Action", action.into()));
        Event { headers: Headers::from_pairs(h.iter().map(|(k, v)| (*k, v.as_str())), false), body: None }
    }

    #[test]
    fn members_join_talk_are_muted_and_leave_and_the_room_goes() {
        let mut m = Model::default();
        let t = &mut OneTenant;
        assert!(m.conference_event(&ev("conference-create", None), t).is_some());
        m.conference_event(&ev("add-member", Some((4, "true", "false"))), t);
        m.conference_event(&ev("add-member", Some((5, "true", "false"))), t);
        let c = m.conference("3000-acme.test").unwrap();
        assert_eq!((c.number.as_str(), c.tenant_id), ("3000", Some(7)));
        assert_eq!(c.members.iter().map(|x| x.id).collect::<Vec<_>>(), vec![5, 4], "newest first");
        m.conference_event(&ev("start-talking", Some((4, "true", "true"))), t);
        assert!(m.conference("3000-acme.test").unwrap().members[1].talking);
        // Mute clears talking without a stop-talking (conference_api.c:323).
        m.conference_event(&ev("mute-member", Some((4, "false", "false"))), t);
        let x = &m.conference("3000-acme.test").unwrap().members[1];
        assert!(x.muted && !x.talking);
        assert!(m.conference_event(&ev("mute-member", Some((4, "false", "false"))), t).is_none(), "a repeated mute changes nothing");
        m.conference_event(&ev("lock", None), t);
        assert!(m.conference("3000-acme.test").unwrap().locked);
        m.conference_event(&ev("del-member", Some((4, "false", "false"))), t);
        assert_eq!(m.conference("3000-acme.test").unwrap().members.len(), 1);
        assert!(matches!(m.conference_event(&ev("conference-destroy", None), t), Some(Change::ConferenceGone { tenant_id: Some(7), .. })));
        assert!(m.conference("3000-acme.test").is_none());
    }

    #[test]
    fn the_rooms_load_from_json_list() {
        let mut m = Model::default();
        let json = r#"[{"conference_name":"3000-acme.test","member_count":1,"locked":true,"members":[
            {"type":"caller","id":9,"uuid":"u9","caller_id_name":"Bo","caller_id_number":"1002",
             "flags":{"can_hear":false,"can_speak":false,"talking":false,"is_moderator":true}},
            {"type":"recording_node","record_path":"/rec/3000.wav","join_time":1765000000}]}]"#;
        m.load_conferences(json, &mut OneTenant);
        let c = m.conference("3000-acme.test").unwrap();
        assert!(c.locked);
        assert_eq!(c.recording.as_deref(), Some("/rec/3000.wav"));
        assert_eq!(
            c.members[0],
            LiveMember {
                id: 9,
                uuid: "u9".into(),
                caller_name: "Bo".into(),
                caller_number: "1002".into(),
                talking: false,
                muted: true,
                deaf: true,
                moderator: true
            }
        );
        m.load_conferences("-ERR conference Command not found!\n", &mut OneTenant);
        assert!(m.conference("3000-acme.test").is_none(), "no mod_conference: no rooms");
    }
}
