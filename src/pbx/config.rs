//! What a tenant's PBX is made of, as a live call reads it: typed configuration rows (the
//! store fills them from SQLite; the call path, route explain and the plan's decisions read
//! them). No I/O here: the store depends on these types, never the other way round.

use serde::Deserialize;

use super::destination::Destination;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Tenant {
    pub id: i64,
    pub sip_domain: String,
    pub timezone: String,
    pub enabled: bool,
    /// The tenant's music-on-hold class named `default`, if it has one.
    pub moh_class: Option<i64>,
    /// Calls up at once (0: unlimited).
    pub max_concurrent_calls: i64,
    /// Credit policy `prepaid`: rated calls are authorised and cut at their credit.
    pub prepaid: bool,
    /// Transactions (calls out) a local day / month; -1: unlimited.
    pub daily_limit: i64,
    pub monthly_limit: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Extension {
    pub id: i64,
    pub number: String,
    pub display_name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub voicemail_enabled: bool,
    pub dnd: bool,
    pub forward_always: String,
    pub forward_busy: String,
    pub forward_no_answer: String,
    pub record_calls: bool,
    /// The user the extension is assigned to (a queue agent answers on it).
    #[serde(default)]
    pub user_id: Option<i64>,
}

/// One step of a follow-me cascade: starts `delay` seconds into the call, rings `timeout`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FollowMeStep {
    pub number: String,
    pub delay: i64,
    pub timeout: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FollowMe {
    pub voicemail_last: bool,
    pub destinations: Vec<FollowMeStep>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Member {
    pub extension_id: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RingGroup {
    pub id: i64,
    pub name: String,
    pub strategy: String,
    pub timeout: i64,
    pub no_answer_destination: Destination,
    pub members: Vec<Member>,
    /// What callers hear when this group's calls are held or transferred.
    #[serde(default)]
    pub moh_class_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct IvrOption {
    pub digit: String,
    pub destination: Destination,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Ivr {
    pub id: i64,
    pub name: String,
    pub greeting: String,
    pub timeout: i64,
    pub inter_digit_timeout: i64,
    pub max_failures: i64,
    pub invalid_destination: Destination,
    pub timeout_destination: Destination,
    pub direct_dial: bool,
    pub options: Vec<IvrOption>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Range {
    pub start: String,
    pub end: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Holiday {
    pub date: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TimeCondition {
    pub id: i64,
    pub name: String,
    pub weekdays: Vec<String>,
    pub time_ranges: Vec<Range>,
    pub date_ranges: Vec<Range>,
    pub holidays: Vec<Holiday>,
    pub matched_destination: Destination,
    pub unmatched_destination: Destination,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CallFlow {
    pub id: i64,
    pub name: String,
    /// `day` or `night`.
    pub state: String,
    /// The PIN a phone enters before its feature code flips the flow (empty: none).
    #[serde(default)]
    pub pin: String,
    pub day_destination: Destination,
    pub night_destination: Destination,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct VoicemailBox {
    pub id: i64,
    pub number: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Conference {
    pub id: i64,
    pub number: String,
    pub pin: String,
    pub max_participants: i64,
    pub record: bool,
}

/// A call queue as a caller in it needs it (the engine's view is built from this and the
/// agents' phones, `store::queues`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CallQueue {
    pub id: i64,
    pub name: String,
    pub number: String,
    pub strategy: String,
    pub moh_class_id: Option<i64>,
    pub max_wait: i64,
    pub timeout_destination: Destination,
    pub agent_timeout: i64,
    pub wrap_up: i64,
    pub reject_delay: i64,
    pub max_no_answer: i64,
    pub max_callers: i64,
    pub full_destination: Destination,
    pub wait_without_agents: bool,
    pub no_agents_destination: Destination,
    pub exit_key: String,
    pub exit_destination: Destination,
    pub announce_every: i64,
    pub announce_position: bool,
    pub announce_wait: bool,
    pub tier_escalation: i64,
    pub progressive_step: i64,
    pub service_level: i64,
    pub follow_agent_rules: bool,
    pub agents: Vec<QueueAgent>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct QueueAgent {
    pub user_id: i64,
    pub tier: i64,
}

/// A queue agent's phones and choice, from the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentPhones {
    pub user_id: i64,
    pub name: String,
    /// The extensions assigned to the user: (number, do-not-disturb).
    pub extensions: Vec<(String, bool)>,
    /// `logged_out`, `available` or `on_break`.
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RouteTrunk {
    pub trunk_id: i64,
    /// The trunk's channel cap (0: unlimited), filled in from the trunk.
    #[serde(default)]
    pub max_channels: i64,
    /// The caller ID the trunk presents (empty: none of its own), filled in from the trunk.
    #[serde(default)]
    pub caller_id: String,
    /// The codecs the trunk's carrier takes, in order (empty: no list of its own), filled in
    /// from the trunk.
    #[serde(default)]
    pub codecs: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OutboundRoute {
    pub id: i64,
    pub name: String,
    pub pattern: String,
    pub strip_digits: i64,
    pub prepend: String,
    pub caller_id: String,
    pub failover_causes: Vec<String>,
    pub trunks: Vec<RouteTrunk>,
    /// Rates calls on this route instead of the tenant's plan (set by the super admin).
    #[serde(default)]
    pub rate_plan_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CallBlock {
    #[serde(rename = "match")]
    pub kind: String,
    pub value: String,
    pub direction: String,
    pub action: String,
}
