//! The model: channels, SIP registrations and gateway states as FreeSWITCH's events on the
//! control connection report them, rebuilt from the switch's own lists ([`super::show`])
//! whenever that connection is (re)made.
//!
//! Events carry the channel's whole basic data (switch_channel_event_set_basic_data), so
//! every channel event upserts the channel: a missed CHANNEL_CREATE costs nothing. A channel
//! leaves on CHANNEL_HANGUP_COMPLETE or CHANNEL_DESTROY (CHANNEL_HANGUP marks it hanging up:
//! hangup events can arrive in either order relative to the bridge's UNBRIDGE).
//!
//! Each kind of thing the switch holds is a map of [`Model`] with the events that move it
//! (one arm of [`Model::apply`]), a `load_*` from its list, and the [`Change`]s it publishes;
//! conference members (`conference::maintenance`) and queue agents' states (derived from
//! their channels and registrations) join the same way.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::show::{ChannelRow, GatewayRow};
use super::tenants::Tenants;
use crate::esl::Event;
use crate::pbx::channel::{profile_of_name, Facts};

/// A channel as the monitor shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LiveChannel {
    pub uuid: String,
    /// `inbound` (a phone or trunk called the switch) or `outbound` (a leg the switch rang).
    pub direction: String,
    pub name: String,
    pub caller_name: String,
    pub caller_number: String,
    pub destination: String,
    pub context: String,
    /// FreeSWITCH's call state: DOWN, RINGING, EARLY, ACTIVE, HELD, HANGUP.
    pub call_state: String,
    pub held: bool,
    pub codec: String,
    /// Unix seconds.
    pub created_epoch: i64,
    pub answered_epoch: Option<i64>,
    /// The channel it is bridged to, or the one that originated it.
    pub other_leg: Option<String>,
    pub tenant_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LiveRegistration {
    pub user: String,
    pub realm: String,
    pub contact: String,
    pub network_ip: String,
    pub network_port: String,
    pub user_agent: String,
    pub expires: String,
    pub tenant_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LiveGateway {
    pub name: String,
    /// sofia_state_names (mod_sofia.c:2783): UNREGED, TRYING, REGISTER, REGED, UNREGISTER,
    /// FAILED, FAIL_WAIT, EXPIRED, NOREG, DOWN, TIMEOUT.
    pub state: String,
    /// Whether sofia will send calls to it: `UP` or `DOWN` (status_names, mod_sofia.c:2889).
    /// A gateway that does not register is NOREG whatever becomes of it; its OPTIONS pings
    /// (and a registration's failures) move this instead (sofia_reg.c).
    pub status: String,
    /// The trunk the gateway was built from (`trunk<id>`, as the configuration endpoint
    /// names them).
    pub trunk_id: Option<i64>,
}

/// What changed, for the live feed. Each change says whose it is, so a subscriber sees only
/// its tenant's.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Change {
    Channel {
        channel: LiveChannel,
    },
    ChannelGone {
        uuid: String,
        tenant_id: Option<i64>,
        cause: String,
    },
    Registration {
        registration: LiveRegistration,
    },
    Unregistration {
        user: String,
        realm: String,
        tenant_id: Option<i64>,
    },
    Gateway {
        gateway: LiveGateway,
    },
    /// The model was rebuilt (a new control connection): fetch the lists again.
    Reloaded,
    Switch {
        state: crate::esl::inbound::SwitchState,
    },
    /// A click-to-call leg's result (the originate's reply).
    ClickToCall {
        tenant_id: Option<i64>,
        extension: String,
        number: String,
        result: String,
    },
    /// A conference room as it is now (a member joined, talks, was muted, left; the room
    /// was locked or is recording).
    Conference {
        conference: super::conference::LiveConference,
    },
    /// The room's last member left.
    ConferenceGone {
        name: String,
        tenant_id: Option<i64>,
    },
    /// A call queue changed an agent's status by itself (put on break for offers not
    /// answered), for the tenant's admins.
    QueueAgent {
        tenant_id: Option<i64>,
        user_id: i64,
        queue_id: i64,
        status: String,
        reason: String,
    },
}

