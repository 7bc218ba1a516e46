//! The generic configuration resource: a table described by static [`Field`]s, read and
//! written as JSON objects with every rule of the description enforced on the way in.
//!
//! SQL here is assembled only from the static descriptions in `resources.rs` (table and
//! column names); every value is a bound parameter. Each statement on a tenant-owned table
//! carries `tenant_id = ?` unless the caller holds [`Within::Everything`], which only the API's
//! super-admin path constructs.

use rusqlite::types::Value as Sql;
use rusqlite::{params_from_iter, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::{json, Map, Value};

use super::billing::Slot;
use super::{validate, Result, Store, StoreError, TenantId};
use crate::pbx::destination::{Destination, HANGUP_CAUSES};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Single-line text, at most N characters.
    Line(usize),
    /// Multi-line text, at most N characters.
    Text(usize),
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
}

impl Field {
    pub const fn new(name: &'static str, kind: Kind) -> Field {
        Field { name, kind, required: false, nullable: false, filter: false, dialable: false, super_admin: false, to_switch: false }
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

// ---- values in and out ----------------------------------------------------------------

fn as_str<'a>(v: &'a Value) -> std::result::Result<&'a str, String> {
    v.as_str().ok_or_else(|| "must be a string".to_string())
}

fn as_int(v: &Value, min: i64, max: i64) -> std::result::Result<i64, String> {
    let n = v.as_i64().ok_or_else(|| "must be a whole number".to_string())?;
    if n < min || n > max {
        return Err(format!("must be between {min} and {max}"));
    }
    Ok(n)
}

/// One JSON value checked and normalised into what the column holds. References are only
/// checked for shape here; [`check_refs`] looks them up.
fn value_in(f: &Field, v: &Value) -> std::result::Result<Sql, String> {
    let sql = kind_in(f, v)?;
    if let (true, Sql::Text(s)) = (f.to_switch, &sql) {
        validate::no_switch_variables(s)?;
    }
    Ok(sql)
}

fn kind_in(f: &Field, v: &Value) -> std::result::Result<Sql, String> {
    if v.is_null() {
        return if f.nullable || (!f.required && matches!(f.kind, Kind::Ref(_) | Kind::GlobalRef(_) | Kind::UserRef | Kind::TenantRef)) {
            Ok(Sql::Null)
        } else {
            Err("must not be null".into())
        };
    }
    let text = |s: std::result::Result<String, String>| s.map(Sql::Text);
    // An optional text field may be cleared with "".
    if let (Some(""), false) = (v.as_str(), f.required) {
        // (An empty SIP password is kept as "" here and generated by check_body.)
        if !matches!(f.kind, Kind::Enum(_) | Kind::TimeZone) {
            return Ok(if f.nullable { Sql::Null } else { Sql::Text(String::new()) });
        }
    }
    match f.kind {
        Kind::Line(max) => {
            let s = validate::line(as_str(v)?, max)?;
            if f.required && s.trim().is_empty() {
                return Err("must not be empty".into());
            }
            Ok(Sql::Text(s))
        }
        Kind::Text(max) => text(validate::text(as_str(v)?, max)),
        Kind::Email => text(validate::email(as_str(v)?)),
        Kind::Digits(min, max) => text(validate::digits(as_str(v)?, min, max)),
        Kind::Pin => text(validate::digits(as_str(v)?, 4, 12)),
        Kind::DialNumber => text(validate::dial_number(as_str(v)?)),
        Kind::E164 => text(validate::e164(as_str(v)?)),
        Kind::Int(min, max) => as_int(v, min, max).map(Sql::Integer),
        Kind::Capacity(max) => match as_int(v, 0, max)? {
            1 => Err(format!("must be 0 (no limit) or between 2 and {max}")),
            n => Ok(Sql::Integer(n)),
        },
        Kind::Money => as_int(v, i64::MIN / 4, i64::MAX / 4).map(Sql::Integer),
        Kind::Bool => v.as_bool().map(|b| Sql::Integer(b as i64)).ok_or_else(|| "must be true or false".into()),
        Kind::Enum(options) => {
            let s = as_str(v)?;
            if options.contains(&s) {
                Ok(Sql::Text(s.to_string()))
            } else {
                Err(format!("must be one of: {}", options.join(", ")))
            }
        }
        Kind::Destination => {
            let d: Destination = serde_json::from_value(v.clone()).map_err(|e| format!("must be a destination {{\"type\": …}}: {e}"))?;
            match &d {
                Destination::External { number } => {
                    validate::dial_number(number).map_err(|e| format!("number {e}"))?;
                }
                Destination::Hangup { cause: Some(c) } if !HANGUP_CAUSES.contains(&c.as_str()) => {
                    return Err(format!("cause must be one of: {}", HANGUP_CAUSES.join(", ")));
                }
                _ => {}
            }
            Ok(Sql::Text(d.to_json()))
        }
        Kind::Ref(_) | Kind::GlobalRef(_) | Kind::UserRef | Kind::TenantRef => as_int(v, 1, i64::MAX).map(Sql::Integer),
        Kind::Secret => text(validate::line(as_str(v)?, 128)),
        Kind::SipPassword => {
            let s = as_str(v)?;
            if s.len() < 10 || s.len() > 64 || !s.bytes().all(|b| b.is_ascii_graphic()) || s.contains(['"', '\'', '<', '>', '&', '\\']) {
                return Err("must be 10 to 64 printable characters without quotes, <, >, & or \\ (leave empty to generate one)".into());
            }
            Ok(Sql::Text(s.to_string()))
        }
        Kind::UrlSecret => text(validate::url_secret(as_str(v)?)),
        Kind::Mac => text(validate::mac(as_str(v)?)),
        Kind::Pattern => text(validate::dial_pattern(as_str(v)?)),
        Kind::Sound => text(validate::sound(as_str(v)?)),
        Kind::Host => text(validate::hostname(as_str(v)?)),
        Kind::TimeZone => text(validate::timezone(as_str(v)?)),
        Kind::Slug => text(validate::slug(as_str(v)?)),
        Kind::List(l) => list_in(l, v).map(|v| Sql::Text(v.to_string())),
    }
}

