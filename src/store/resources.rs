//! The configuration resources: what each table holds and the rules of each field. The API's
//! route table, the OpenAPI document and the authorisation matrix test are built from this list.

use super::billing::Slot;
use super::resource::{Child, Field as F, Kind::*, ListKind, Resource, Scope};

const NAME: super::Kind = Line(100);
const TRANSPORTS: &[&str] = &["udp", "tcp", "tls"];

pub static TENANTS: Resource = Resource {
    name: "tenants",
    table: "tenants",
    title: "tenant",
    scope: Scope::Global,
    fields: &[
        F::new("company", NAME).req(),
        F::new("email", Email).req(),
        F::new("daily_limit", Int(-1, 1_000_000_000)),
        F::new("monthly_limit", Int(-1, 1_000_000_000)),
        F::new("permissions", List(ListKind::Tokens)),
        F::new("low_credit_threshold", Money),
        F::new("max_concurrent_calls", Int(0, 100_000)),
        F::new("timezone", TimeZone),
        F::new("sip_domain", Host).req(),
        F::new("enabled", Bool).filter(),
        F::new("rate_plan_id", GlobalRef("rate_plans")),
        F::new("fax_page_rate", Money),
        F::new("credit_policy", Enum(&["flag", "prepaid"])),
        F::new("billing_day", Int(1, 28)),
    ],
    children: &[],
    slot: None,
    search: &["company", "email", "sip_domain"],
    order: "company, id",
};

pub static TRUNKS: Resource = Resource {
    name: "trunks",
    table: "trunks",
    title: "trunk",
    scope: Scope::Global,
    fields: &[
        F::new("name", NAME).req().to_switch(),
        F::new("host", Host).req(),
        F::new("port", Int(1, 65535)),
        F::new("transport", Enum(TRANSPORTS)),
        F::new("username", Line(64)).to_switch(),
        F::new("password", Secret).to_switch(),
        F::new("register", Bool).filter(),
        F::new("caller_id", E164),
        F::new("codecs", List(ListKind::Codecs)),
        F::new("max_channels", Int(0, 100_000)),
        F::new("active", Bool).filter(),
    ],
    children: &[],
    slot: None,
    search: &["name", "host"],
    order: "name, id",
};

pub static DIDS: Resource = Resource {
    name: "dids",
    table: "dids",
    title: "DID",
    scope: Scope::Assignable,
    fields: &[
        F::new("number", E164).req(),
        F::new("trunk_id", GlobalRef("trunks")).filter(),
        F::new("tenant_id", TenantRef).filter(),
        F::new("description", Line(200)),
    ],
    children: &[],
    slot: None,
    search: &["number", "description"],
    order: "number",
};

pub static EXTENSIONS: Resource = Resource {
    name: "extensions",
    table: "extensions",
    title: "extension",
    scope: Scope::Tenant,
    fields: &[
        F::new("number", Digits(4, 6)).req().dialable().filter(),
        F::new("display_name", Line(80)).to_switch(),
        F::new("sip_password", SipPassword),
        F::new("type", Enum(&["voice", "fax"])).filter(),
        F::new("voicemail_enabled", Bool).filter(),
        F::new("voicemail_pin", Pin),
        F::new("user_id", UserRef).filter(),
        F::new("dnd", Bool).filter(),
        F::new("forward_always", DialNumber),
        F::new("forward_busy", DialNumber),
        F::new("forward_no_answer", DialNumber),
        F::new("record_calls", Bool),
    ],
    children: &[],
    slot: Some(Slot::Extensions),
    search: &["number", "display_name"],
    order: "number",
};

pub static INBOUND_ROUTES: Resource = Resource {
    name: "inbound-routes",
    table: "inbound_routes",
    title: "inbound route",
    scope: Scope::Tenant,
    fields: &[F::new("did_id", Ref("dids")).req().filter(), F::new("name", NAME), F::new("destination", Destination).req()],
    children: &[],
    slot: None,
    search: &["name"],
    order: "id",
};

