//! A simulated sofia channel: caller profile, state, variables, and the events it fires,
//! shaped like the captures in tests/data/esl (corpus 01, 05, 09).

use std::sync::Arc;

use super::event::{Block, Identity, SimEvent};
use super::scenario::Scenario;

/// Event types that carry every `variable_*` (switch_channel.c:2767–2800).
fn carries_variables(name: &str) -> bool {
    matches!(
        name,
        "CHANNEL_CREATE"
            | "CHANNEL_ANSWER"
            | "CHANNEL_PARK"
            | "CHANNEL_UNPARK"
            | "CHANNEL_BRIDGE"
            | "CHANNEL_UNBRIDGE"
            | "CHANNEL_PROGRESS"
            | "CHANNEL_PROGRESS_MEDIA"
            | "CHANNEL_HANGUP"
            | "CHANNEL_HANGUP_COMPLETE"
            | "CHANNEL_DATA"
            | "CHANNEL_EXECUTE"
            | "CHANNEL_EXECUTE_COMPLETE"
            | "CHANNEL_DESTROY"
            | "CUSTOM"
    )
}

#[derive(Debug, Clone)]
pub struct Channel {
    pub uuid: String,
    pub name: String,
    pub direction: String,
    pub cid_name: String,
    pub cid_number: String,
    pub destination: String,
    pub context: String,
    pub network_addr: String,
    pub state: &'static str,
    pub state_number: u32,
    pub call_state: &'static str,
    pub answer_state: &'static str,
    pub hangup_cause: Option<String>,
    pub created_us: u64,
    pub answered_us: u64,
    pub progress_us: u64,
    pub progress_media_us: u64,
    pub hangup_us: u64,
    pub bridged_us: u64,
    pub other_leg: Option<Arc<Block>>,
    /// `variable_<name>` pairs the channel was created with and that were not set since:
    /// one shared block, encoded once for all the call's events.
    vars_created: Arc<Block>,
    /// Those set since, in the order they were last set, and their block when encoded.
    /// FreeSWITCH keeps a channel's variables in a CHANNEL_DATA event, which has
    /// EF_UNIQ_HEADERS (switch_event.h:393); setting one deletes it and appends it at the
    /// bottom (switch_channel.c:1507, switch_event.c:1096), so a variable set again moves to
    /// the end of every later event. Each application sets three (`current_application`...).
    vars_set: Vec<(String, String)>,
    vars_set_block: Option<Arc<Block>>,
    profile: Option<Arc<Block>>,
}

/// The user part of a simulated phone's registered contact: what a leg to the phone has as
/// its destination, and what an originated call to it shows as its caller. baresip
/// registers as `<user>-0x<address>`; desk phones often as the bare user.
pub fn contact_user(user: &str) -> String {
    format!("{user}-0x55d0c0ffee00")
}

