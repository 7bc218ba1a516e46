//! The route table: every `/api/v1` endpoint with its access rule, as data.
//!
//! One table drives three things that must agree: the dispatcher, the OpenAPI document and
//! the authorisation matrix test. A route cannot be added without an [`Access`] rule (the
//! field is not optional), and the matrix walks this same table, so a new route is tested for
//! every role the moment it exists. (warp is the HTTP shell around it: a hundred `.or()`ed
//! filters would give the same routing at a large compile-time cost and no table to test.)

use std::net::IpAddr;
use std::sync::{Arc, LazyLock};

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use warp::http::{Method, StatusCode};

use super::error::{ApiError, ApiResult};
use super::handlers;
use crate::access::{Role, Token};
use crate::config::Config;
use crate::store::accounts::Principal;
use crate::store::resource::{ListQuery, Within};
use crate::store::{resources as res, Resource, Store, TenantId};

/// Everything a handler may use.
pub struct Api {
    pub store: Store,
    pub keys: super::auth::Keys,
    pub cfg: Arc<Config>,
    /// The live switch: channels, registrations, gateways and the way to command it.
    pub live: crate::realtime::Live,
    /// Limits on password checks: per client address, and argon2 checks at once.
    pub sign_in: super::throttle::SignInGuard,
}

impl Api {
    pub fn new(store: Store, keys: super::auth::Keys, cfg: Arc<Config>, live: crate::realtime::Live) -> Api {
        let sign_in = super::throttle::SignInGuard::new(&cfg.sign_in);
        Api { store, keys, cfg, live, sign_in }
    }
}

/// Who may call a route. Checked before the handler runs; tenant scope is then applied by
/// the [`Grant`] the check returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No token needed.
    Public,
    /// Any signed-in user, acting on their own account or tenant.
    User,
    SuperAdmin,
    /// Super admins, and tenant admins inside their tenant.
    TenantAdmin,
    /// Super admins; tenant admins whose tenant holds the token; agents and end users who
    /// hold it themselves, limited to the objects they created.
    Token(Token),
    /// Super admins; tenant admins whose tenant holds the token.
    AdminToken(Token),
}

/// Parts of the product the community edition leaves out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feature {
    Core,
    Billing,
    MultiTenant,
    Branding,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    List,
    Get,
    Create,
    Update,
    Delete,
}

pub type HandlerFn = fn(&Api, &Req) -> ApiResult<Reply>;