pub static OUTBOUND_ROUTES: Resource = Resource {
    name: "outbound-routes",
    table: "outbound_routes",
    title: "outbound route",
    scope: Scope::Tenant,
    fields: &[
        F::new("name", NAME).req(),
        F::new("pattern", Pattern).req(),
        F::new("priority", Int(0, 10_000)),
        F::new("strip_digits", Int(0, 20)),
        F::new("prepend", DialNumber),
        F::new("caller_id", E164),
        F::new("failover_causes", List(ListKind::Causes)),
        F::new("rate_plan_id", GlobalRef("rate_plans")).nullable().super_admin(),
    ],
    children: &[Child { key: "trunks", table: "outbound_route_trunks", fields: &[F::new("trunk_id", GlobalRef("trunks")).req()], max: 10 }],
    slot: None,
    search: &["name", "pattern"],
    order: "priority, id",
};

pub static RING_GROUPS: Resource = Resource {
    name: "ring-groups",
    table: "ring_groups",
    title: "ring group",
    scope: Scope::Tenant,
    fields: &[
        F::new("name", NAME).req(),
        F::new("number", Digits(3, 6)).req().dialable().filter(),
        F::new("strategy", Enum(&["simultaneous", "sequential", "round_robin", "random"])).filter(),
        F::new("timeout", Int(5, 600)),
        F::new("no_answer_destination", Destination),
        F::new("moh_class_id", Ref("moh_classes")),
    ],
    children: &[Child { key: "members", table: "ring_group_members", fields: &[F::new("extension_id", Ref("extensions")).req()], max: 100 }],
    slot: Some(Slot::RingGroups),
    search: &["name", "number"],
    order: "number",
};