impl Change {
    /// The tenant a change belongs to; None for the switch's own (gateways, state).
    pub fn tenant(&self) -> Option<i64> {
        match self {
            Change::Channel { channel } => channel.tenant_id,
            Change::ChannelGone { tenant_id, .. }
            | Change::Unregistration { tenant_id, .. }
            | Change::ClickToCall { tenant_id, .. }
            | Change::QueueAgent { tenant_id, .. }
            | Change::ConferenceGone { tenant_id, .. } => *tenant_id,
            Change::Conference { conference } => conference.tenant_id,
            Change::Registration { registration } => registration.tenant_id,
            Change::Gateway { .. } | Change::Reloaded | Change::Switch { .. } => None,
        }
    }
}

/// What the switch holds now, as far as its events and lists have told.
#[derive(Default)]
pub struct Model {
    /// Changed only through [`Model::put_channel`] and [`Model::take_channel`], which keep
    /// the phone index in step.
    pub(super) channels: HashMap<String, LiveChannel>,
    /// (realm, user) → the registration; changed only through [`Model::register`] and
    /// [`Model::unregister`].
    pub(super) registrations: BTreeMap<(String, String), LiveRegistration>,
    pub gateways: BTreeMap<String, LiveGateway>,
    /// Conference rooms by their name on the switch (`super::conference`).
    pub(super) conferences: BTreeMap<String, super::conference::LiveConference>,
    /// (tenant, phone) → the live channels the phone is a party of: the queue engine asks
    /// for every agent it may offer, and a scan of every channel per question is what
    /// 10,000 live calls would make of it.
    phones: HashMap<(i64, String), u32>,
    /// (tenant, user) → that user's registrations.
    registered: HashMap<(i64, String), u32>,
}

/// The phone a channel is a call of: the caller of a call the phone made, the destination
/// of a leg the switch rang to it.
fn phone_of(c: &LiveChannel) -> Option<(i64, String)> {
    let phone = match c.direction.as_str() {
        "inbound" => &c.caller_number,
        "outbound" => &c.destination,
        _ => return None,
    };
    Some((c.tenant_id?, phone.clone()))
}

fn count(index: &mut HashMap<(i64, String), u32>, key: Option<(i64, String)>, up: bool) {
    let Some(key) = key else { return };
    if up {
        *index.entry(key).or_default() += 1;
    } else if let std::collections::hash_map::Entry::Occupied(mut e) = index.entry(key) {
        *e.get_mut() -= 1;
        if *e.get() == 0 {
            e.remove();
        }
    }
}

impl Model {
    pub fn channel(&self, uuid: &str) -> Option<&LiveChannel> {
        self.channels.get(uuid)
    }

    /// Whether a phone of `tenant` is a party of a live channel.
    pub fn phone_on_a_call(&self, tenant: i64, phone: &str) -> bool {
        self.phones.contains_key(&(tenant, phone.to_string()))
    }

    /// Whether a phone of `tenant` is registered as `user`.
    pub fn phone_registered(&self, tenant: i64, user: &str) -> bool {
        self.registered.contains_key(&(tenant, user.to_string()))
    }

    fn put_channel(&mut self, ch: LiveChannel) {
        count(&mut self.phones, phone_of(&ch), true);
        if let Some(old) = self.channels.insert(ch.uuid.clone(), ch) {
            count(&mut self.phones, phone_of(&old), false);
        }
    }

    fn take_channel(&mut self, uuid: &str) -> Option<LiveChannel> {
        let gone = self.channels.remove(uuid)?;
        count(&mut self.phones, phone_of(&gone), false);
        Some(gone)
    }

    fn unregister(&mut self, realm: String, user: String) -> Option<LiveRegistration> {
        let gone = self.registrations.remove(&(realm, user))?;
        count(&mut self.registered, gone.tenant_id.map(|t| (t, gone.user.clone())), false);
        Some(gone)
    }
    /// The tenant of a channel: a leg the switch rang belongs to the call that rang it;
    /// any other is whose its entry says ([`Facts::entry`], the rule routing follows).
    pub fn tenant_of(&self, facts: &Facts<'_>, other_leg: Option<&str>, tenants: &mut dyn Tenants) -> Option<i64> {
        if let Some(t) = other_leg.and_then(|o| self.channels.get(o)).and_then(|c| c.tenant_id) {
            return Some(t);
        }
        tenants.of(facts)
    }

