//! The OpenAPI 3 document, generated from the route table and the resource descriptions, so
//! it cannot drift from what the server does.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use super::router::{Access, BodyDoc, Feature, Handler, Op, ROUTES};
use crate::pbx::destination::TYPES as DESTINATION_TYPES;
use crate::store::resource::{Kind, ListKind, CODECS, FAILOVER_CAUSES, ROLES, WEEKDAYS};
use crate::store::{Resource, Scope};

fn kind_schema(k: Kind) -> Value {
    match k {
        Kind::Template(max) => {
            json!({ "type": "string", "maxLength": max, "description": format!("Merge fields: {}", crate::pbx::merge::FIELDS.iter().map(|(f, _)| format!("{{{{{f}}}}}")).collect::<Vec<_>>().join(" ")) })
        }
        Kind::Line(max) | Kind::Text(max) => json!({ "type": "string", "maxLength": max }),
        Kind::Image(max) => {
            json!({ "type": "string", "x-image-bytes": max, "description": format!("a data: URL of a PNG, JPEG, GIF, WebP or icon of at most {} KB, or a link (/… or https://…)", max / 1024) })
        }
        Kind::Email => json!({ "type": "string", "format": "email" }),
        Kind::Digits(min, max) => json!({ "type": "string", "pattern": format!("^[0-9]{{{min},{max}}}$") }),
        Kind::Pin => json!({ "type": "string", "pattern": "^([0-9]{4,12})?$" }),
        Kind::DialNumber => json!({ "type": "string", "pattern": "^\\+?[0-9*#]{1,32}$" }),
        Kind::E164 => json!({ "type": "string", "description": "E.164 (+ and 8-15 digits); spaces, dashes and 00 are normalised" }),
        Kind::Int(min, max) => json!({ "type": "integer", "minimum": min, "maximum": max }),
        Kind::Capacity(max) => json!({ "type": "integer", "minimum": 0, "maximum": max, "not": { "const": 1 }, "description": "0: no limit" }),
        Kind::Money => json!({ "type": "integer", "description": "micro-units (1 unit = 1,000,000)" }),
        Kind::Bool => json!({ "type": "boolean" }),
        Kind::Enum(o) => json!({ "type": "string", "enum": o }),
        Kind::Destination => json!({ "$ref": "#/components/schemas/Destination" }),
        Kind::Ref(t) | Kind::GlobalRef(t) => json!({ "type": "integer", "description": format!("id of a row of {t}") }),
        Kind::UserRef => json!({ "type": "integer", "description": "id of a user of the same tenant" }),
        Kind::TenantRef => json!({ "type": ["integer", "null"], "description": "tenant id (super admin only)" }),
        Kind::Secret => json!({ "type": "string", "writeOnly": true }),
        Kind::SipPassword => json!({ "type": "string", "minLength": 10, "description": "generated when empty" }),
        Kind::UrlSecret => json!({ "type": "string", "pattern": "^[A-Za-z0-9_-]{16,64}$", "description": "generated when empty" }),
        Kind::Mac => json!({ "type": "string", "description": "any notation; stored as 12 lowercase hex digits" }),
        Kind::Pattern => json!({ "type": "string", "description": "digits, + * #, X Z N, [1-5], trailing . or !" }),
        Kind::Sound => {
            json!({ "type": "string", "x-sound": true, "description": "sound:<id> for an uploaded recording (GET /sounds), or a path under FreeSWITCH's sounds" })
        }
        Kind::Host => json!({ "type": "string", "format": "hostname" }),
        Kind::TimeZone => json!({ "type": "string", "description": "IANA time zone name" }),
        Kind::Slug => json!({ "type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$" }),
        Kind::List(l) => {
            let items = match l {
                ListKind::Weekdays => json!({ "type": "string", "enum": WEEKDAYS }),
                ListKind::Codecs => json!({ "type": "string", "enum": CODECS }),
                ListKind::Causes => json!({ "type": "string", "enum": FAILOVER_CAUSES }),
                ListKind::Roles => json!({ "type": "string", "enum": ROLES }),
                ListKind::Tokens => json!({
                    "type": "string",
                    "enum": crate::access::Token::ALL.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
                    "x-enum-titles": crate::access::Token::ALL.iter().map(|t| (t.as_str().to_string(), json!(t.title()))).collect::<Map<String, Value>>(),
                }),
                ListKind::TimeRanges => json!({ "type": "object", "properties": { "start": { "type": "string" }, "end": { "type": "string" } } }),
                ListKind::DateRanges => {
                    json!({ "type": "object", "properties": { "start": { "type": "string", "format": "date" }, "end": { "type": "string", "format": "date" } } })
                }
                ListKind::Holidays => {
                    json!({ "type": "object", "properties": { "date": { "type": "string", "format": "date" }, "name": { "type": "string" } } })
                }
                ListKind::FeatureKeys => json!({
                    "type": "object",
                    "required": ["type"],
                    "properties": {
                        "type": { "type": "string", "enum": crate::store::resource::FEATURE_KEY_TYPES },
                        "value": { "type": "string", "description": "the number a blf key watches or a speed dial dials" },
                        "label": { "type": "string", "maxLength": 32 }
                    }
                }),
            };
            json!({ "type": "array", "items": items })
        }
    }
}