pub static IVR_MENUS: Resource = Resource {
    name: "ivr-menus",
    table: "ivr_menus",
    title: "IVR menu",
    scope: Scope::Tenant,
    fields: &[
        F::new("name", NAME).req(),
        F::new("number", Digits(3, 6)).nullable().dialable().filter(),
        F::new("greeting", Sound),
        F::new("timeout", Int(1, 60)),
        F::new("inter_digit_timeout", Int(1, 30)),
        F::new("max_failures", Int(1, 10)),
        F::new("invalid_destination", Destination),
        F::new("timeout_destination", Destination),
        F::new("direct_dial", Bool),
    ],
    children: &[Child {
        key: "options",
        table: "ivr_menu_options",
        fields: &[
            F::new("digit", Enum(&["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "#"])).req(),
            F::new("destination", Destination).req(),
        ],
        max: 12,
    }],
    slot: Some(Slot::IvrMenus),
    search: &["name"],
    order: "name, id",
};

pub static CALL_QUEUES: Resource = Resource {
    name: "call-queues",
    table: "call_queues",
    title: "call queue",
    scope: Scope::Tenant,
    fields: &[
        F::new("name", NAME).req(),
        F::new("number", Digits(3, 6)).req().dialable().filter(),
        F::new(
            "strategy",
            Enum(&["ring_all", "longest_idle", "round_robin", "top_down", "least_talk_time", "fewest_calls", "random", "ring_progressively"]),
        ),
        F::new("moh_class_id", Ref("moh_classes")),
        F::new("max_wait", Int(10, 7200)),
        F::new("timeout_destination", Destination),
        F::new("agent_timeout", Int(5, 300)),
        F::new("wrap_up", Int(0, 3600)),
        F::new("reject_delay", Int(0, 3600)),
        F::new("max_no_answer", Int(0, 100)),
        F::new("max_callers", Int(0, 10_000)),
        F::new("full_destination", Destination),
        F::new("wait_without_agents", Bool),
        F::new("no_agents_destination", Destination),
        F::new("exit_key", Enum(&["", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "#"])),
        F::new("exit_destination", Destination),
        F::new("announce_every", Int(0, 3600)),
        F::new("announce_position", Bool),
        F::new("announce_wait", Bool),
        F::new("tier_escalation", Int(0, 3600)),
        F::new("progressive_step", Int(1, 120)),
        F::new("service_level", Int(1, 3600)),
        F::new("follow_agent_rules", Bool),
    ],
    children: &[Child {
        key: "agents",
        table: "call_queue_agents",
        fields: &[F::new("user_id", UserRef).req(), F::new("tier", Int(1, 9))],
        max: 200,
    }],
    slot: Some(Slot::CallQueues),
    search: &["name", "number"],
    order: "number",
};

pub static VOICEMAIL_BOXES: Resource = Resource {
    name: "voicemail-boxes",
    table: "voicemail_boxes",
    title: "voicemail box",
    scope: Scope::Tenant,
    fields: &[
        F::new("number", Digits(3, 6)).req().filter(),
        F::new("pin", Pin),
        F::new("name", NAME),
        F::new("email", Email).to_switch(),
        F::new("attach_audio", Bool),
        F::new("greeting", Sound),
    ],
    children: &[],
    slot: Some(Slot::Voicemails),
    search: &["number", "name"],
    order: "number",
};

pub static CONFERENCES: Resource = Resource {
    name: "conferences",
    table: "conferences",
    title: "conference",
    scope: Scope::Tenant,
    fields: &[
        F::new("name", NAME).req(),
        F::new("number", Digits(3, 6)).req().dialable().filter(),
        F::new("pin", Pin),
        F::new("max_participants", Capacity(1000)),
        F::new("record", Bool),
    ],
    children: &[],
    slot: Some(Slot::Conferences),
    search: &["name", "number"],
    order: "number",
};

pub static FOLLOW_ME: Resource = Resource {
    name: "follow-me",
    table: "follow_me",
    title: "follow-me",
    scope: Scope::Tenant,
    fields: &[F::new("extension_id", Ref("extensions")).req().filter(), F::new("enabled", Bool), F::new("voicemail_last", Bool)],
    children: &[Child {
        key: "destinations",
        table: "follow_me_destinations",
        fields: &[F::new("number", DialNumber).req(), F::new("delay", Int(0, 120)), F::new("timeout", Int(5, 120))],
        max: 10,
    }],
    slot: None,
    search: &[],
    order: "id",
};

pub static TIME_CONDITIONS: Resource = Resource {
    name: "time-conditions",
    table: "time_conditions",
    title: "time condition",
    scope: Scope::Tenant,
    fields: &[
        F::new("name", NAME).req(),
        F::new("weekdays", List(ListKind::Weekdays)),
        F::new("time_ranges", List(ListKind::TimeRanges)),
        F::new("date_ranges", List(ListKind::DateRanges)),
        F::new("holidays", List(ListKind::Holidays)),
        F::new("matched_destination", Destination).req(),
        F::new("unmatched_destination", Destination).req(),
    ],
    children: &[],
    slot: None,
    search: &["name"],
    order: "name, id",
};

pub static CALL_FLOWS: Resource = Resource {
    name: "call-flows",
    table: "call_flows",
    title: "call flow",
    scope: Scope::Tenant,
    fields: &[
        F::new("name", NAME).req(),
        F::new("feature_code", Digits(2, 4)).req().filter(),
        F::new("pin", Pin),
        F::new("state", Enum(&["day", "night"])).filter(),
        F::new("day_destination", Destination).req(),
        F::new("night_destination", Destination).req(),
    ],
    children: &[],
    slot: None,
    search: &["name"],
    order: "name, id",
};

pub static CALL_BLOCKS: Resource = Resource {
    name: "call-blocks",
    table: "call_blocks",
    title: "call block",
    scope: Scope::Tenant,
    fields: &[
        F::new("match", Enum(&["exact", "pattern"])),
        F::new("value", Line(64)).req(),
        F::new("direction", Enum(&["inbound", "outbound", "both"])).filter(),
        F::new("action", Enum(&["reject", "busy", "hangup", "voicemail"])),
        F::new("note", Line(200)),
    ],
    children: &[],
    slot: None,
    search: &["value", "note"],
    order: "id",
};

pub static MOH_CLASSES: Resource = Resource {
    name: "moh-classes",
    table: "moh_classes",
    title: "music-on-hold class",
    scope: Scope::Tenant,
    fields: &[F::new("name", Slug).req()],
    children: &[],
    slot: Some(Slot::MusicOnHold),
    search: &["name"],
    order: "name",
};

pub static DEVICE_PROFILES: Resource = Resource {
    name: "device-profiles",
    table: "device_profiles",
    title: "device profile",
    scope: Scope::Tenant,
    fields: &[
        F::new("name", NAME).req(),
        F::new("description", Line(200)),
        F::new("codecs", List(ListKind::Codecs)),
        F::new("dtmf_mode", Enum(&["rfc2833", "info", "inband"])),
        F::new("timezone", TimeZone),
        F::new("ntp_server", Host),
        F::new("feature_keys", List(ListKind::FeatureKeys)),
    ],
    children: &[],
    slot: None,
    search: &["name"],
    order: "name",
};

pub const VENDORS: &[&str] = &["yealink", "grandstream", "polycom", "snom", "fanvil", "cisco", "generic"];

/// The models each vendor's provisioning serves (src/provision/), as the form offers them;
/// a generic phone is any model.
pub const MODELS: &[(&str, &[&str])] = &[
    ("yealink", &["T31G", "T33G", "T43U", "T46U", "T48U", "T53W", "T54W", "T57W", "T58W", "W73P"]),
    ("grandstream", &["GRP2601", "GRP2602", "GRP2612", "GRP2614", "GRP2615", "GRP2616", "GXP1625", "GXP2170", "GXV3350"]),
    ("polycom", &["VVX150", "VVX250", "VVX350", "VVX450", "EdgeE220", "EdgeE350", "EdgeE450"]),
    ("snom", &["D120", "D315", "D335", "D385", "D717", "D735", "D785", "D862", "D865"]),
    ("fanvil", &["X1S", "X3U", "X4U", "X5U", "X6U", "X7", "V62", "V64", "V65"]),
    ("cisco", &["SPA303", "SPA504G", "SPA508G", "SPA525G2", "CP-6841", "CP-7841", "CP-8841"]),
];

pub static DEVICES: Resource = Resource {
    name: "devices",
    table: "devices",
    title: "device",
    scope: Scope::Tenant,
    fields: &[
        F::new("mac", Mac).req().filter(),
        F::new("label", Line(100)),
        F::new("vendor", Enum(VENDORS)).req().filter(),
        F::new("model", Line(64)),
        F::new("profile_id", Ref("device_profiles")),
        // What the phone must present before it is given its credentials (the password of
        // HTTP digest/basic with the MAC as user name, or the token of its provisioning URL).
        F::new("provision_secret", UrlSecret),
    ],
    children: &[Child { key: "lines", table: "device_lines", fields: &[F::new("extension_id", Ref("extensions")).req()], max: 16 }],
    slot: Some(Slot::Devices),
    search: &["mac", "label", "model"],
    order: "mac",
};

pub static PACKAGES: Resource = Resource {
    name: "packages",
    table: "packages",
    title: "package",
    scope: Scope::Global,
    fields: &[
        F::new("name", NAME).req(),
        F::new("extensions", Int(0, 1_000_000)),
        F::new("devices", Int(0, 1_000_000)),
        F::new("ring_groups", Int(0, 1_000_000)),
        F::new("call_queues", Int(0, 1_000_000)),
        F::new("ivr_menus", Int(0, 1_000_000)),
        F::new("voicemails", Int(0, 1_000_000)),
        F::new("conferences", Int(0, 1_000_000)),
        F::new("music_on_hold", Int(0, 1_000_000)),
        F::new("voice_minutes", Int(0, 1_000_000_000)),
        F::new("fax_pages", Int(0, 1_000_000_000)),
        F::new("conference_minutes", Int(0, 1_000_000_000)),
    ],
    children: &[],
    slot: None,
    search: &["name"],
    order: "name",
};

/// Price lists: per direction, the longest prefix of the number wins (src/billing/rating.rs).
pub static RATE_PLANS: Resource = Resource {
    name: "rate-plans",
    table: "rate_plans",
    title: "rate plan",
    scope: Scope::Global,
    fields: &[F::new("name", NAME).req(), F::new("description", Line(300))],
    children: &[Child {
        key: "rates",
        table: "rate_plan_rates",
        fields: &[
            F::new("direction", Enum(&["outbound", "inbound", "internal"])).req(),
            F::new("prefix", Digits(0, 15)),
            F::new("per_minute", Money).req(),
            F::new("connection_charge", Money),
            F::new("first_increment", Int(1, 3600)).req(),
            F::new("next_increment", Int(1, 3600)).req(),
        ],
        max: 10_000,
    }],
    slot: None,
    search: &["name"],
    order: "name",
};

pub static ANNOUNCEMENTS: Resource = Resource {
    name: "announcements",
    table: "announcements",
    title: "announcement",
    scope: Scope::Assignable,
    fields: &[
        F::new("tenant_id", TenantRef).filter(),
        F::new("title", Line(200)).req(),
        F::new("body", Text(20_000)),
        F::new("roles", List(ListKind::Roles)),
        F::new("starts_at", Line(30)).nullable(),
        F::new("ends_at", Line(30)).nullable(),
    ],
    children: &[],
    slot: None,
    search: &["title"],
    order: "id DESC",
};

pub static BRANDING: Resource = Resource {
    name: "branding",
    table: "branding",
    title: "branding",
    scope: Scope::Assignable,
    fields: &[
        F::new("tenant_id", TenantRef).filter(),
        F::new("hostname", Host).nullable(),
        F::new("title", Line(100)),
        F::new("logo", Image(200_000)),
        F::new("login_background", Image(500_000)),
        F::new("favicon", Image(50_000)),
        F::new("footer", Text(5_000)),
        F::new("support_email", Email),
    ],
    children: &[],
    slot: None,
    search: &["hostname", "title"],
    order: "id",
};

pub static FAX_CONTACTS: Resource = Resource {
    name: "fax-contacts",
    table: "fax_contacts",
    title: "fax contact",
    scope: Scope::Tenant,
    fields: &[
        F::new("name", NAME).req(),
        F::new("company", Line(100)),
        F::new("fax", E164).req().filter(),
        F::new("email", Email),
        F::new("notes", Text(1000)),
    ],
    children: &[],
    slot: None,
    search: &["name", "company", "fax", "email"],
    order: "name",
};

pub static FAX_GROUPS: Resource = Resource {
    name: "fax-groups",
    table: "fax_groups",
    title: "contact group",
    scope: Scope::Tenant,
    fields: &[F::new("name", NAME).req()],
    children: &[Child { key: "members", table: "fax_group_members", fields: &[F::new("contact_id", Ref("fax_contacts")).req()], max: 10_000 }],
    slot: None,
    search: &["name"],
    order: "name",
};

pub static FAX_COVER_PAGES: Resource = Resource {
    name: "fax-cover-pages",
    title: "cover page",
    table: "fax_cover_pages",
    scope: Scope::Tenant,
    fields: &[
        F::new("name", NAME).req(),
        F::new("heading", Line(60)),
        F::new("body", Template(4000)),
        F::new("paper", Enum(&["letter", "a4"])),
        F::new("is_default", Bool).sole(),
    ],
    children: &[],
    slot: None,
    search: &["name"],
    order: "name",
};

/// Every generic resource, in the order the API and its documents list them.
pub static ALL: &[&Resource] = &[
    &TENANTS,
    &TRUNKS,
    &DIDS,
    &EXTENSIONS,
    &INBOUND_ROUTES,
    &OUTBOUND_ROUTES,
    &RING_GROUPS,
    &IVR_MENUS,
    &CALL_QUEUES,
    &VOICEMAIL_BOXES,
    &CONFERENCES,
    &FOLLOW_ME,
    &TIME_CONDITIONS,
    &CALL_FLOWS,
    &CALL_BLOCKS,
    &FAX_CONTACTS,
    &FAX_GROUPS,
    &FAX_COVER_PAGES,
    &MOH_CLASSES,
    &DEVICE_PROFILES,
    &DEVICES,
    &PACKAGES,
    &RATE_PLANS,
    &ANNOUNCEMENTS,
    &BRANDING,
];