    /// Applies one event; the change to publish, if any.
    pub fn apply(&mut self, ev: &Event, tenants: &mut dyn Tenants) -> Option<Change> {
        let name = ev.name()?;
        match &*name {
            n if n.starts_with("CHANNEL_") => self.channel_event(n, ev, tenants),
            "CUSTOM" if ev.get("Event-Subclass").as_deref() == Some("conference::maintenance") => self.conference_event(ev, tenants),
            "CUSTOM" => self.sofia_event(&ev.get("Event-Subclass")?, ev, tenants),
            _ => None,
        }
    }

    fn channel_event(&mut self, n: &str, ev: &Event, tenants: &mut dyn Tenants) -> Option<Change> {
        let get = |h: &str| ev.get(h).map(|v| v.into_owned()).unwrap_or_default();
        let uuid = ev.unique_id()?.into_owned();
        if matches!(n, "CHANNEL_HANGUP_COMPLETE" | "CHANNEL_DESTROY") {
            let gone = self.take_channel(&uuid)?;
            return Some(Change::ChannelGone { uuid, tenant_id: gone.tenant_id, cause: get("Hangup-Cause") });
        }
        let other = ev.get("Other-Leg-Unique-ID").map(|v| v.into_owned());
        let previous = self.channels.get(&uuid).cloned();
        let (name, context, destination) = (get("Channel-Name"), get("Caller-Context"), get("Caller-Destination-Number"));
        let tenant_id = match previous.as_ref().and_then(|p| p.tenant_id) {
            Some(t) => Some(t),
            None => {
                let profile = ev.variable("sofia_profile_name").map(|v| v.into_owned());
                let domain = ev.variable("domain_name").or_else(|| ev.variable("sip_from_host")).map(|v| v.into_owned());
                let profile = profile.as_deref().unwrap_or_else(|| profile_of_name(&name));
                let facts = Facts { context: &context, profile, destination: &destination, domain: domain.as_deref() };
                self.tenant_of(&facts, other.as_deref(), tenants)
            }
        };
        let epoch = |h: &str| get(h).parse::<i64>().ok().filter(|v| *v > 0).map(|us| us / 1_000_000);
        let codec = ev.get("Channel-Read-Codec-Name").map(|v| v.into_owned()).or_else(|| previous.as_ref().map(|p| p.codec.clone()));
        let held = match n {
            "CHANNEL_HOLD" => true,
            "CHANNEL_UNHOLD" => false,
            _ => previous.as_ref().is_some_and(|p| p.held) || get("Channel-Call-State") == "HELD",
        };
        let other_leg = match n {
            "CHANNEL_UNBRIDGE" => None,
            _ => other.or_else(|| previous.as_ref().and_then(|p| p.other_leg.clone())),
        };
        let ch = LiveChannel {
            uuid: uuid.clone(),
            direction: get("Call-Direction"),
            name,
            caller_name: get("Caller-Caller-ID-Name"),
            caller_number: get("Caller-Caller-ID-Number"),
            destination,
            context,
            call_state: get("Channel-Call-State"),
            held,
            codec: codec.unwrap_or_default(),
            created_epoch: epoch("Caller-Channel-Created-Time").unwrap_or_else(|| previous.as_ref().map(|p| p.created_epoch).unwrap_or(0)),
            answered_epoch: epoch("Caller-Channel-Answered-Time").or_else(|| previous.as_ref().and_then(|p| p.answered_epoch)),
            other_leg,
            tenant_id,
        };
        if previous.as_ref() == Some(&ch) {
            return None;
        }
        self.put_channel(ch.clone());
        Some(Change::Channel { channel: ch })
    }