#[derive(Clone, Copy)]
pub enum Handler {
    Resource(&'static Resource, Op),
    Custom(HandlerFn),
    /// Answered by the HTTP layer as a stream (Server-Sent Events), after the same checks
    /// ([`prepare`]); the access token may come as `?access_token=` (EventSource sends no
    /// headers).
    Stream,
}

/// What a request body should look like, for the OpenAPI document.
#[derive(Debug, Clone, Copy)]
pub enum BodyDoc {
    None,
    Resource(&'static Resource),
    /// Field names and JSON types of a custom body.
    Fields(&'static [(&'static str, &'static str, bool)]),
    /// Raw bytes of a file (uploads), with the media types accepted.
    Binary(&'static [&'static str]),
}

/// JSON bodies above this are refused with 413 before they are parsed.
pub const JSON_BODY_LIMIT: usize = 1 << 20;
/// Bodies of routes anyone may call (a sign-in is well under 1 KiB).
pub const PUBLIC_BODY_LIMIT: usize = 16 << 10;
/// Uploads (music on hold) may be larger.
pub const UPLOAD_LIMIT: usize = 32 << 20;

pub struct Route {
    pub method: Method,
    pub path: String,
    pub access: Access,
    pub feature: Feature,
    pub summary: String,
    pub tag: &'static str,
    pub handler: Handler,
    pub body: BodyDoc,
}

impl Route {
    pub fn has_id(&self) -> bool {
        self.path.contains('{')
    }
    /// The largest body the route reads. A route anyone may call (sign-in, refresh) reads
    /// at most [`PUBLIC_BODY_LIMIT`], and a GET none: what a stranger can make the server
    /// hold is small.
    pub fn body_limit(&self) -> usize {
        match self.body {
            BodyDoc::Binary(_) => UPLOAD_LIMIT,
            _ if self.method == Method::GET => 0,
            _ if self.access == Access::Public => PUBLIC_BODY_LIMIT,
            _ => JSON_BODY_LIMIT,
        }
    }
}

/// The request as a handler sees it.
pub struct Req {
    pub principal: Option<Principal>,
    /// The session (sign-in) of the access token the request came with.
    pub session: Option<String>,
    /// The client's address (the TCP peer), when the server knows it.
    pub peer: Option<IpAddr>,
    pub grant: Grant,
    pub id: Option<i64>,
    pub query: Vec<(String, String)>,
    pub body: Option<Value>,
    /// The file an upload was streamed into (routes whose body is [`BodyDoc::Binary`]).
    pub upload: Option<Upload>,
}

/// An upload, streamed to a temporary file in the data directory as it arrived (never held
/// in memory): removed when dropped unless the handler keeps it.
pub struct Upload {
    pub file: tempfile::NamedTempFile,
    pub len: u64,
    /// Its first bytes, for telling what it is.
    pub head: Vec<u8>,
}

/// How many first bytes of an upload [`Upload::head`] keeps.
pub const UPLOAD_HEAD: usize = 64;

/// The scope an access check grants.
#[derive(Debug, Clone, Copy)]
pub struct Grant {
    pub within: Within,
    /// Only rows this user created (agents and end users on token routes).
    pub owner: Option<i64>,
    pub admin: bool,
}

pub struct Reply {
    pub status: StatusCode,
    pub body: Option<Value>,
    /// A non-JSON body (CSV exports) and its media type.
    pub raw: Option<(&'static str, Vec<u8>)>,
}

impl Reply {
    pub fn ok(v: impl serde::Serialize) -> ApiResult<Reply> {
        Ok(Reply { status: StatusCode::OK, body: Some(serde_json::to_value(v).map_err(|e| ApiError::Internal(e.to_string()))?), raw: None })
    }
    pub fn created(v: Value) -> ApiResult<Reply> {
        Ok(Reply { status: StatusCode::CREATED, body: Some(v), raw: None })
    }
    pub fn no_content() -> ApiResult<Reply> {
        Ok(Reply { status: StatusCode::NO_CONTENT, body: None, raw: None })
    }
}

impl Req {
    pub fn principal(&self) -> ApiResult<&Principal> {
        self.principal.as_ref().ok_or(ApiError::Unauthorized("sign in first"))
    }
    pub fn id(&self) -> i64 {
        self.id.unwrap_or(0)
    }
    pub fn query(&self, key: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
    pub fn query_i64(&self, key: &str) -> ApiResult<Option<i64>> {
        self.query(key).map(|v| v.parse().map_err(|_| ApiError::BadRequest(format!("query parameter {key} must be a whole number")))).transpose()
    }
    /// The body as a JSON object.
    pub fn object(&self) -> ApiResult<Map<String, Value>> {
        match &self.body {
            Some(Value::Object(m)) => Ok(m.clone()),
            _ => Err(ApiError::invalid("", "the body must be a JSON object")),
        }
    }
    /// The body as a typed value; unknown and missing fields are named in the error.
    pub fn parse<T: DeserializeOwned>(&self) -> ApiResult<T> {
        let v = self.body.clone().unwrap_or(Value::Null);
        serde_json::from_value(v).map_err(|e| {
            let msg = e.to_string();
            let field = msg.split('`').nth(1).filter(|_| msg.contains("field")).unwrap_or("").to_string();
            ApiError::Invalid { field, message: msg }
        })
    }
    /// Paging, search and filters from the query string.
    pub fn list_query(&self, skip: &[&str]) -> ApiResult<ListQuery> {
        let mut q = ListQuery { page: 1, per_page: 50, ..Default::default() };
        for (k, v) in &self.query {
            match k.as_str() {
                "page" => q.page = v.parse().map_err(|_| ApiError::BadRequest("page must be a positive whole number".into()))?,
                "per_page" => q.per_page = v.parse().map_err(|_| ApiError::BadRequest("per_page must be a positive whole number".into()))?,
                "q" => q.q = Some(v.clone()),
                k if skip.contains(&k) => {}
                _ => q.filters.push((k.clone(), v.clone())),
            }
        }
        Ok(q)
    }
    /// The one tenant a request is about: the caller's own, or the super admin's
    /// `?tenant_id=` (required then).
    pub fn tenant_of(&self) -> ApiResult<TenantId> {
        match self.principal()?.tenant {
            Some(t) => Ok(t),
            None => Ok(TenantId(self.query_i64("tenant_id")?.ok_or_else(|| ApiError::invalid("tenant_id", "required for super admins"))?)),
        }
    }
    /// For super admins, `?tenant_id=` narrows a list to one tenant.
    pub fn list_within(&self) -> ApiResult<Within> {
        match (self.grant.within, self.query_i64("tenant_id")?) {
            (Within::Everything, Some(t)) => Ok(Within::Tenant(TenantId(t))),
            (w, _) => Ok(w),
        }
    }
}

/// Read and write rules of each generic resource. A resource missing here fails the route
/// table's construction (and so every test).
fn resource_rules(r: &Resource) -> (Access, Access, Feature, &'static str) {
    use Access::*;
    let t = |tok| (Token(tok), Token(tok), Feature::Core, "PBX");
    let admin_pbx = (AdminToken(crate::access::Token::FpbxExtension), AdminToken(crate::access::Token::FpbxExtension), Feature::Core, "PBX");
    match r.name {
        "trunks" => (TenantAdmin, SuperAdmin, Feature::Core, "Routing"),
        "dids" => (TenantAdmin, SuperAdmin, Feature::Core, "Routing"),
        "extensions" => t(crate::access::Token::FpbxExtension),
        "inbound-routes" => t(crate::access::Token::InboundRoutes),
        "outbound-routes" => (admin_pbx.0, admin_pbx.1, Feature::Core, "Routing"),
        "ring-groups" => t(crate::access::Token::RingGroups),
        "ivr-menus" => t(crate::access::Token::IvrMenus),
        "call-queues" => t(crate::access::Token::CallQueues),
        "voicemail-boxes" => t(crate::access::Token::Voicemails),
        "conferences" => t(crate::access::Token::Conferences),
        "follow-me" => t(crate::access::Token::FollowMe),
        "time-conditions" | "call-flows" | "call-blocks" => admin_pbx,
        "moh-classes" => t(crate::access::Token::MusicOnHold),
        "device-profiles" | "devices" => t(crate::access::Token::Devices),
        "packages" => (SuperAdmin, SuperAdmin, Feature::Billing, "Billing"),
        "rate-plans" => (TenantAdmin, SuperAdmin, Feature::Billing, "Billing"),
        "announcements" => (TenantAdmin, TenantAdmin, Feature::Core, "Administration"),
        "branding" => (TenantAdmin, TenantAdmin, Feature::Branding, "Administration"),
        "tenants" => (SuperAdmin, SuperAdmin, Feature::MultiTenant, "Administration"),
        other => panic!("resource {other} has no access rules in api::router::resource_rules"),
    }
}

fn custom(method: Method, path: &str, access: Access, feature: Feature, tag: &'static str, summary: &str, body: BodyDoc, f: HandlerFn) -> Route {
    Route { method, path: format!("/api/v1{path}"), access, feature, summary: summary.into(), tag, handler: Handler::Custom(f), body }
}

pub static ROUTES: LazyLock<Vec<Route>> = LazyLock::new(build_routes);

fn build_routes() -> Vec<Route> {
    use handlers as h;
    use Access::*;
    use Feature::*;
    let m = |s: &str| Method::from_bytes(s.as_bytes()).expect("method");
    let mut routes = vec![
        custom(m("GET"), "/openapi.json", Public, Core, "Meta", "This document", BodyDoc::None, h::openapi),
        custom(
            m("POST"),
            "/auth/login",
            Public,
            Core,
            "Auth",
            "Sign in with email and password: access and refresh tokens",
            BodyDoc::Fields(h::LOGIN_DOC),
            h::login,
        ),
        custom(
            m("POST"),
            "/auth/refresh",
            Public,
            Core,
            "Auth",
            "A new access token for a refresh token",
            BodyDoc::Fields(h::REFRESH_DOC),
            h::refresh,
        ),
        custom(
            m("POST"),
            "/auth/change-password",
            Public,
            Core,
            "Auth",
            "Change a password with the current one (also when it has expired)",
            BodyDoc::Fields(h::CHANGE_PASSWORD_DOC),
            h::change_expired_password,
        ),
        custom(
            m("GET"),
            "/branding/public",
            Public,
            Branding,
            "Meta",
            "Branding for ?host= (the login page, before sign-in)",
            BodyDoc::None,
            h::public_branding,
        ),
        custom(m("GET"), "/me", User, Core, "My account", "The signed-in user, tenant and effective permissions", BodyDoc::None, h::me),
        custom(m("PATCH"), "/me", User, Core, "My account", "Change own name or fax delivery email", BodyDoc::Fields(h::ME_DOC), h::update_me),
        custom(m("POST"), "/me/password", User, Core, "My account", "Change own password", BodyDoc::Fields(h::PASSWORD_DOC), h::my_password),
        custom(m("GET"), "/me/extensions", User, Core, "My account", "Own extensions with SIP credentials", BodyDoc::None, h::my_extensions),
        custom(
            m("PATCH"),
            "/me/extensions/{id}",
            User,
            Core,
            "My account",
            "DND and call forwarding of an own extension",
            BodyDoc::Fields(h::MY_EXTENSION_DOC),
            h::update_my_extension,
        ),
        custom(
            m("GET"),
            "/me/dids",
            User,
            Core,
            "My account",
            "DIDs routed to own extensions (all of the tenant's for admins)",
            BodyDoc::None,
            h::my_dids,
        ),
        custom(m("GET"), "/me/queues", User, Core, "My account", "Call queues the user is an agent of", BodyDoc::None, h::my_queues),
        custom(
            m("GET"),
            "/me/announcements",
            User,
            Core,
            "My account",
            "Current announcements for the user's role and tenant",
            BodyDoc::None,
            h::my_announcements,
        ),
        custom(m("GET"), "/permissions", User, Core, "Administration", "Permission tokens, their parents and groups", BodyDoc::None, h::permissions),
        custom(m("GET"), "/feature-codes", User, Core, "PBX", "Star codes the switch honours", BodyDoc::None, h::feature_codes),
        custom(
            m("GET"),
            "/cdrs",
            User,
            Core,
            "Reports",
            "Call records, newest first (from, to, extension, direction, disposition, page, per_page); users see their own calls",
            BodyDoc::None,
            h::cdrs,
        ),
        custom(
            m("GET"),
            "/route/explain",
            AdminToken(crate::access::Token::FpbxExtension),
            Core,
            "Routing",
            "The path a call to ?number= would take (tenant_id for super admins unless the number is a DID; from; at = RFC 3339 time)",
            BodyDoc::None,
            h::route_explain,
        ),
        custom(m("GET"), "/cdrs.csv", User, Core, "Reports", "The same list as CSV (per_page up to 10,000)", BodyDoc::None, h::cdrs_csv),
        custom(
            m("GET"),
            "/quota",
            User,
            Core,
            "Billing",
            "Slot usage against the package, and period usage",
            BodyDoc::None,
            crate::api::money::quota,
        ),
        custom(
            m("GET"),
            "/activity",
            TenantAdmin,
            Core,
            "Administration",
            "Activity log (filters: from, to, user_id, tenant_id, action)",
            BodyDoc::None,
            h::activity,
        ),
        custom(
            m("GET"),
            "/users",
            TenantAdmin,
            Core,
            "Administration",
            "Users (filters: role, tenant_id; q searches email and name)",
            BodyDoc::None,
            h::list_users,
        ),
        custom(m("POST"), "/users", TenantAdmin, Core, "Administration", "Create a user", BodyDoc::Fields(h::USER_DOC), h::create_user),
        custom(m("GET"), "/users/{id}", TenantAdmin, Core, "Administration", "One user", BodyDoc::None, h::get_user),
        custom(m("PATCH"), "/users/{id}", TenantAdmin, Core, "Administration", "Change a user", BodyDoc::Fields(h::USER_DOC), h::update_user),
        custom(m("DELETE"), "/users/{id}", TenantAdmin, Core, "Administration", "Delete a user", BodyDoc::None, h::delete_user),
        custom(
            m("POST"),
            "/moh-classes/{id}/files",
            Token(crate::access::Token::MusicOnHold),
            Core,
            "PBX",
            "Upload an audio file (WAV or MP3) to a music-on-hold class: ?name=file.wav",
            BodyDoc::Binary(&["audio/wav", "audio/mpeg"]),
            h::upload_moh_file,
        ),
        custom(
            m("GET"),
            "/moh-classes/{id}/files",
            Token(crate::access::Token::MusicOnHold),
            Core,
            "PBX",
            "Files of a music-on-hold class",
            BodyDoc::None,
            h::moh_files,
        ),
        custom(
            m("DELETE"),
            "/moh-files/{id}",
            Token(crate::access::Token::MusicOnHold),
            Core,
            "PBX",
            "Delete a music-on-hold file",
            BodyDoc::None,
            h::delete_moh_file,
        ),
        custom(
            m("GET"),
            "/devices/{id}/provisioning",
            Token(crate::access::Token::Devices),
            Core,
            "PBX",
            "A device's provisioning URL, credentials, DHCP option 66 value and recent downloads",
            BodyDoc::None,
            super::provision::details,
        ),
        custom(
            m("POST"),
            "/devices/{id}/resync",
            Token(crate::access::Token::Devices),
            Core,
            "PBX",
            "Ask the device's registered lines to fetch their configuration again (check-sync NOTIFY)",
            BodyDoc::None,
            super::provision::resync,
        ),
        custom(m("GET"), "/tenants", SuperAdmin, Core, "Administration", "Tenants", BodyDoc::None, h::list_tenants),
        custom(
            m("POST"),
            "/tenants",
            SuperAdmin,
            MultiTenant,
            "Administration",
            "Create a tenant",
            BodyDoc::Resource(&res::TENANTS),
            h::create_tenant,
        ),
        custom(m("GET"), "/tenants/{id}", TenantAdmin, Core, "Administration", "One tenant (tenant admins: their own)", BodyDoc::None, h::get_tenant),
        custom(
            m("PATCH"),
            "/tenants/{id}",
            SuperAdmin,
            Core,
            "Administration",
            "Change a tenant",
            BodyDoc::Resource(&res::TENANTS),
            h::update_tenant,
        ),
        custom(
            m("DELETE"),
            "/tenants/{id}",
            SuperAdmin,
            MultiTenant,
            "Administration",
            "Delete a tenant and everything it owns",
            BodyDoc::None,
            h::delete_tenant,
        ),
        custom(
            m("GET"),
            "/subscriptions",
            SuperAdmin,
            Billing,
            "Billing",
            "Subscriptions, newest first (filter: tenant_id)",
            BodyDoc::None,
            h::subscriptions,
        ),
        custom(
            m("POST"),
            "/subscriptions",
            SuperAdmin,
            Billing,
            "Billing",
            "Subscribe a tenant to a package (the old subscription ends)",
            BodyDoc::Fields(h::SUBSCRIBE_DOC),
            h::subscribe,
        ),
        custom(
            m("GET"),
            "/credit",
            User,
            Billing,
            "Billing",
            "Credit balance, held and available (tenant_id for super admins)",
            BodyDoc::None,
            crate::api::money::credit,
        ),
        custom(
            m("GET"),
            "/payments",
            TenantAdmin,
            Billing,
            "Billing",
            "Payments, newest first (tenant_id for super admins, page, per_page)",
            BodyDoc::None,
            crate::api::money::payments,
        ),
        custom(
            m("POST"),
            "/payments",
            SuperAdmin,
            Billing,
            "Billing",
            "Record a payment: it raises the tenant's balance at once",
            BodyDoc::Fields(crate::api::money::PAYMENT_DOC),
            crate::api::money::pay,
        ),
        custom(
            m("GET"),
            "/ledger",
            TenantAdmin,
            Billing,
            "Billing",
            "Every balance change with the balance it left, newest first (kind, tenant_id, page, per_page)",
            BodyDoc::None,
            crate::api::money::ledger,
        ),
        custom(
            m("GET"),
            "/usage",
            TenantAdmin,
            Billing,
            "Billing",
            "Calls, answered, minutes and charges by local day (from, to: YYYY-MM-DD, default this month; tenant_id for super admins)",
            BodyDoc::None,
            crate::api::money::usage,
        ),
        custom(
            m("GET"),
            "/flagged-calls",
            TenantAdmin,
            Billing,
            "Billing",
            "Calls that ran on no credit under the flag policy, for review",
            BodyDoc::None,
            crate::api::money::flagged_calls,
        ),
        custom(
            m("GET"),
            "/channels",
            Token(crate::access::Token::Realtime),
            Core,
            "Realtime",
            "Live channels on the switch (caller, destination, duration, codec, uuid) and whether it is online",
            BodyDoc::None,
            super::realtime::channels,
        ),
        custom(
            m("POST"),
            "/channels/hangup",
            Token(crate::access::Token::Realtime),
            Core,
            "Realtime",
            "Hang up a live channel",
            BodyDoc::Fields(super::realtime::HANGUP_DOC),
            super::realtime::hangup,
        ),
        custom(
            m("POST"),
            "/channels/hold",
            Token(crate::access::Token::Realtime),
            Core,
            "Realtime",
            "Put a live channel on hold (hold: true) or take it off",
            BodyDoc::Fields(super::realtime::HOLD_DOC),
            super::realtime::hold,
        ),
        custom(
            m("POST"),
            "/channels/transfer",
            Token(crate::access::Token::Realtime),
            Core,
            "Realtime",
            "Blind-transfer a live channel to a number of its tenant",
            BodyDoc::Fields(super::realtime::TRANSFER_DOC),
            super::realtime::transfer,
        ),
        custom(
            m("GET"),
            "/registrations",
            Token(crate::access::Token::Realtime),
            Core,
            "Realtime",
            "SIP registrations on the switch",
            BodyDoc::None,
            super::realtime::registrations,
        ),
        custom(
            m("GET"),
            "/gateways",
            TenantAdmin,
            Core,
            "Realtime",
            "Trunks with their gateway's state (REGED…)",
            BodyDoc::None,
            super::realtime::gateways,
        ),
        Route {
            handler: Handler::Stream,
            ..custom(
                m("GET"),
                "/realtime/feed",
                Token(crate::access::Token::Realtime),
                Core,
                "Realtime",
                "Server-Sent Events: a snapshot, then every change (channels, registrations, gateways, switch state); ?access_token= for EventSource",
                BodyDoc::None,
                |_, _| Err(ApiError::Internal("a stream route has no handler".into())),
            )
        },
        custom(
            m("POST"),
            "/click-to-call",
            User,
            Core,
            "Realtime",
            "Ring an own extension; when it answers, call the number from it (202; the result arrives on the feed)",
            BodyDoc::Fields(super::realtime::CLICK_DOC),
            super::realtime::click_to_call,
        ),
    ];
    for r in res::ALL.iter().copied().filter(|r| r.name != "tenants") {
        let (read, write, feature, tag) = resource_rules(r);
        let base = format!("/api/v1/{}", r.name);
        let item = format!("{base}/{{id}}");
        let mk = |method: &str, path: &str, access, op, summary: String, body| Route {
            method: m(method),
            path: path.to_string(),
            access,
            feature,
            summary,
            tag,
            handler: Handler::Resource(r, op),
            body,
        };
        routes.push(mk("GET", &base, read, Op::List, format!("List {}s (paged: page, per_page, q, filters)", r.title), BodyDoc::None));
        routes.push(mk("POST", &base, write, Op::Create, format!("Create a {}", r.title), BodyDoc::Resource(r)));
        routes.push(mk("GET", &item, read, Op::Get, format!("One {}", r.title), BodyDoc::None));
        routes.push(mk(
            "PATCH",
            &item,
            write,
            Op::Update,
            format!("Change a {} (fields given are changed; lists are replaced)", r.title),
            BodyDoc::Resource(r),
        ));
        routes.push(mk("DELETE", &item, write, Op::Delete, format!("Delete a {}", r.title), BodyDoc::None));
    }
    routes
}

/// Finds the route for a method and path; the `{id}` segment must be a positive integer.
pub fn find(method: &Method, path: &str) -> ApiResult<(&'static Route, Option<i64>)> {
    let segs: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let mut path_matched = false;
    for r in ROUTES.iter() {
        let pat: Vec<&str> = r.path.split('/').collect();
        if pat.len() != segs.len() {
            continue;
        }
        let mut id = None;
        let ok = pat.iter().zip(&segs).all(|(p, s)| {
            if *p == "{id}" {
                id = s.parse::<i64>().ok().filter(|n| *n > 0);
                id.is_some()
            } else {
                p == s
            }
        });
        if ok {
            path_matched = true;
            if r.method == method {
                return Ok((r, id));
            }
        }
    }
    Err(if path_matched { ApiError::MethodNotAllowed } else { ApiError::NotFound })
}

/// The access check: 403 when the role or permission is missing; the grant otherwise.
pub fn authorize(access: Access, p: Option<&Principal>) -> ApiResult<Grant> {
    let Some(p) = p else {
        return if access == Access::Public {
            Ok(Grant { within: Within::Everything, owner: None, admin: false })
        } else {
            Err(ApiError::Unauthorized("sign in first: send Authorization: Bearer <access token>"))
        };
    };
    let own = |owner: Option<i64>, admin| -> ApiResult<Grant> {
        let t = p.tenant.ok_or_else(|| ApiError::forbidden("this account has no tenant"))?;
        Ok(Grant { within: Within::Tenant(t), owner, admin })
    };
    let denied = || Err(ApiError::forbidden("your role or permissions do not allow this"));
    if p.role == Role::SuperAdmin {
        return Ok(Grant { within: Within::Everything, owner: None, admin: true });
    }
    match access {
        Access::Public | Access::User => own(None, p.role == Role::TenantAdmin),
        Access::SuperAdmin => denied(),
        Access::TenantAdmin => match p.role {
            Role::TenantAdmin => own(None, true),
            _ => denied(),
        },
        Access::Token(t) => match p.role {
            Role::TenantAdmin if p.tenant_permissions.contains(&t) => own(None, true),
            Role::Agent | Role::EndUser if p.permissions.contains(&t) => own(Some(p.user_id), false),
            _ => denied(),
        },
        Access::AdminToken(t) => match p.role {
            Role::TenantAdmin if p.tenant_permissions.contains(&t) => own(None, true),
            _ => denied(),
        },
    }
}

/// Runs a request that [`admit`] let in and whose body is read (blocking: SQLite and
/// argon2 run here, on the blocking pool).
pub fn run(api: &Api, route: &'static Route, req: Req) -> ApiResult<Reply> {
    match route.handler {
        Handler::Custom(f) => f(api, &req),
        Handler::Resource(r, op) => {
            let reply = handlers::resource(api, &req, r, op)?;
            if r.name == "trunks" && op != Op::List && op != Op::Get {
                let id = match op {
                    Op::Create => reply.body.as_ref().and_then(|b| b["id"].as_i64()),
                    _ => req.id,
                };
                if let Some(id) = id {
                    api.live.trunk_changed(id, op != Op::Create);
                }
            }
            Ok(reply)
        }
        Handler::Stream => Err(ApiError::BadRequest("this route is a stream; it is served over HTTP only".into())),
    }
}

/// The route, the signed-in user and the access check: everything about a request but its
/// body, decided before a byte of the body is read, so that a stranger's upload is refused
/// without being kept (blocking: it reads the store). The body goes in with [`with_json`]
/// or [`Req::upload`]. `peer` is the client's address, counted against by the sign-in limits.
pub fn admit(api: &Api, method: &Method, path: &str, query: &str, bearer: Option<&str>, peer: Option<IpAddr>) -> ApiResult<(&'static Route, Req)> {
    let (route, id) = find(method, path)?;
    if api.cfg.community_edition && route.feature != Feature::Core {
        return Err(ApiError::NotFound);
    }
    let query = parse_query(query)?;
    let from_query = match route.handler {
        Handler::Stream => query.iter().find(|(k, _)| k == "access_token").map(|(_, v)| v.as_str()),
        _ => None,
    };
    let (principal, session) = match bearer.or(from_query) {
        Some(token) => {
            let (p, sid) = super::handlers::principal_for(api, token)?;
            (Some(p), Some(sid))
        }
        None => (None, None),
    };
    let grant = authorize(route.access, principal.as_ref())?;
    Ok((route, Req { principal, session, peer, grant, id, query, body: None, upload: None }))
}

/// Parses a JSON body into an admitted request (an empty body is none).
pub fn with_json(mut req: Req, body: &[u8]) -> ApiResult<Req> {
    if !body.is_empty() {
        req.body = Some(serde_json::from_slice::<Value>(body).map_err(|e| ApiError::invalid("", format!("the body is not valid JSON: {e}")))?);
    }
    Ok(req)
}

/// [`admit`] and [`with_json`] in one (requests without an upload).
pub fn prepare(
    api: &Api,
    method: &Method,
    path: &str,
    query: &str,
    bearer: Option<&str>,
    body: &Bytes,
    peer: Option<IpAddr>,
) -> ApiResult<(&'static Route, Req)> {
    let (route, req) = admit(api, method, path, query, bearer, peer)?;
    Ok((route, with_json(req, body)?))
}

/// `application/x-www-form-urlencoded` pairs; invalid UTF-8 after decoding is refused.
pub fn parse_query(q: &str) -> ApiResult<Vec<(String, String)>> {
    fn decode(s: &str) -> ApiResult<String> {
        let b = s.as_bytes();
        let mut out = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < b.len() => {
                    let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
                    out.push(hex.ok_or_else(|| ApiError::BadRequest("bad percent-encoding in the query string".into()))?);
                    i += 2;
                }
                b'%' => return Err(ApiError::BadRequest("bad percent-encoding in the query string".into())),
                c => out.push(c),
            }
            i += 1;
        }
        String::from_utf8(out).map_err(|_| ApiError::BadRequest("the query string is not UTF-8".into()))
    }
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            Ok((decode(k)?, decode(v)?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_resource_has_rules_and_routes_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for r in ROUTES.iter() {
            assert!(seen.insert((r.method.clone(), r.path.clone())), "duplicate route {} {}", r.method, r.path);
        }
        for r in res::ALL {
            if r.name != "tenants" {
                assert!(ROUTES.iter().any(|x| x.path == format!("/api/v1/{}", r.name)), "{}", r.name);
            }
        }
    }

    #[test]
    fn matching_takes_numeric_ids_only() {
        let (r, id) = find(&Method::GET, "/api/v1/extensions/12").unwrap();
        assert_eq!((r.path.as_str(), id), ("/api/v1/extensions/{id}", Some(12)));
        assert!(matches!(find(&Method::GET, "/api/v1/extensions/abc"), Err(ApiError::NotFound)));
        assert!(matches!(find(&Method::GET, "/api/v1/extensions/-1"), Err(ApiError::NotFound)));
        assert!(matches!(find(&Method::PUT, "/api/v1/extensions/1"), Err(ApiError::MethodNotAllowed)));
        assert!(matches!(find(&Method::GET, "/api/v1/nothing"), Err(ApiError::NotFound)));
    }

    #[test]
    fn query_strings_decode() {
        let q = parse_query("q=O%27Brien+%26+co&page=2&x").unwrap();
        assert_eq!(q, vec![("q".into(), "O'Brien & co".into()), ("page".into(), "2".into()), ("x".into(), "".into())]);
        assert!(parse_query("q=%ff%fe").is_err());
        assert!(parse_query("q=%4").is_err());
        assert!(parse_query("q=%").is_err());
    }
}
