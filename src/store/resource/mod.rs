//! The generic configuration resource: a table described by static [`Field`]s, read and
//! written as JSON objects with every rule of the description enforced on the way in.
//!
//! SQL here is assembled only from the static descriptions in `resources.rs` (table and
//! column names); every value is a bound parameter. Each statement on a tenant-owned table
//! carries `tenant_id = ?` unless the caller holds [`Within::Everything`], which only the API's
//! super-admin path constructs.
//!
//! Here: the descriptions (kinds, fields, children, scopes, the resource itself, and the
//! request shapes the engine takes). `values` turns one JSON value into SQL and back under
//! its field's rules, `checks` checks a whole body and its references, `crud` runs the
//! operations on [`Store`].

mod checks;
mod crud;
mod values;

pub(crate) use checks::constraint;

use serde::Serialize;
use serde_json::Value;

use super::billing::Slot;
use super::TenantId;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Single-line text, at most N characters.
    Line(usize),
    /// Multi-line text, at most N characters.
    Text(usize),
    /// Text of at most so many characters whose `{{…}}` are merge fields ([`crate::pbx::merge`]).
    Template(usize),
    Email,
    /// Between min and max ASCII digits.
    Digits(usize, usize),
    /// A numeric PIN, empty or 4 to 12 digits.
    Pin,
    DialNumber,
    E164,
    Int(i64, i64),
    /// How many may share something at once: 0 for no limit, else 2 to N. (A conference
    /// limit of 1 is one FreeSWITCH ignores — "not setting a limit", mod_conference.c:2192 —
    /// so it is refused here rather than saved and silently not applied.)
    Capacity(i64),
    Bool,
    /// Integer micro-units (1 unit = 1,000,000).
    Money,
    Enum(&'static [&'static str]),
    Destination,
    /// A row of the named tenant-owned table, in the same tenant.
    Ref(&'static str),
    /// A row of the named table that belongs to no tenant (trunks).
    GlobalRef(&'static str),
    /// A user of the same tenant.
    UserRef,
    /// A tenant (super admin only; assigns DIDs and announcements).
    TenantRef,
    /// Write-only (trunk passwords): never returned; the output says `<name>_set`.
    Secret,
    /// A SIP password: generated (20 characters) when not given; at least 10 when given.
    SipPassword,
    /// A secret that travels in URLs (a device's provisioning token): generated when not
    /// given or given empty; otherwise 16 to 64 of `A-Z a-z 0-9 - _`.
    UrlSecret,
    Mac,
    Pattern,
    Sound,
    /// An image shown in browsers (branding): a `data:` URL of a PNG, JPEG, GIF, WebP or
    /// icon of at most N bytes, checked by its content; or a link (`/…`, `https://…`).
    Image(usize),
    Host,
    TimeZone,
    /// A name FreeSWITCH uses as an identifier (MOH classes: `local_stream://<name>`).
    Slug,
    List(ListKind),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    /// `["mon","tue",…]`
    Weekdays,
    /// `[{"start":"09:00","end":"17:30"}]`
    TimeRanges,
    /// `[{"start":"2026-12-24","end":"2027-01-01"}]`
    DateRanges,
    /// `[{"date":"2026-12-25","name":"Christmas"}]`
    Holidays,
    /// `["PCMU","PCMA","G722","opus"]`
    Codecs,
    /// Hangup causes that make an outbound route try its next trunk.
    Causes,
    /// Role names an announcement is shown to.
    Roles,
    /// Permission tokens (cascade applied by the accounts layer).
    Tokens,
    /// A phone's programmable keys, in key order:
    /// `[{"type":"blf","value":"1002","label":"Anna"}]`; types: `line`, `blf`,
    /// `speed_dial`, `voicemail`.
    FeatureKeys,
}

pub const FEATURE_KEY_TYPES: &[&str] = &["line", "blf", "speed_dial", "voicemail"];
/// More keys than any supported phone has without expansion modules.
pub const MAX_FEATURE_KEYS: usize = 48;

pub const WEEKDAYS: &[&str] = &["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
pub const CODECS: &[&str] = &["PCMU", "PCMA", "G722", "G729", "opus", "GSM", "iLBC", "VP8", "H264"];
/// Causes a trunk failover may react to. BUSY and NO_ANSWER are the callee's answer, not the
/// trunk's failure, so they are not in this list.
pub const FAILOVER_CAUSES: &[&str] = &[
    "NORMAL_TEMPORARY_FAILURE",
    "NO_ROUTE_DESTINATION",
    "GATEWAY_DOWN",
    "SERVICE_UNAVAILABLE",
    "NETWORK_OUT_OF_ORDER",
    "DESTINATION_OUT_OF_ORDER",
    "RECOVERY_ON_TIMER_EXPIRE",
    "SWITCH_CONGESTION",
    "NO_USER_RESPONSE",
    "BEARERCAPABILITY_NOTAVAIL",
    "INCOMPATIBLE_DESTINATION",
];
pub const ROLES: &[&str] = &["super_admin", "tenant_admin", "agent", "end_user"];
static TOKEN_NAMES: std::sync::LazyLock<Vec<&'static str>> =
    std::sync::LazyLock::new(|| crate::access::Token::ALL.iter().map(|t| t.as_str()).collect());

#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
    pub nullable: bool,
    /// Usable as an exact `?name=value` filter on lists.
    pub filter: bool,
    /// Shares the tenant's dial plan namespace (extension numbers, ring group numbers, …).
    pub dialable: bool,
    /// Readable by the row's users, written by the super admin only (a tenant must not
    /// pick its own price).
    pub super_admin: bool,
    /// Served to FreeSWITCH (mod_xml_curl's directory and sofia.conf): a variable reference
    /// (`${…}`, `$${…}`) is refused ([`validate::no_switch_variables`]).
    pub to_switch: bool,
    /// A flag at most one row of the tenant holds (the default cover page): set on one, it
    /// is cleared on the others in the same write.
    pub sole: bool,
}

impl Field {
    pub const fn new(name: &'static str, kind: Kind) -> Field {
        Field { name, kind, required: false, nullable: false, filter: false, dialable: false, super_admin: false, to_switch: false, sole: false }
    }
    pub const fn req(mut self) -> Field {
        self.required = true;
        self
    }
    pub const fn nullable(mut self) -> Field {
        self.nullable = true;
        self
    }
    pub const fn filter(mut self) -> Field {
        self.filter = true;
        self
    }
    pub const fn sole(mut self) -> Field {
        self.sole = true;
        self
    }
    pub const fn dialable(mut self) -> Field {
        self.dialable = true;
        self
    }
    pub const fn super_admin(mut self) -> Field {
        self.super_admin = true;
        self
    }
    pub const fn to_switch(mut self) -> Field {
        self.to_switch = true;
        self
    }
}

/// An ordered list of rows owned by one parent (ring group members, IVR options…), written
/// whole: a PATCH that names the key replaces the list.
#[derive(Debug)]
pub struct Child {
    pub key: &'static str,
    pub table: &'static str,
    pub fields: &'static [Field],
    pub max: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// `tenant_id NOT NULL`: every statement is scoped.
    Tenant,
    /// No tenant column (trunks, packages).
    Global,
    /// A nullable `tenant_id` field the super admin sets (DIDs, announcements, branding);
    /// tenant users see only rows of their tenant.
    Assignable,
}

#[derive(Debug)]
pub struct Resource {
    /// The API path segment (`ring-groups`) and the activity log's object kind.
    pub name: &'static str,
    pub table: &'static str,
    /// "ring group": for messages.
    pub title: &'static str,
    pub scope: Scope,
    pub fields: &'static [Field],
    pub children: &'static [Child],
    pub slot: Option<Slot>,
    /// Columns that `?q=` searches (substring, case-insensitive).
    pub search: &'static [&'static str],
    pub order: &'static str,
}