    fn sofia_event(&mut self, subclass: &str, ev: &Event, tenants: &mut dyn Tenants) -> Option<Change> {
        let get = |h: &str| ev.get(h).map(|v| v.into_owned()).unwrap_or_default();
        match subclass {
            "sofia::register" => {
                let row = LiveRegistration {
                    user: get("from-user"),
                    realm: get("from-host"),
                    contact: get("contact"),
                    network_ip: get("network-ip"),
                    network_port: get("network-port"),
                    user_agent: get("user-agent"),
                    expires: get("expires"),
                    tenant_id: None,
                };
                let r = self.register(row, tenants);
                Some(Change::Registration { registration: r })
            }
            "sofia::unregister" | "sofia::expire" => {
                let user = ev.get("from-user").or_else(|| ev.get("user")).map(|v| v.into_owned()).unwrap_or_default();
                let realm = ev.get("from-host").or_else(|| ev.get("host")).map(|v| v.into_owned()).unwrap_or_default();
                let gone = self.unregister(realm.clone(), user.clone())?;
                Some(Change::Unregistration { user, realm, tenant_id: gone.tenant_id })
            }
            // sofia_reg.c:153–172: every such event carries Ping-Status, the gateway's
            // UP/DOWN, whatever fired it (a state change, a ping that flipped it).
            "sofia::gateway_state" => {
                let g = gateway(GatewayRow { name: get("Gateway"), state: get("State"), status: get("Ping-Status") });
                self.gateways.insert(g.name.clone(), g.clone());
                Some(Change::Gateway { gateway: g })
            }
            // A gateway killed (killgw, a trunk saved) is unlinked at the profile's next
            // tick, which says so (sofia_reg.c:334–350); the follower then reads the whole
            // list again (`gateways_moved`).
            "sofia::gateway_delete" => {
                self.gateways.remove(&get("Gateway"));
                None
            }
            _ => None,
        }
    }

    /// Keeps a registration as the realm's tenant's.
    fn register(&mut self, mut r: LiveRegistration, tenants: &mut dyn Tenants) -> LiveRegistration {
        r.tenant_id = tenants.by_domain(&r.realm);
        count(&mut self.registered, r.tenant_id.map(|t| (t, r.user.clone())), true);
        if let Some(old) = self.registrations.insert((r.realm.clone(), r.user.clone()), r.clone()) {
            count(&mut self.registered, old.tenant_id.map(|t| (t, old.user.clone())), false);
        }
        r
    }

    /// Replaces the channels with the switch's list ([`super::show::channels`]).
    pub fn load_channels(&mut self, rows: Vec<ChannelRow>, tenants: &mut dyn Tenants) {
        self.channels.clear();
        self.phones.clear();
        // Callers first, so legs find their call's tenant.
        let mut rows = rows;
        rows.sort_by_key(|r| r.direction != "inbound");
        for r in rows {
            let tenant_id = self.tenant_of(&r.facts(), r.other_leg(), tenants);
            let other_leg = r.other_leg().map(str::to_string);
            let ch = LiveChannel {
                direction: r.direction,
                name: r.name,
                caller_name: r.cid_name,
                caller_number: r.cid_num,
                destination: r.dest,
                context: r.context,
                held: r.held,
                call_state: r.callstate,
                codec: r.read_codec,
                created_epoch: r.created_epoch,
                answered_epoch: None,
                other_leg,
                tenant_id,
                uuid: r.uuid,
            };
            self.put_channel(ch);
        }
    }

    /// Replaces the registrations with the switch's list ([`super::show::registrations`]).
    pub fn load_registrations(&mut self, rows: Vec<LiveRegistration>, tenants: &mut dyn Tenants) {
        self.registrations.clear();
        self.registered.clear();
        for r in rows {
            self.register(r, tenants);
        }
    }

    /// Replaces the gateways with sofia's list ([`super::show::gateways`]).
    pub fn load_gateways(&mut self, rows: Vec<GatewayRow>) {
        self.gateways = rows.into_iter().map(gateway).map(|g| (g.name.clone(), g)).collect();
    }
}

/// Whether `ev` means the switch's list of gateways itself changed (one added by a rescan,
/// one deleted), which no gateway_state event reports: a gateway that does not register
/// starts NOREG and UP and fires nothing but `sofia::gateway_add` (sofia_reg.c:3719–3727;
/// sofia.c:4034–4035), so its state is read from the switch.
pub fn gateways_moved(ev: &crate::esl::Event) -> bool {
    ev.get("Event-Name").as_deref() == Some("CUSTOM")
        && matches!(ev.get("Event-Subclass").as_deref(), Some("sofia::gateway_add" | "sofia::gateway_delete"))
}