fn hhmm(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 5 && b[2] == b':' && s[..2].parse::<u8>().is_ok_and(|h| h <= 24) && s[3..].parse::<u8>().is_ok_and(|m| m < 60) && (s <= "24:00")
}

fn date(s: &str) -> bool {
    s.len() == 10 && s.parse::<jiff::civil::Date>().is_ok()
}

fn list_in(l: ListKind, v: &Value) -> std::result::Result<Value, String> {
    let items = v.as_array().ok_or_else(|| "must be a list".to_string())?;
    if items.len() > 366 {
        return Err("at most 366 entries".into());
    }
    if l == ListKind::FeatureKeys && items.len() > MAX_FEATURE_KEYS {
        return Err(format!("at most {MAX_FEATURE_KEYS} keys"));
    }
    let one_of = |item: &Value, options: &[&str]| -> std::result::Result<Value, String> {
        match item.as_str() {
            Some(s) if options.contains(&s) => Ok(Value::String(s.into())),
            _ => Err(format!("entries must be one of: {}", options.join(", "))),
        }
    };
    let pair = |item: &Value, keys: [&str; 2], ok: &dyn Fn(&str) -> bool, what: &str| -> std::result::Result<Value, String> {
        let o = item.as_object().filter(|o| o.len() == 2 && keys.iter().all(|k| o.contains_key(*k)));
        let o = o.ok_or_else(|| format!("entries must be {{\"{}\": …, \"{}\": …}}", keys[0], keys[1]))?;
        let (a, b) = (o[keys[0]].as_str().unwrap_or(""), o[keys[1]].as_str().unwrap_or(""));
        if !ok(a) || !ok(b) {
            return Err(format!("{} and {} must be {what}", keys[0], keys[1]));
        }
        if a > b {
            return Err(format!("{} must not be after {}", keys[0], keys[1]));
        }
        Ok(json!({ keys[0]: a, keys[1]: b }))
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        out.push(match l {
            ListKind::Weekdays => one_of(item, WEEKDAYS)?,
            ListKind::Codecs => one_of(item, CODECS)?,
            ListKind::Causes => one_of(item, FAILOVER_CAUSES)?,
            ListKind::Roles => one_of(item, ROLES)?,
            ListKind::Tokens => one_of(item, &TOKEN_NAMES)?,
            ListKind::TimeRanges => pair(item, ["start", "end"], &hhmm, "HH:MM (00:00 to 24:00)")?,
            ListKind::DateRanges => pair(item, ["start", "end"], &date, "dates YYYY-MM-DD")?,
            ListKind::Holidays => {
                let o = item.as_object().filter(|o| o.contains_key("date") && o.keys().all(|k| k == "date" || k == "name"));
                let o = o.ok_or_else(|| "entries must be {\"date\": \"YYYY-MM-DD\", \"name\": …}".to_string())?;
                let d = o["date"].as_str().filter(|d| date(d)).ok_or_else(|| "date must be YYYY-MM-DD".to_string())?;
                let name = validate::line(o.get("name").and_then(Value::as_str).unwrap_or(""), 100)?;
                json!({ "date": d, "name": name })
            }
            ListKind::FeatureKeys => feature_key(item)?,
        });
    }
    let mut seen = std::collections::HashSet::new();
    if matches!(l, ListKind::Weekdays | ListKind::Codecs | ListKind::Causes | ListKind::Roles | ListKind::Tokens)
        && !out.iter().all(|v| seen.insert(v.to_string()))
    {
        return Err("entries must not repeat".into());
    }
    Ok(Value::Array(out))
}

