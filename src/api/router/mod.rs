//! The route table: every `/api/v1` endpoint with its access rule, as data.
//!
//! One table drives three things that must agree: the dispatcher, the OpenAPI document and
//! the authorisation matrix test. A route cannot be added without an [`Access`] rule (the
//! field is not optional), and the matrix walks this same table, so a new route is tested for
//! every role the moment it exists. (warp is the HTTP shell around it: a hundred `.or()`ed
//! filters would give the same routing at a large compile-time cost and no table to test.)
//!
//! Here: the shared types (the state handlers get, access rules, routes, requests,
//! replies). The table itself is in `table` (and `table_billing_live`); finding and running
//! a route in `dispatch`; the access check and admission of a request in `admission`.

mod admission;
mod dispatch;
mod table;
mod table_billing_live;

pub use admission::*;
pub use dispatch::*;
pub use table::*;

use std::net::IpAddr;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use warp::http::{Method, StatusCode};

use super::error::{ApiError, ApiResult};
use crate::access::Token;
use crate::config::Config;
use crate::store::accounts::Principal;
use crate::store::resource::{ListQuery, Within};
use crate::store::{Resource, Store, TenantId};

/// Everything a handler may use.
pub struct Api {
    pub store: Store,
    pub keys: super::auth::Keys,
    pub cfg: Arc<Config>,
    /// The live switch: channels, registrations, gateways and the way to command it.
    pub live: crate::realtime::Live,
    /// Limits on password checks: per client address, and argon2 checks at once.
    pub sign_in: super::throttle::SignInGuard,
    /// The call queues the calls run on (agents' states, callers waiting).
    pub acd: crate::acd::Acd,
}

impl Api {
    pub fn new(store: Store, keys: super::auth::Keys, cfg: Arc<Config>, live: crate::realtime::Live) -> Api {
        let sign_in = super::throttle::SignInGuard::new(&cfg.sign_in);
        Api { store, keys, cfg, live, sign_in, acd: crate::acd::Acd::default() }
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

/// How many first bytes of an upload [`Upload::head`] keeps: enough for a WAV whose
/// format chunk comes after others (JUNK, LIST) to be read (`pbx::audio`).
pub const UPLOAD_HEAD: usize = 512;

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
    /// A date query parameter (`YYYY-MM-DD`), or `default` when absent.
    pub fn query_date(&self, key: &str, default: jiff::civil::Date) -> ApiResult<jiff::civil::Date> {
        match self.query(key) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| ApiError::invalid(key, "must be a date (YYYY-MM-DD)")),
        }
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