/// A field's label, help and example in the product's words (api/words.rs); what the kind
/// already says (its format, its merge fields, who may set it) follows the help.
fn worded(schema: &mut Value, resource: &str, field: &str) {
    let Some(w) = super::words::of(resource, field) else { return };
    schema["title"] = json!(w.title);
    let said = schema["description"].as_str().map(str::to_string);
    let help = match said {
        Some(d) if !w.help.is_empty() => format!("{}. {d}", w.help),
        Some(d) => d,
        None => w.help.to_string(),
    };
    if !help.is_empty() {
        schema["description"] = json!(help);
    }
    if !w.help.is_empty() {
        // The help alone, for a form's hint (the description also says the machine's part).
        schema["x-help"] = json!(w.help);
    }
    if !w.example.is_empty() {
        schema["examples"] = json!([w.example]);
    }
}

fn resource_schema(r: &Resource) -> Value {
    let mut props = Map::new();
    let mut required = Vec::new();
    if r.scope == Scope::Tenant {
        props.insert("tenant_id".into(), json!({ "type": "integer", "description": "super admins name the tenant; others get their own" }));
    }
    for f in r.fields {
        let mut schema = kind_schema(f.kind);
        if f.super_admin {
            let d = schema["description"].as_str().map(|d| format!("{d}; ")).unwrap_or_default();
            schema["description"] = json!(format!("{d}set by the super admin only"));
        }
        if f.to_switch {
            let d = schema["description"].as_str().map(|d| format!("{d}; ")).unwrap_or_default();
            schema["description"] = json!(format!("{d}served to FreeSWITCH: no ${{ or $${{ (docs/security.md)"));
        }
        worded(&mut schema, r.name, f.name);
        if r.name == crate::store::resources::DEVICES.name && f.name == "model" {
            schema["x-models"] =
                crate::store::resources::MODELS.iter().map(|(v, m)| (v.to_string(), json!(m))).collect::<Map<String, Value>>().into();
        }
        props.insert(f.name.into(), schema);
        if f.required {
            required.push(f.name);
        }
    }
    for c in r.children {
        let mut cp = Map::new();
        for f in c.fields {
            let mut schema = kind_schema(f.kind);
            worded(&mut schema, r.name, f.name);
            cp.insert(f.name.into(), schema);
        }
        props.insert(c.key.into(), json!({ "type": "array", "maxItems": c.max, "items": { "type": "object", "properties": cp } }));
    }
    let mut schema = json!({ "type": "object", "additionalProperties": false, "properties": props, "required": required });
    if r.scope == Scope::Tenant {
        // Every row is one tenant's: a super admin's form names the tenant first, and its
        // lists (extensions to pick) are that tenant's.
        schema["x-tenant-scoped"] = json!(true);
    }
    if let Some(slot) = r.slot {
        // The allocation a non-admin needs to add one (`/me`'s `allocations`, by this name).
        schema["x-slot"] = json!(slot.name());
    }
    schema
}

/// The same rule as data, for clients that show only what the user may use (the web UI's
/// menu is filtered by it, so it can never disagree with the API).
fn access_rule(a: Access) -> Value {
    match a {
        Access::Public => json!({ "kind": "public" }),
        Access::User => json!({ "kind": "user" }),
        Access::SuperAdmin => json!({ "kind": "super_admin" }),
        Access::TenantAdmin => json!({ "kind": "tenant_admin" }),
        Access::Token(t) => json!({ "kind": "token", "token": t.as_str() }),
        Access::AdminToken(t) => json!({ "kind": "admin_token", "token": t.as_str() }),
    }
}