/// One programmable key, checked: what it dials or watches must be something the phone can
/// dial (it is written into vendor files verbatim), the label one line of text.
fn feature_key(item: &Value) -> std::result::Result<Value, String> {
    const SHAPE: &str = "entries must be {\"type\": …, \"value\": …, \"label\": …}";
    let o = item.as_object().filter(|o| o.contains_key("type") && o.keys().all(|k| matches!(k.as_str(), "type" | "value" | "label")));
    let o = o.ok_or_else(|| SHAPE.to_string())?;
    let kind = o["type"].as_str().filter(|t| FEATURE_KEY_TYPES.contains(t));
    let kind = kind.ok_or_else(|| format!("type must be one of: {}", FEATURE_KEY_TYPES.join(", ")))?;
    let value = o.get("value").and_then(Value::as_str).unwrap_or("");
    let value = match kind {
        "blf" | "speed_dial" => validate::dial_number(value).map_err(|e| format!("value {e}"))?,
        // A line key shows the line it sits on; voicemail dials the voicemail code.
        _ if !value.is_empty() => return Err(format!("a {kind} key takes no value")),
        _ => String::new(),
    };
    let label = validate::line(o.get("label").and_then(Value::as_str).unwrap_or(""), 32).map_err(|e| format!("label {e}"))?;
    Ok(json!({ "type": kind, "value": value, "label": label }))
}

fn value_out(f: &Field, v: Sql) -> (String, Value) {
    let name = f.name.to_string();
    match (f.kind, v) {
        (_, Sql::Null) => (name, Value::Null),
        (Kind::Secret, Sql::Text(s)) => (format!("{name}_set"), Value::Bool(!s.is_empty())),
        (Kind::Bool, Sql::Integer(i)) => (name, Value::Bool(i != 0)),
        (Kind::Destination | Kind::List(_), Sql::Text(s)) => (name, serde_json::from_str(&s).unwrap_or(Value::Null)),
        (_, Sql::Integer(i)) => (name, json!(i)),
        (_, Sql::Text(s)) => (name, Value::String(s)),
        (_, Sql::Real(r)) => (name, json!(r)),
        (_, Sql::Blob(_)) => (name, Value::Null),
    }
}

// ---- body checks ------------------------------------------------------------------------