impl Resource {
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }
    fn has_owner(&self) -> bool {
        self.scope == Scope::Tenant
    }
    fn columns(&self) -> String {
        let mut cols = vec!["id"];
        if self.scope == Scope::Tenant {
            cols.extend(["tenant_id", "owner_user_id"]);
        }
        cols.extend(self.fields.iter().map(|f| f.name));
        cols.extend(["created_at", "updated_at"]);
        cols.join(", ")
    }
}

/// Which rows a statement may touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Within {
    Tenant(TenantId),
    /// Every tenant's rows: the super admin.
    Everything,
}

/// Who is writing: decides per-user slot allocations and stamps owner_user_id.
#[derive(Debug, Clone, Copy)]
pub struct Actor {
    pub user_id: i64,
    /// Tenant and super admins are bound by the package only; other users also by the
    /// allocation their admin gave them, and own what they create.
    pub admin: bool,
    /// Package slot limits apply (off in the community edition).
    pub enforce_packages: bool,
}

#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// 1-based.
    pub page: u32,
    pub per_page: u32,
    pub q: Option<String>,
    pub filters: Vec<(String, String)>,
}

pub const MAX_PER_PAGE: u32 = 500;

#[derive(Debug, Serialize)]
pub struct Page {
    pub items: Vec<Value>,
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}

/// Keys a client may send back unchanged from a GET; they are ignored on write.
const READ_ONLY: &[&str] = &["id", "tenant_id", "owner_user_id", "created_at", "updated_at"];