fn access_text(a: Access) -> String {
    match a {
        Access::Public => "public".into(),
        Access::User => "any signed-in user".into(),
        Access::SuperAdmin => "super admin".into(),
        Access::TenantAdmin => "super admin; tenant admin (own tenant)".into(),
        Access::Token(t) => {
            format!("super admin; tenant admin if the tenant holds {0}; agents and end users holding {0} (objects they created)", t.as_str())
        }
        Access::AdminToken(t) => format!("super admin; tenant admin if the tenant holds {}", t.as_str()),
    }
}

/// Each resource field's default, as its table declares it, in the document's schemas: the
/// value a new row gets when the field is left out, so a form starts from it (a new
/// tenant is enabled). `defaults(table)` gives each column's SQL default text.
pub fn with_defaults(doc: &mut Value, defaults: &dyn Fn(&str) -> HashMap<String, String>) {
    for r in crate::store::resources::ALL {
        let Some(props) = doc["components"]["schemas"][r.name]["properties"].as_object_mut() else { continue };
        let fill = |props: &mut Map<String, Value>, table: &str, fields: &[crate::store::resource::Field]| {
            let d = defaults(table);
            for f in fields {
                if let (Some(sql), Some(schema)) = (d.get(f.name), props.get_mut(f.name)) {
                    if let Some(v) = default_value(f.kind, sql) {
                        schema["default"] = v;
                    }
                }
            }
        };
        fill(props, r.table, r.fields);
        for c in r.children {
            if let Some(items) = props.get_mut(c.key).and_then(|p| p["items"]["properties"].as_object_mut()) {
                fill(items, c.table, c.fields);
            }
        }
    }
}

/// A column's SQL default as the field's JSON value; None for an empty one (`''`, `'[]'`),
/// which a form shows as empty anyway.
fn default_value(k: Kind, sql: &str) -> Option<Value> {
    let text = sql.strip_prefix('\'').and_then(|t| t.strip_suffix('\''));
    match (k, text) {
        (_, Some("" | "[]" | "{}")) => None,
        // Stored as JSON text: the default is the object itself.
        (Kind::Destination, Some(t)) => serde_json::from_str(&t.replace("''", "'")).ok(),
        (Kind::Bool, None) => Some(json!(sql.trim() != "0")),
        (Kind::Int(..) | Kind::Capacity(_) | Kind::Money, None) => sql.trim().parse::<i64>().ok().map(|n| json!(n)),
        (_, Some(t)) => Some(json!(t.replace("''", "'"))),
        _ => None,
    }
}