/// A checked body: column values and child lists, ready to write.
struct Checked {
    values: Vec<(&'static Field, Sql)>,
    children: Vec<(&'static Child, Vec<Vec<Sql>>)>,
}

fn check_body(r: &Resource, body: &Map<String, Value>, creating: bool) -> Result<Checked> {
    let mut errors: Vec<(String, String)> = Vec::new();
    let mut values = Vec::new();
    let mut children = Vec::new();
    for (k, v) in body {
        if let Some(f) = r.field(k) {
            match value_in(f, v) {
                Ok(s) => values.push((f, s)),
                Err(m) => errors.push((k.clone(), m)),
            }
        } else if let Some(c) = r.children.iter().find(|c| c.key == k) {
            match child_rows(c, v) {
                Ok(rows) => children.push((c, rows)),
                Err((field, m)) => errors.push((field, m)),
            }
        } else if READ_ONLY.contains(&k.as_str()) || r.fields.iter().any(|f| f.kind == Kind::Secret && *k == format!("{}_set", f.name)) {
            // Echoed from a GET: ignored.
        } else {
            errors.push((k.clone(), "unknown field".into()));
        }
    }
    if creating {
        for f in r.fields {
            if !body.contains_key(f.name) {
                if matches!(f.kind, Kind::SipPassword | Kind::UrlSecret) {
                    values.push((f, Sql::Text(validate::generate_secret())));
                } else if f.required {
                    errors.push((f.name.into(), "required".into()));
                }
            }
        }
    }
    // A SIP password sent empty is generated too.
    for (f, v) in values.iter_mut() {
        if matches!(f.kind, Kind::SipPassword | Kind::UrlSecret) && matches!(v, Sql::Text(s) if s.is_empty()) {
            *v = Sql::Text(validate::generate_secret());
        }
    }
    if !errors.is_empty() {
        return Err(StoreError::Fields(errors));
    }
    Ok(Checked { values, children })
}

fn child_rows(c: &'static Child, v: &Value) -> std::result::Result<Vec<Vec<Sql>>, (String, String)> {
    let items = v.as_array().ok_or_else(|| (c.key.to_string(), "must be a list".to_string()))?;
    if items.len() > c.max {
        return Err((c.key.into(), format!("at most {} entries", c.max)));
    }
    let mut rows = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let o = item.as_object().ok_or_else(|| (format!("{}[{i}]", c.key), "must be an object".to_string()))?;
        if let Some(k) = o.keys().find(|k| !c.fields.iter().any(|f| f.name == k.as_str())) {
            return Err((format!("{}[{i}].{k}", c.key), "unknown field".into()));
        }
        let mut row = Vec::with_capacity(c.fields.len());
        for f in c.fields {
            let at = |m: String| (format!("{}[{i}].{}", c.key, f.name), m);
            match o.get(f.name) {
                Some(v) => row.push(value_in(f, v).map_err(at)?),
                None if f.required => return Err(at("required".into())),
                None => row.push(default_of(f)),
            }
        }
        rows.push(row);
    }
    Ok(rows)
}

fn default_of(f: &Field) -> Sql {
    match f.kind {
        Kind::Int(min, _) => Sql::Integer(min.max(0)),
        Kind::Money | Kind::Capacity(_) | Kind::Bool => Sql::Integer(0),
        _ if f.nullable => Sql::Null,
        _ => Sql::Text(String::new()),
    }
}

/// Every reference in the checked values points at a row that exists in `tenant`.
fn check_refs(c: &Connection, tenant: Option<TenantId>, fields: &[(&'static Field, Sql)], at: &dyn Fn(&Field) -> String) -> Result<()> {
    for (f, v) in fields {
        let missing = |what: &str| StoreError::invalid(&at(f), format!("no such {what} in this tenant"));
        match (f.kind, v) {
            (_, Sql::Null) => {}
            (Kind::Ref(table), Sql::Integer(id)) => {
                if !row_exists(c, table, tenant, *id)? {
                    return Err(missing(table.trim_end_matches('s')));
                }
            }
            (Kind::GlobalRef(table), Sql::Integer(id)) => {
                if !row_exists(c, table, None, *id)? {
                    return Err(StoreError::invalid(&at(f), format!("no such {}", table.trim_end_matches('s'))));
                }
            }
            (Kind::UserRef, Sql::Integer(id)) => {
                if !row_exists(c, "users", tenant, *id)? {
                    return Err(missing("user"));
                }
            }
            (Kind::TenantRef, Sql::Integer(id)) => {
                let found: Option<i64> = c.query_row("SELECT id FROM tenants WHERE id = ?1", [id], |r| r.get(0)).optional()?;
                if found.is_none() {
                    return Err(StoreError::invalid(&at(f), "no such tenant"));
                }
            }
            (Kind::Destination, Sql::Text(s)) => {
                let d: Destination = serde_json::from_str(s).map_err(|e| StoreError::invalid(&at(f), e.to_string()))?;
                if let Some((table, id)) = d.target() {
                    let exists = match d {
                        Destination::Fax { .. } => tenant.is_some_and(|t| {
                            c.query_row("SELECT 1 FROM extensions WHERE id = ?1 AND tenant_id = ?2 AND type = 'fax'", (id, t.0), |_| Ok(()))
                                .optional()
                                .ok()
                                .flatten()
                                .is_some()
                        }),
                        _ => row_exists(c, table, tenant, id)?,
                    };
                    if !exists {
                        return Err(StoreError::invalid(&at(f), format!("destination {} {id} does not exist in this tenant", d_type(&d))));
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn d_type(d: &Destination) -> String {
    serde_json::to_value(d).ok().and_then(|v| v["type"].as_str().map(String::from)).unwrap_or_default()
}

fn row_exists(c: &Connection, table: &str, tenant: Option<TenantId>, id: i64) -> Result<bool> {
    let found = match tenant {
        Some(t) => c.query_row(&format!("SELECT 1 FROM {table} WHERE id = ?1 AND tenant_id = ?2"), (id, t.0), |_| Ok(())).optional()?,
        None => c.query_row(&format!("SELECT 1 FROM {table} WHERE id = ?1"), [id], |_| Ok(())).optional()?,
    };
    Ok(found.is_some())
}

/// Tables whose `number` shares one dial plan per tenant: dialing 2000 must mean one thing.
const DIALABLE: &[(&str, &str)] = &[
    ("extensions", "extension"),
    ("ring_groups", "ring group"),
    ("ivr_menus", "IVR menu"),
    ("call_queues", "call queue"),
    ("conferences", "conference"),
];

fn check_dialable(c: &Connection, r: &Resource, tenant: TenantId, self_id: Option<i64>, values: &[(&'static Field, Sql)]) -> Result<()> {
    for (f, v) in values.iter().filter(|(f, _)| f.dialable) {
        let Sql::Text(number) = v else { continue };
        for (table, title) in DIALABLE {
            let hit: Option<i64> =
                c.query_row(&format!("SELECT id FROM {table} WHERE tenant_id = ?1 AND number = ?2"), (tenant.0, number), |r| r.get(0)).optional()?;
            if let Some(id) = hit {
                if *table != r.table || Some(id) != self_id {
                    return Err(StoreError::Conflict { field: Some(f.name.into()), message: format!("{number} is already used by {title} {id}") });
                }
            }
        }
    }
    Ok(())
}

/// Turns a constraint failure into the API's conflict (the column in SQLite's message names
/// the field).
pub(crate) fn constraint(e: rusqlite::Error, what: &str) -> StoreError {
    if let rusqlite::Error::SqliteFailure(err, Some(msg)) = &e {
        if err.code == rusqlite::ErrorCode::ConstraintViolation {
            if let Some(cols) = msg.strip_prefix("UNIQUE constraint failed: ") {
                let field = cols.rsplit(", ").next().and_then(|c| c.rsplit('.').next()).unwrap_or("").to_string();
                return StoreError::Conflict { message: format!("another {what} already has this {field}"), field: Some(field) };
            }
            if msg.contains("FOREIGN KEY") {
                return StoreError::Conflict { field: None, message: format!("this {what} is still in use") };
            }
            return StoreError::Conflict { field: None, message: format!("{what}: {msg}") };
        }
    }
    StoreError::Db(e)
}

// ---- the operations ---------------------------------------------------------------------

fn scope_sql(r: &Resource, within: Within, owner: Option<i64>, args: &mut Vec<Sql>) -> String {
    let mut w = String::from("1=1");
    if let (Within::Tenant(t), Scope::Tenant | Scope::Assignable) = (within, r.scope) {
        args.push(Sql::Integer(t.0));
        w.push_str(&format!(" AND tenant_id = ?{}", args.len()));
    }
    if let (Some(u), true) = (owner, r.has_owner()) {
        args.push(Sql::Integer(u));
        w.push_str(&format!(" AND owner_user_id = ?{}", args.len()));
    }
    w
}

fn row_json(r: &Resource, row: &rusqlite::Row<'_>) -> rusqlite::Result<Map<String, Value>> {
    let mut o = Map::new();
    let mut i = 0;
    let mut next = || {
        i += 1;
        i - 1
    };
    o.insert("id".into(), json!(row.get::<_, i64>(next())?));
    if r.scope == Scope::Tenant {
        o.insert("tenant_id".into(), json!(row.get::<_, i64>(next())?));
        o.insert("owner_user_id".into(), json!(row.get::<_, Option<i64>>(next())?));
    }
    for f in r.fields {
        let (k, v) = value_out(f, row.get::<_, Sql>(next())?);
        o.insert(k, v);
    }
    o.insert("created_at".into(), json!(row.get::<_, String>(next())?));
    o.insert("updated_at".into(), json!(row.get::<_, String>(next())?));
    Ok(o)
}

fn load_children(c: &Connection, r: &Resource, items: &mut [Map<String, Value>]) -> Result<()> {
    if r.children.is_empty() || items.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = items.iter().map(|o| o["id"].as_i64().unwrap_or(0)).collect();
    let marks = vec!["?"; ids.len()].join(",");
    for ch in r.children {
        let cols: Vec<&str> = ch.fields.iter().map(|f| f.name).collect();
        let sql = format!("SELECT parent_id, {} FROM {} WHERE parent_id IN ({marks}) ORDER BY parent_id, position", cols.join(", "), ch.table);
        let mut st = c.prepare_cached(&sql)?;
        let mut by_parent: std::collections::HashMap<i64, Vec<Value>> = std::collections::HashMap::new();
        let mut rows = st.query(params_from_iter(ids.iter()))?;
        while let Some(row) = rows.next()? {
            let mut o = Map::new();
            for (i, f) in ch.fields.iter().enumerate() {
                let (k, v) = value_out(f, row.get::<_, Sql>(i + 1)?);
                o.insert(k, v);
            }
            by_parent.entry(row.get(0)?).or_default().push(Value::Object(o));
        }
        for item in items.iter_mut() {
            let id = item["id"].as_i64().unwrap_or(0);
            item.insert(ch.key.into(), Value::Array(by_parent.remove(&id).unwrap_or_default()));
        }
    }
    Ok(())
}

fn get_in(c: &Connection, r: &Resource, within: Within, owner: Option<i64>, id: i64) -> Result<Map<String, Value>> {
    let mut args = vec![Sql::Integer(id)];
    let w = scope_sql(r, within, owner, &mut args);
    let sql = format!("SELECT {} FROM {} WHERE id = ?1 AND {w}", r.columns(), r.table);
    let row = c.prepare_cached(&sql)?.query_row(params_from_iter(args.iter()), |row| row_json(r, row)).optional()?;
    let mut items = vec![row.ok_or(StoreError::NotFound)?];
    load_children(c, r, &mut items)?;
    Ok(items.pop().expect("one item"))
}

fn write_children(c: &Connection, id: i64, children: &[(&'static Child, Vec<Vec<Sql>>)]) -> Result<()> {
    for (ch, rows) in children {
        c.execute(&format!("DELETE FROM {} WHERE parent_id = ?1", ch.table), [id])?;
        let cols: Vec<&str> = ch.fields.iter().map(|f| f.name).collect();
        let marks: Vec<String> = (0..cols.len()).map(|i| format!("?{}", i + 3)).collect();
        let sql = format!("INSERT INTO {} (parent_id, position, {}) VALUES (?1, ?2, {})", ch.table, cols.join(", "), marks.join(", "));
        let mut st = c.prepare_cached(&sql)?;
        for (pos, row) in rows.iter().enumerate() {
            let mut args = vec![Sql::Integer(id), Sql::Integer(pos as i64)];
            args.extend(row.iter().cloned());
            st.execute(params_from_iter(args.iter())).map_err(|e| constraint(e, ch.key.trim_end_matches('s')))?;
        }
    }
    Ok(())
}

fn check_child_refs(c: &Connection, tenant: Option<TenantId>, children: &[(&'static Child, Vec<Vec<Sql>>)]) -> Result<()> {
    for (ch, rows) in children {
        for (i, row) in rows.iter().enumerate() {
            let pairs: Vec<(&'static Field, Sql)> = ch.fields.iter().zip(row.iter().cloned()).collect();
            check_refs(c, tenant, &pairs, &|f| format!("{}[{i}].{}", ch.key, f.name))?;
        }
    }
    Ok(())
}

/// Objects whose destination fields point at `table`/`id` (which then must not be deleted).
fn referrers(c: &Connection, tenant: TenantId, table: &str, id: i64) -> Result<Option<String>> {
    let types = Destination::types_for_table(table);
    if types.is_empty() {
        return Ok(None);
    }
    let marks = types.iter().map(|t| format!("'{t}'")).collect::<Vec<_>>().join(",");
    for r in super::resources::ALL.iter().filter(|r| r.scope == Scope::Tenant) {
        for f in r.fields.iter().filter(|f| f.kind == Kind::Destination) {
            let sql = format!(
                "SELECT id FROM {} WHERE tenant_id = ?1 AND json_extract({col}, '$.type') IN ({marks}) AND json_extract({col}, '$.id') = ?2 LIMIT 1",
                r.table,
                col = f.name
            );
            if let Some(rid) = c.query_row(&sql, (tenant.0, id), |row| row.get::<_, i64>(0)).optional()? {
                return Ok(Some(format!("{} {rid} ({})", r.title, f.name)));
            }
        }
        for ch in r.children {
            for f in ch.fields.iter().filter(|f| f.kind == Kind::Destination) {
                let sql = format!(
                    "SELECT p.id FROM {ct} c JOIN {pt} p ON p.id = c.parent_id WHERE p.tenant_id = ?1 \
                     AND json_extract(c.{col}, '$.type') IN ({marks}) AND json_extract(c.{col}, '$.id') = ?2 LIMIT 1",
                    ct = ch.table,
                    pt = r.table,
                    col = f.name
                );
                if let Some(rid) = c.query_row(&sql, (tenant.0, id), |row| row.get::<_, i64>(0)).optional()? {
                    return Ok(Some(format!("{} {rid} ({})", r.title, ch.key)));
                }
            }
        }
    }
    Ok(None)
}

fn tenant_of_row(c: &Connection, r: &Resource, id: i64) -> Result<Option<TenantId>> {
    if r.scope == Scope::Global {
        return Ok(None);
    }
    let t: Option<Option<i64>> = c.query_row(&format!("SELECT tenant_id FROM {} WHERE id = ?1", r.table), [id], |row| row.get(0)).optional()?;
    Ok(t.ok_or(StoreError::NotFound)?.map(TenantId))
}

fn check_slot(c: &Connection, r: &Resource, tenant: TenantId, actor: &Actor) -> Result<()> {
    let Some(slot) = r.slot else { return Ok(()) };
    debug_assert_eq!(slot.table(), r.table, "a slot counts the rows of its own table");
    if actor.enforce_packages {
        if let Some((package, limit)) = super::billing::package_limit(c, tenant, slot)? {
            let used = super::billing::slot_used(c, tenant, slot, None)?;
            if used >= limit {
                return Err(StoreError::Limit {
                    limit: slot.name().into(),
                    message: format!("{} limit reached: package {package:?} allows {limit}, {used} in use", slot.title()),
                });
            }
        }
    }
    if !actor.admin {
        let allowed = super::accounts::allocation(c, actor.user_id, slot)?;
        let used = super::billing::slot_used(c, tenant, slot, Some(actor.user_id))?;
        if used >= allowed {
            return Err(StoreError::Limit {
                limit: slot.name().into(),
                message: format!("{} allocation reached: your administrator allows you {allowed}, {used} in use", slot.title()),
            });
        }
    }
    Ok(())
}

impl Store {
    pub fn list(&self, r: &Resource, within: Within, owner: Option<i64>, q: &ListQuery) -> Result<Page> {
        let c = self.conn()?;
        let mut args = Vec::new();
        let mut w = scope_sql(r, within, owner, &mut args);
        for (k, v) in &q.filters {
            let f = r.field(k).filter(|f| f.filter).ok_or_else(|| StoreError::invalid(k, "not a filter of this list"))?;
            let value = match f.kind {
                Kind::Bool => match v.as_str() {
                    "true" | "1" => Sql::Integer(1),
                    "false" | "0" => Sql::Integer(0),
                    _ => return Err(StoreError::invalid(k, "must be true or false")),
                },
                Kind::Int(..) | Kind::Capacity(_) | Kind::Ref(_) | Kind::GlobalRef(_) | Kind::UserRef | Kind::TenantRef | Kind::Money => {
                    Sql::Integer(v.parse().map_err(|_| StoreError::invalid(k, "must be a whole number"))?)
                }
                _ => Sql::Text(v.clone()),
            };
            args.push(value);
            w.push_str(&format!(" AND {} = ?{}", f.name, args.len()));
        }
        if let Some(text) = q.q.as_deref().filter(|s| !s.is_empty() && !r.search.is_empty()) {
            // LIKE with the wildcards of the search text escaped: a search is a substring.
            args.push(Sql::Text(super::like_pattern(text)));
            let n = args.len();
            let ors: Vec<String> = r.search.iter().map(|col| format!("{col} LIKE ?{n} ESCAPE '\\'")).collect();
            w.push_str(&format!(" AND ({})", ors.join(" OR ")));
        }
        let total: i64 =
            c.prepare_cached(&format!("SELECT COUNT(*) FROM {} WHERE {w}", r.table))?.query_row(params_from_iter(args.iter()), |row| row.get(0))?;
        let per_page = q.per_page.clamp(1, MAX_PER_PAGE);
        let page = q.page.max(1);
        args.push(Sql::Integer(per_page as i64));
        args.push(Sql::Integer((page as i64 - 1) * per_page as i64));
        let sql = format!("SELECT {} FROM {} WHERE {w} ORDER BY {} LIMIT ?{} OFFSET ?{}", r.columns(), r.table, r.order, args.len() - 1, args.len());
        let mut st = c.prepare_cached(&sql)?;
        let mut items: Vec<Map<String, Value>> =
            st.query_map(params_from_iter(args.iter()), |row| row_json(r, row))?.collect::<rusqlite::Result<_>>()?;
        load_children(&c, r, &mut items)?;
        Ok(Page { items: items.into_iter().map(Value::Object).collect(), total, page, per_page })
    }

    pub fn get(&self, r: &Resource, within: Within, owner: Option<i64>, id: i64) -> Result<Value> {
        Ok(Value::Object(get_in(&*self.conn()?, r, within, owner, id)?))
    }

    /// The tenant a row belongs to (None for global rows); NotFound when there is no row.
    pub fn tenant_of(&self, r: &Resource, id: i64) -> Result<Option<TenantId>> {
        tenant_of_row(&*self.conn()?, r, id)
    }

    /// Creates a row. `tenant` is required for tenant-owned resources and ignored otherwise.
    pub fn create(&self, r: &Resource, tenant: Option<TenantId>, actor: &Actor, body: &Map<String, Value>) -> Result<Value> {
        let checked = check_body(r, body, true)?;
        self.write(|tx| {
            let ref_tenant = match r.scope {
                Scope::Tenant => Some(tenant.ok_or_else(|| StoreError::invalid("tenant_id", "required"))?),
                Scope::Global => None,
                Scope::Assignable => checked.values.iter().find(|(f, _)| f.kind == Kind::TenantRef).and_then(|(_, v)| match v {
                    Sql::Integer(t) => Some(TenantId(*t)),
                    _ => None,
                }),
            };
            check_refs(tx, ref_tenant, &checked.values, &|f| f.name.to_string())?;
            check_child_refs(tx, ref_tenant, &checked.children)?;
            let mut cols: Vec<&str> = Vec::new();
            let mut args: Vec<Sql> = Vec::new();
            if let (Scope::Tenant, Some(t)) = (r.scope, ref_tenant) {
                check_dialable(tx, r, t, None, &checked.values)?;
                check_slot(tx, r, t, actor)?;
                cols.extend(["tenant_id", "owner_user_id"]);
                args.extend([Sql::Integer(t.0), if actor.admin { Sql::Null } else { Sql::Integer(actor.user_id) }]);
            }
            for (f, v) in &checked.values {
                cols.push(f.name);
                args.push(v.clone());
            }
            let now = super::now();
            cols.extend(["created_at", "updated_at"]);
            args.extend([Sql::Text(now.clone()), Sql::Text(now)]);
            let marks: Vec<String> = (1..=cols.len()).map(|i| format!("?{i}")).collect();
            tx.execute(&format!("INSERT INTO {} ({}) VALUES ({})", r.table, cols.join(", "), marks.join(", ")), params_from_iter(args.iter()))
                .map_err(|e| constraint(e, r.title))?;
            let id = tx.last_insert_rowid();
            write_children(tx, id, &checked.children)?;
            Ok(Value::Object(get_in(tx, r, Within::Everything, None, id)?))
        })
    }

    /// Changes the fields named in `body`; child lists named are replaced whole.
    pub fn update(&self, r: &Resource, within: Within, owner: Option<i64>, id: i64, body: &Map<String, Value>) -> Result<Value> {
        let checked = check_body(r, body, false)?;
        self.write(|tx| {
            get_in(tx, r, within, owner, id)?;
            let row_tenant = tenant_of_row(tx, r, id)?;
            // A reassigned DID or announcement is checked against its new tenant.
            let ref_tenant = checked
                .values
                .iter()
                .find(|(f, _)| f.kind == Kind::TenantRef)
                .map(|(_, v)| if let Sql::Integer(t) = v { Some(TenantId(*t)) } else { None })
                .unwrap_or(row_tenant);
            check_refs(tx, ref_tenant, &checked.values, &|f| f.name.to_string())?;
            check_child_refs(tx, ref_tenant, &checked.children)?;
            if let (Scope::Tenant, Some(t)) = (r.scope, row_tenant) {
                check_dialable(tx, r, t, Some(id), &checked.values)?;
            }
            let mut sets: Vec<String> = Vec::new();
            let mut args: Vec<Sql> = Vec::new();
            for (f, v) in &checked.values {
                args.push(v.clone());
                sets.push(format!("{} = ?{}", f.name, args.len()));
            }
            args.push(Sql::Text(super::now()));
            sets.push(format!("updated_at = ?{}", args.len()));
            args.push(Sql::Integer(id));
            tx.execute(&format!("UPDATE {} SET {} WHERE id = ?{}", r.table, sets.join(", "), args.len()), params_from_iter(args.iter()))
                .map_err(|e| constraint(e, r.title))?;
            write_children(tx, id, &checked.children)?;
            Ok(Value::Object(get_in(tx, r, Within::Everything, None, id)?))
        })
    }

    /// Deletes a row, refusing while a destination elsewhere still points at it.
    pub fn delete(&self, r: &Resource, within: Within, owner: Option<i64>, id: i64) -> Result<Value> {
        self.write(|tx| {
            let before = get_in(tx, r, within, owner, id)?;
            if let Some(t) = tenant_of_row(tx, r, id)? {
                if let Some(by) = referrers(tx, t, r.table, id)? {
                    return Err(StoreError::Conflict {
                        field: None,
                        message: format!("this {} is the destination of {by}; change that first", r.title),
                    });
                }
            }
            tx.execute(&format!("DELETE FROM {} WHERE id = ?1", r.table), [id]).map_err(|e| constraint(e, r.title))?;
            Ok(Value::Object(before))
        })
    }
}