impl Channel {
    /// The A-leg of a call that entered the dialplan from `scenario`.
    pub fn inbound(id: &Identity, scenario: &Scenario) -> Channel {
        // An originated leg is the UUID its originate asked for (origination_uuid,
        // switch_ivr_originate.c: switch_core_session_set_uuid), else a new one.
        let uuid = scenario.variables.get("origination_uuid").cloned().unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let user = &scenario.caller_id_number;
        let host = &scenario.domain;
        let name = format!("sofia/{}/{user}@{host}", scenario.profile);
        let now = id.now_micros();
        let mut vars: Vec<(String, String)> = vec![
            ("direction", "inbound".to_string()),
            ("uuid", uuid.clone()),
            ("session_id", "1".into()),
            ("sip_from_user", user.clone()),
            ("sip_from_uri", format!("{user}@{host}")),
            ("sip_from_host", host.clone()),
            ("channel_name", name.clone()),
            ("sip_call_id", format!("{}@{}", &uuid[..8], scenario.network_addr)),
            ("sip_local_network_addr", id.ipv4.clone()),
            ("sip_network_ip", scenario.network_addr.clone()),
            ("sip_network_port", "5060".into()),
            ("sip_received_ip", scenario.network_addr.clone()),
            ("sip_received_port", "5060".into()),
            ("sip_via_protocol", "udp".into()),
            ("sip_from_user_stripped", user.clone()),
            ("sip_from_tag", uuid[24..].to_string()),
            ("sofia_profile_name", scenario.profile.clone()),
            ("recovery_profile_name", scenario.profile.clone()),
            ("sip_full_via", format!("SIP/2.0/UDP {}:5060;branch=z9hG4bK-{};rport=5060", scenario.network_addr, &uuid[..8])),
            ("sip_from_display", scenario.caller_id_name.clone()),
            ("sip_full_from", format!("\"{}\" <sip:{user}@{host}>;tag={}", scenario.caller_id_name, &uuid[24..])),
            ("sip_full_to", format!("<sip:{}@{host}>", scenario.destination)),
            ("sip_req_user", scenario.destination.clone()),
            ("sip_req_uri", format!("{}@{host}", scenario.destination)),
            ("sip_req_host", host.clone()),
            ("sip_to_user", scenario.destination.clone()),
            ("sip_to_uri", format!("{}@{host}", scenario.destination)),
            ("sip_to_host", host.clone()),
            ("sip_contact_user", user.clone()),
            ("sip_contact_port", "5060".into()),
            ("sip_contact_uri", format!("{user}@{}:5060", scenario.network_addr)),
            ("sip_contact_host", scenario.network_addr.clone()),
            ("rtp_use_codec_string", "OPUS,G722,PCMU,PCMA".into()),
            ("sip_user_agent", "switchboard-sim/1.0".into()),
            ("sip_via_host", scenario.network_addr.clone()),
            ("sip_via_port", "5060".into()),
            ("sip_via_rport", "5060".into()),
            ("max_forwards", "70".into()),
            ("presence_id", format!("{user}@{host}")),
            (
                "switch_r_sdp",
                format!(
                    "v=0\r\no=- 1 1 IN IP4 {a}\r\ns=sim\r\nc=IN IP4 {a}\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n",
                    a = scenario.network_addr
                ),
            ),
            ("ep_codec_string", "PCMU@8000h@20i@64000b,PCMA@8000h@20i@64000b".into()),
            ("endpoint_disposition", "DELAYED NEGOTIATION".into()),
            ("call_uuid", uuid.clone()),
            // The wired dialplan's actions before the socket (dialplan/switchboard.xml).
            ("socket_resume", "false".into()),
            ("hangup_after_bridge", "true".into()),
            ("current_application_data", super::call::socket_data(scenario)),
            ("current_application", "socket".into()),
            ("socket_host", "127.0.0.1".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        if scenario.profile == "internal" {
            for (k, v) in [
                ("sip_authorized", "true".to_string()),
                ("sip_number_alias", user.clone()),
                ("sip_auth_username", user.clone()),
                ("sip_auth_realm", host.clone()),
                ("number_alias", user.clone()),
                ("user_name", user.clone()),
                ("domain_name", host.clone()),
                ("user_context", scenario.context.clone()),
                ("effective_caller_id_name", scenario.caller_id_name.clone()),
                ("effective_caller_id_number", user.clone()),
            ] {
                vars.push((k.into(), v));
            }
        }
        // A scenario's variable replaces the usual one of that name (an originated leg's
        // directory variables are not an authenticated phone's).
        for (k, v) in &scenario.variables {
            match vars.iter_mut().find(|(name, _)| name == k) {
                Some(slot) => slot.1 = v.clone(),
                None => vars.push((k.clone(), v.clone())),
            }
        }
        let vars = vars.into_iter().map(|(k, v)| (format!("variable_{k}"), v)).collect();
        Channel {
            uuid,
            name,
            direction: "inbound".into(),
            cid_name: scenario.caller_id_name.clone(),
            cid_number: scenario.caller_id_number.clone(),
            destination: scenario.destination.clone(),
            context: scenario.context.clone(),
            network_addr: scenario.network_addr.clone(),
            state: "CS_EXECUTE",
            state_number: 4,
            call_state: "RINGING",
            ..Channel::blank(now, vars)
        }
    }

    /// The fields every new channel starts with: no times but creation, not bridged,
    /// nothing cached.
    fn blank(created_us: u64, vars: Vec<(String, String)>) -> Channel {
        Channel {
            uuid: String::new(),
            name: String::new(),
            direction: String::new(),
            cid_name: String::new(),
            cid_number: String::new(),
            destination: String::new(),
            context: String::new(),
            network_addr: String::new(),
            state: "CS_NEW",
            state_number: 0,
            call_state: "DOWN",
            answer_state: "ringing",
            hangup_cause: None,
            created_us,
            answered_us: 0,
            progress_us: 0,
            progress_media_us: 0,
            hangup_us: 0,
            bridged_us: 0,
            other_leg: None,
            vars_created: Block::new(vars),
            vars_set: Vec::new(),
            vars_set_block: None,
            profile: None,
        }
    }

    /// An outgoing B-leg created by bridge or originate. A `user/<n>@<domain>` leg is the
    /// registered phone's: mod_dptools puts `dialed_user` and `dialed_domain` on it
    /// (user_outgoing_channel) and sofia dials the registration's contact, whose user part
    /// becomes the leg's destination number (seen on a real 1.10.12: `1002-0x5632…` for a
    /// baresip phone; see [`contact_user`]).
    pub fn outbound(id: &Identity, endpoint: &str, cid_name: &str, cid_number: &str, destination: &str) -> Channel {
        let uuid = uuid::Uuid::new_v4().to_string();
        let name = endpoint.replacen("user/", "sofia/internal/", 1);
        let mut vars = vec![
            ("variable_direction".to_string(), "outbound".to_string()),
            ("variable_uuid".into(), uuid.clone()),
            ("variable_channel_name".into(), name.clone()),
            ("variable_call_uuid".into(), uuid.clone()),
        ];
        let mut destination = destination.to_string();
        if let Some((user, domain)) = endpoint.strip_prefix("user/").and_then(|u| u.split_once('@')) {
            vars.push(("variable_dialed_user".into(), user.to_string()));
            vars.push(("variable_dialed_domain".into(), domain.to_string()));
            destination = contact_user(user);
        }
        Channel {
            uuid,
            name,
            direction: "outbound".into(),
            cid_name: cid_name.into(),
            cid_number: cid_number.into(),
            destination,
            context: "default".into(),
            network_addr: "127.0.0.1".into(),
            state: "CS_CONSUME_MEDIA",
            state_number: 7,
            call_state: "DOWN",
            ..Channel::blank(id.now_micros(), vars)
        }
    }

    /// Every channel variable, names without the `variable_` prefix, in the switch's order.
    pub fn variables(&self) -> Vec<(String, String)> {
        self.vars().filter_map(|(k, v)| k.strip_prefix("variable_").map(|n| (n.to_string(), v.clone()))).collect()
    }

    fn vars(&self) -> impl DoubleEndedIterator<Item = &(String, String)> {
        self.vars_created.pairs.iter().chain(&self.vars_set)
    }

    pub fn var(&self, name: &str) -> Option<&str> {
        let key = format!("variable_{name}");
        self.vars().rev().find(|(k, _)| *k == key).map(|(_, v)| v.as_str())
    }

    /// `switch_channel_set_variable`: deletes the variable, then appends it unless the value
    /// is empty (switch_channel.c:1489–1507).
    pub fn set_var(&mut self, name: &str, value: &str) {
        let key = format!("variable_{name}");
        self.remove_var(&key);
        if !value.is_empty() {
            self.vars_set.push((key, value.to_string()));
        }
    }

    pub fn unset_var(&mut self, name: &str) {
        self.remove_var(&format!("variable_{name}"));
    }

    fn remove_var(&mut self, key: &str) {
        self.vars_set_block = None;
        if let Some(i) = self.vars_set.iter().position(|(k, _)| k == key) {
            self.vars_set.remove(i);
        } else if self.vars_created.pairs.iter().any(|(k, _)| k == key) {
            // Rare (a call's first set of a variable it was created with): re-encode once.
            self.vars_created = Block::new(self.vars_created.pairs.iter().filter(|(k, _)| k != key).cloned().collect());
        }
    }

    /// The variables as event blocks: those the channel was created with, then those set.
    fn vars_blocks(&mut self) -> [Arc<Block>; 2] {
        let set = self.vars_set_block.get_or_insert_with(|| Block::new(self.vars_set.clone())).clone();
        [self.vars_created.clone(), set]
    }

    pub fn is_up(&self) -> bool {
        self.hangup_cause.is_none()
    }

    pub fn is_answered(&self) -> bool {
        self.answered_us != 0
    }

    /// Media set up (answer or early media): the session's codecs are set, and with them
    /// the channel's `read_codec`/`write_codec` and rates (switch_core_codec.c:290, :462).
    /// The simulated media is always G.711 µ-law.
    fn media_up(&mut self) {
        if self.var("read_codec").is_none() {
            for (k, v) in [("read_codec", "PCMU"), ("read_rate", "8000"), ("write_codec", "PCMU"), ("write_rate", "8000")] {
                self.set_var(k, v);
            }
        }
    }

    pub fn mark_answered(&mut self, now: u64) {
        self.media_up();
        self.answered_us = now;
        self.call_state = "ACTIVE";
        self.answer_state = "answered";
        self.profile = None;
    }

    pub fn mark_progress_media(&mut self, now: u64) {
        self.media_up();
        self.progress_media_us = now;
        self.call_state = "EARLY";
        self.answer_state = "early";
        self.profile = None;
    }

    pub fn mark_hangup(&mut self, now: u64, cause: &str) {
        self.hangup_us = now;
        self.hangup_cause = Some(cause.to_string());
        self.call_state = "HANGUP";
        self.answer_state = "hangup";
        self.state = "CS_HANGUP";
        self.state_number = 10;
        self.profile = None;
        self.set_var("hangup_cause", cause);
    }

    /// A leg being originated carries its originator's profile as `Other-Leg-*` from the
    /// start (switch_channel_event_set_basic_data, `Other-Type: originator`).
    pub fn set_originator(&mut self, a: &Channel) {
        self.other_leg = Some(a.profile_block("Other-Leg"));
    }

    pub fn set_bridged(&mut self, other: Option<&Channel>, now: u64) {
        self.other_leg = other.map(|o| o.profile_block("Other-Leg"));
        if other.is_some() {
            self.bridged_us = now;
        }
        self.profile = None;
    }

    /// A caller profile with a prefix (`Caller`, `Channel` in the connect reply, `Other-Leg`).
    fn profile_pairs(&self, prefix: &str) -> Vec<(String, String)> {
        let t = |v: u64| v.to_string();
        [
            ("Direction", self.direction.clone()),
            ("Username", self.cid_number.clone()),
            ("Dialplan", "XML".into()),
            ("Caller-ID-Name", self.cid_name.clone()),
            ("Caller-ID-Number", self.cid_number.clone()),
            ("Orig-Caller-ID-Name", self.cid_name.clone()),
            ("Orig-Caller-ID-Number", self.cid_number.clone()),
            ("Network-Addr", self.network_addr.clone()),
            ("ANI", self.cid_number.clone()),
            ("Destination-Number", self.destination.clone()),
            ("Unique-ID", self.uuid.clone()),
            ("Source", "mod_sofia".into()),
            ("Context", self.context.clone()),
            ("Channel-Name", self.name.clone()),
            ("Profile-Index", "1".into()),
            ("Profile-Created-Time", t(self.created_us)),
            ("Channel-Created-Time", t(self.created_us)),
            ("Channel-Answered-Time", t(self.answered_us)),
            ("Channel-Progress-Time", t(self.progress_us)),
            ("Channel-Progress-Media-Time", t(self.progress_media_us)),
            ("Channel-Hangup-Time", t(self.hangup_us)),
            ("Channel-Transfer-Time", "0".into()),
            ("Channel-Resurrect-Time", "0".into()),
            ("Channel-Bridged-Time", t(self.bridged_us)),
            ("Channel-Last-Hold", "0".into()),
            ("Channel-Hold-Accum", "0".into()),
            ("Screen-Bit", "true".into()),
            ("Privacy-Hide-Name", "false".into()),
            ("Privacy-Hide-Number", "false".into()),
        ]
        .into_iter()
        .map(|(k, v)| (format!("{prefix}-{k}"), v))
        .collect()
    }

    pub fn profile_block(&self, prefix: &str) -> Arc<Block> {
        Block::new(self.profile_pairs(prefix))
    }

    fn caller_block(&mut self) -> Arc<Block> {
        if self.profile.is_none() {
            self.profile = Some(self.profile_block("Caller"));
        }
        self.profile.clone().expect("profile")
    }

    /// switch_channel_event_set_basic_data.
    fn basic(&self) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = vec![
            ("Channel-State".into(), self.state.into()),
            ("Channel-Call-State".into(), self.call_state.into()),
            ("Channel-State-Number".into(), self.state_number.to_string()),
            ("Channel-Name".into(), self.name.clone()),
            ("Unique-ID".into(), self.uuid.clone()),
            ("Call-Direction".into(), self.direction.clone()),
            ("Presence-Call-Direction".into(), self.direction.clone()),
            ("Channel-HIT-Dialplan".into(), if self.direction == "inbound" { "true" } else { "false" }.into()),
            ("Channel-Presence-ID".into(), format!("{}@{}", self.cid_number, self.name.rsplit('@').next().unwrap_or_default())),
            ("Channel-Call-UUID".into(), self.uuid.clone()),
            ("Answer-State".into(), self.answer_state.into()),
        ];
        if let Some(c) = &self.hangup_cause {
            v.push(("Hangup-Cause".into(), c.clone()));
        }
        if self.is_answered() || self.progress_media_us != 0 {
            for (k, val) in [
                ("Channel-Read-Codec-Name", "PCMU"),
                ("Channel-Read-Codec-Rate", "8000"),
                ("Channel-Read-Codec-Bit-Rate", "64000"),
                ("Channel-Write-Codec-Name", "PCMU"),
                ("Channel-Write-Codec-Rate", "8000"),
                ("Channel-Write-Codec-Bit-Rate", "64000"),
            ] {
                v.push((k.into(), val.into()));
            }
        }
        v
    }

    /// An event of this channel. `pre` goes before the channel data, `post` after the
    /// variables.
    pub fn event(
        &mut self,
        id: &Identity,
        name: &str,
        origin: (&str, &str, u32),
        pre: Vec<(String, String)>,
        post: Vec<(String, String)>,
    ) -> SimEvent {
        let mut head = id.core_headers(name, origin.0, origin.1, origin.2);
        head.extend(pre);
        head.extend(self.basic());
        let mut blocks = vec![self.caller_block()];
        if let Some(o) = &self.other_leg {
            blocks.push(o.clone());
        }
        if carries_variables(name) {
            blocks.extend(self.vars_blocks());
        }
        SimEvent { name: name.into(), head, blocks, tail: post, body: None }
    }

    /// The connect reply: CHANNEL_DATA with the profile under `Channel-`, then the basic data,
    /// `Caller-`, variables, and the reply headers last (mod_event_socket.c:2025–2046).
    pub fn connect_reply(&mut self, id: &Identity, async_mode: bool, full: bool) -> SimEvent {
        let mut ev = self.event(id, "CHANNEL_DATA", ("mod_event_socket.c", "parse_command", 1875), Vec::new(), Vec::new());
        let channel_profile = self.profile_block("Channel");
        let mut head = ev.head[..13].to_vec();
        head.extend(channel_profile.pairs.iter().cloned());
        head.extend(ev.head[13..].iter().cloned());
        ev.head = head;
        ev.tail = vec![
            ("Content-Type".into(), "command/reply".into()),
            ("Reply-Text".into(), "+OK\n".into()),
            ("Socket-Mode".into(), if async_mode { "async" } else { "static" }.into()),
            ("Control".into(), if full { "full" } else { "single-channel" }.into()),
        ];
        ev
    }
}

#[cfg(test)]
mod tests {
    use super::Channel;
    use crate::esl::command::EventFormat;
    use crate::sim::event::Identity;
    use crate::sim::scenario::Scenario;