pub fn document() -> Value {
    let mut paths: Map<String, Value> = Map::new();
    let mut schemas = Map::new();
    for r in ROUTES.iter() {
        let mut op = json!({
            "summary": r.summary,
            "tags": [r.tag],
            "x-access": access_text(r.access),
            "x-access-rule": access_rule(r.access),
            "responses": {
                "401": { "$ref": "#/components/responses/Error" },
                "403": { "$ref": "#/components/responses/Error" },
                "404": { "$ref": "#/components/responses/Error" },
                "409": { "$ref": "#/components/responses/Error" },
                "422": { "$ref": "#/components/responses/Error" },
            },
        });
        if r.method != warp::http::Method::GET {
            op["responses"]["408"] = json!({ "$ref": "#/components/responses/Error" });
            op["responses"]["413"] = json!({ "$ref": "#/components/responses/Error" });
        }
        // The routes that check a password (docs/security.md): a lock for this account and
        // address (423), the address's budget spent (429), too many checks at once (503),
        // the last two with Retry-After.
        if ["/auth/login", "/auth/change-password", "/me/password"].iter().any(|p| r.path.ends_with(p)) {
            for code in ["423", "429", "503"] {
                op["responses"][code] = json!({ "$ref": "#/components/responses/Error" });
            }
        }
        if r.access != Access::Public {
            op["security"] = json!([{ "bearer": [] }]);
        } else {
            op["security"] = json!([]);
        }
        if r.feature != Feature::Core {
            op["x-community-edition"] = json!("absent");
        }
        let mut params = Vec::new();
        if r.has_id() {
            params.push(json!({ "name": "id", "in": "path", "required": true, "schema": { "type": "integer", "minimum": 1 } }));
        }
        let (ok, ok_schema) = match r.handler {
            Handler::Resource(res, o) => {
                schemas.insert(res.name.into(), resource_schema(res));
                let item = json!({ "$ref": format!("#/components/schemas/{}", res.name) });
                match o {
                    Op::List => {
                        for (n, t) in [("page", "integer"), ("per_page", "integer"), ("q", "string"), ("tenant_id", "integer")] {
                            params.push(json!({ "name": n, "in": "query", "required": false, "schema": { "type": t } }));
                        }
                        for f in res.fields.iter().filter(|f| f.filter) {
                            params.push(json!({ "name": f.name, "in": "query", "required": false, "schema": kind_schema(f.kind) }));
                        }
                        ("200", json!({ "$ref": "#/components/schemas/Page" }))
                    }
                    Op::Create => ("201", item),
                    Op::Delete => ("204", Value::Null),
                    _ => ("200", item),
                }
            }
            Handler::Custom(_) => ("200", json!({ "type": "object" })),
            Handler::Stream => ("200", json!({ "type": "string", "description": "text/event-stream" })),
        };
        op["responses"][ok] = if ok_schema.is_null() {
            json!({ "description": "done" })
        } else {
            json!({ "description": "ok", "content": { "application/json": { "schema": ok_schema } } })
        };
        if !params.is_empty() {
            op["parameters"] = Value::Array(params);
        }
        let body = match r.body {
            BodyDoc::None | BodyDoc::Binary(_) => None,
            BodyDoc::Resource(res) => {
                schemas.insert(res.name.into(), resource_schema(res));
                Some(json!({ "$ref": format!("#/components/schemas/{}", res.name) }))
            }
            BodyDoc::Fields(fields) => {
                let props: Map<String, Value> = fields.iter().map(|(n, t, _)| (n.to_string(), json!({ "type": t }))).collect();
                let req: Vec<&str> = fields.iter().filter(|f| f.2).map(|f| f.0).collect();
                Some(json!({ "type": "object", "additionalProperties": false, "properties": props, "required": req }))
            }
        };
        if let Some(s) = body {
            op["requestBody"] = json!({ "required": true, "content": { "application/json": { "schema": s } } });
        }
        if let BodyDoc::Binary(types) = r.body {
            let content: Map<String, Value> =
                types.iter().map(|t| (t.to_string(), json!({ "schema": { "type": "string", "format": "binary" } }))).collect();
            op["requestBody"] = json!({ "required": true, "content": content });
            op["parameters"] = json!([
                { "name": "id", "in": "path", "required": true, "schema": { "type": "integer", "minimum": 1 } },
                { "name": "name", "in": "query", "required": true, "schema": { "type": "string" } }
            ]);
        }
        let entry = paths.entry(r.path.clone()).or_insert_with(|| json!({}));
        entry[r.method.as_str().to_ascii_lowercase()] = op;
    }
    schemas.insert(
        "Error".into(),
        json!({ "type": "object", "required": ["code", "message"], "properties": {
            "code": { "type": "string" }, "message": { "type": "string" }, "field": { "type": "string" },
            "errors": { "type": "array", "items": { "type": "object", "properties": { "field": { "type": "string" }, "message": { "type": "string" } } } } } }),
    );
    schemas.insert(
        "Page".into(),
        json!({ "type": "object", "properties": { "items": { "type": "array", "items": { "type": "object" } }, "total": { "type": "integer" }, "page": { "type": "integer" }, "per_page": { "type": "integer" } } }),
    );
    schemas.insert(
        "Destination".into(),
        json!({ "type": "object", "required": ["type"], "properties": {
            "type": { "type": "string", "enum": DESTINATION_TYPES },
            "id": { "type": "integer", "description": "for object destinations: an object of the same tenant" },
            "number": { "type": "string", "description": "for external" },
            "priority": { "type": "integer", "minimum": 0, "maximum": crate::pbx::destination::MAX_QUEUE_PRIORITY,
                "description": "for queue: callers who come this way go ahead of lower priorities (default 0)" },
            "cause": { "type": "string", "enum": crate::pbx::destination::HANGUP_CAUSES, "description": "for hangup" } } }),
    );
    json!({
        "openapi": "3.1.0",
        "info": { "title": "switchboard API", "version": env!("CARGO_PKG_VERSION"),
                  "description": "Configuration of a FreeSWITCH PBX. Errors are {code, message, field?}. Lists take page, per_page (max 500), q and the filters named per route." },
        "servers": [{ "url": "/" }],
        "paths": paths,
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer", "bearerFormat": "JWT (RS256)" } },
            "schemas": schemas,
            "responses": { "Error": { "description": "an error", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } } },
        },
    })
}