fn gateway(row: GatewayRow) -> LiveGateway {
    let trunk_id = row.name.strip_prefix("trunk").and_then(|n| n.parse().ok());
    LiveGateway { name: row.name, state: row.state, status: row.status, trunk_id }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::esl::Headers;

    struct Fixed;
    impl Tenants for Fixed {
        fn by_domain(&mut self, d: &str) -> Option<i64> {
            (d == "acme.test").then_some(1)
        }
        fn by_did(&mut self, n: &str) -> Option<i64> {
            (n == "+15550001000").then_some(1)
        }
    }

    fn event(pairs: &[(&str, &str)]) -> Event {
        Event { headers: Headers::from_pairs(pairs.iter().copied(), false), body: None }
    }

    #[test]
    fn a_call_and_its_leg_appear_belong_to_the_tenant_and_leave() {
        let mut m = Model::default();
        let a = event(&[
            ("Event-Name", "CHANNEL_CREATE"),
            ("Unique-ID", "a-1"),
            ("Call-Direction", "inbound"),
            ("Channel-Call-State", "RINGING"),
            ("Caller-Context", "public"),
            ("Caller-Destination-Number", "15550001000"),
            ("Caller-Caller-ID-Number", "+15551112222"),
            ("Caller-Channel-Created-Time", "1700000000000000"),
        ]);
        let Some(Change::Channel { channel }) = m.apply(&a, &mut Fixed) else { panic!("a channel") };
        assert_eq!((channel.tenant_id, channel.created_epoch, channel.call_state.as_str()), (Some(1), 1_700_000_000, "RINGING"));
        // The leg it rings: context default, but the originator names the call.
        let b = event(&[
            ("Event-Name", "CHANNEL_CREATE"),
            ("Unique-ID", "b-1"),
            ("Call-Direction", "outbound"),
            ("Caller-Context", "default"),
            ("Caller-Destination-Number", "1003"),
            ("Other-Leg-Unique-ID", "a-1"),
        ]);
        let Some(Change::Channel { channel }) = m.apply(&b, &mut Fixed) else { panic!("a leg") };
        assert_eq!(channel.tenant_id, Some(1));
        // The phones each channel is a call of: who placed the call, who the leg rings.
        assert!(m.phone_on_a_call(1, "+15551112222") && m.phone_on_a_call(1, "1003"));
        assert!(!m.phone_on_a_call(1, "1002") && !m.phone_on_a_call(2, "1003"));
        let answer = event(&[
            ("Event-Name", "CHANNEL_ANSWER"),
            ("Unique-ID", "a-1"),
            ("Channel-Call-State", "ACTIVE"),
            ("Channel-Read-Codec-Name", "PCMA"),
            ("Caller-Channel-Answered-Time", "1700000005000000"),
        ]);
        let Some(Change::Channel { channel }) = m.apply(&answer, &mut Fixed) else { panic!("answered") };
        assert_eq!((channel.codec.as_str(), channel.answered_epoch, channel.created_epoch), ("PCMA", Some(1_700_000_005), 1_700_000_000));
        let hold = event(&[("Event-Name", "CHANNEL_HOLD"), ("Unique-ID", "a-1"), ("Channel-Call-State", "ACTIVE")]);
        assert!(matches!(m.apply(&hold, &mut Fixed), Some(Change::Channel { channel }) if channel.held));
        // The same event again changes nothing and publishes nothing.
        assert!(m.apply(&hold, &mut Fixed).is_none());
        let gone = event(&[("Event-Name", "CHANNEL_HANGUP_COMPLETE"), ("Unique-ID", "a-1"), ("Hangup-Cause", "NORMAL_CLEARING")]);
        assert!(matches!(m.apply(&gone, &mut Fixed), Some(Change::ChannelGone { tenant_id: Some(1), cause, .. }) if cause == "NORMAL_CLEARING"));
        assert!(m.apply(&gone, &mut Fixed).is_none(), "a repeated hangup is nothing");
        assert_eq!(m.channels.len(), 1);
        assert!(!m.phone_on_a_call(1, "+15551112222") && m.phone_on_a_call(1, "1003"), "the leg is still up");
        let leg_gone = event(&[("Event-Name", "CHANNEL_DESTROY"), ("Unique-ID", "b-1")]);
        m.apply(&leg_gone, &mut Fixed);
        assert!(!m.phone_on_a_call(1, "1003"));
    }

    #[test]
    fn registrations_and_gateways_follow_sofia_events() {
        let mut m = Model::default();
        let reg = event(&[("Event-Name", "CUSTOM"), ("Event-Subclass", "sofia::register"), ("from-user", "1001"), ("from-host", "acme.test")]);
        assert!(matches!(m.apply(&reg, &mut Fixed), Some(Change::Registration { registration }) if registration.tenant_id == Some(1)));
        // A refresh of the same registration is still one: one expiry ends it.
        m.apply(&reg, &mut Fixed);
        assert!(m.phone_registered(1, "1001") && !m.phone_registered(1, "1002") && !m.phone_registered(2, "1001"));
        let unreg = event(&[("Event-Name", "CUSTOM"), ("Event-Subclass", "sofia::expire"), ("user", "1001"), ("host", "acme.test")]);
        assert!(matches!(m.apply(&unreg, &mut Fixed), Some(Change::Unregistration { .. })));
        assert!(m.registrations.is_empty());
        assert!(!m.phone_registered(1, "1001"));
        let gw = event(&[("Event-Name", "CUSTOM"), ("Event-Subclass", "sofia::gateway_state"), ("Gateway", "trunk7"), ("State", "REGED")]);
        assert!(matches!(m.apply(&gw, &mut Fixed), Some(Change::Gateway { gateway }) if gateway.trunk_id == Some(7)));
    }

    #[test]
    fn the_lists_replace_what_the_model_held() {
        let mut m = Model::default();
        let row = |name: &str, state: &str| GatewayRow { name: name.into(), state: state.into(), status: "UP".into() };
        m.load_gateways(vec![row("trunk9", "REGED")]);
        m.load_gateways(vec![row("trunk1", "REGED"), row("trunk2", "NOREG")]);
        let names: Vec<(&str, Option<i64>)> = m.gateways.values().map(|g| (g.name.as_str(), g.trunk_id)).collect();
        assert_eq!(names, vec![("trunk1", Some(1)), ("trunk2", Some(2))], "the list is replaced whole");

        let ch = |uuid: &str, call: &str, direction: &str, name: &str, context: &str| ChannelRow {
            uuid: uuid.into(),
            call_uuid: call.into(),
            direction: direction.into(),
            name: name.into(),
            context: context.into(),
            dest: "15550001000".into(),
            ..Default::default()
        };
        m.channels.insert("stale".into(), LiveChannel { uuid: "stale".into(), ..Default::default() });
        // The leg is listed first: it still finds its call's tenant.
        m.load_channels(
            vec![
                ch("leg", "a", "outbound", "sofia/internal/1001@10.0.0.5", "default"),
                ch("a", "a", "inbound", "sofia/external/+15551112222@10.0.0.1", "default"),
                ch("phone", "phone", "inbound", "sofia/internal/1001@10.0.0.5", "acme.test"),
                ch("nobody", "nobody", "inbound", "sofia/internal/1001@10.0.0.5", "default"),
            ],
            &mut Fixed,
        );
        let mut tenants: Vec<(&str, Option<i64>)> = m.channels.values().map(|c| (c.uuid.as_str(), c.tenant_id)).collect();
        tenants.sort();
        assert_eq!(tenants, vec![("a", Some(1)), ("leg", Some(1)), ("nobody", None), ("phone", Some(1))]);
        assert_eq!(m.channels["leg"].other_leg.as_deref(), Some("a"));
        // The phone index is rebuilt with the list: the leg rings 15550001000 for tenant 1.
        assert!(m.phone_on_a_call(1, "15550001000"));
        m.load_channels(Vec::new(), &mut Fixed);
        assert!(!m.phone_on_a_call(1, "15550001000"));
    }
}