    fn names(ch: &Channel) -> Vec<String> {
        ch.variables().into_iter().map(|(n, _)| n).collect()
    }

    #[test]
    fn a_variable_set_again_moves_to_the_end_as_in_freeswitch() {
        let id = Identity::new("sim");
        let mut ch = Channel::inbound(&id, &Scenario::default());
        let created = names(&ch);
        assert_eq!(created[0], "direction");
        ch.set_var("a", "1");
        ch.set_var("b", "2");
        ch.set_var("a", "3");
        ch.set_var("direction", "inbound");
        let now = names(&ch);
        assert_eq!(now[now.len() - 3..], ["b", "a", "direction"]);
        assert_eq!(now.len(), created.len() + 2, "no variable twice");
        assert_eq!(ch.var("a"), Some("3"));
        // An empty value deletes, as switch_channel_set_variable does.
        ch.set_var("b", "");
        assert_eq!(ch.var("b"), None);

        // The event carries them in that order, once each.
        let ev = ch.event(&id, "CHANNEL_EXECUTE_COMPLETE", ("f", "g", 1), Vec::new(), Vec::new());
        let mut wire = bytes::BytesMut::new();
        ev.frame(EventFormat::Plain, &mut wire);
        let text = String::from_utf8_lossy(&wire).into_owned();
        let at = |h: &str| text.find(h).unwrap_or_else(|| panic!("{h} in the event"));
        assert!(at("variable_uuid: ") < at("variable_a: 3") && at("variable_a: 3") < at("variable_direction: inbound"));
        assert_eq!(text.matches("variable_direction: ").count(), 1);
        assert!(!text.contains("variable_b: "));
    }
}
