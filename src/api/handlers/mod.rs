//! Request handlers: the happy paths. Access was checked before they run (router::authorize);
//! the [`Grant`](super::router::Grant) they receive decides which tenant's rows they touch.
//!
//! One file per API area (`meta` public answers, `sign_in`, `me` the own account,
//! `records` call records and the activity log, `users`, `tenants`, `resources` the
//! generic CRUD routes, `media` music-on-hold files and recordings), all re-exported here: the route table
//! names handlers as `handlers::x`. This file keeps what they share: the signed-in principal,
//! sessions and tokens, and the activity log entry.

mod me;
mod media;
mod meta;
pub(crate) mod records;
mod resources;
mod sign_in;
mod tenants;
mod users;

pub use me::*;
pub use media::*;
pub use meta::*;
pub use records::*;
pub use resources::*;
pub use sign_in::*;
pub use tenants::*;
pub use users::*;

use serde_json::{json, Map, Value};

use super::auth::TokenKind;
use super::error::{ApiError, ApiResult};
use super::router::Api;
use crate::access::{self, Role, Token};
use crate::store::accounts::Principal;
use crate::store::activity::Entry;
use crate::store::TenantId;

// ---- tokens ------------------------------------------------------------------------------

/// The user behind an access token, and the session it was issued in, read fresh: a
/// disabled user, a bumped token version (password changed, account disabled) or a revoked
/// session is refused at once.
pub fn principal_for(api: &Api, token: &str) -> ApiResult<(Principal, String)> {
    let claims = api.keys.verify(token, TokenKind::Access).ok_or_else(revoked)?;
    let id: i64 = claims.sub.parse().map_err(|_| revoked())?;
    let p = still_signed_in(api, id, claims.ver, &claims.sid)?;
    Ok((p, claims.sid))
}

/// User `id` as signed in with token version `ver` in session `sid`, while all of it still
/// holds: enabled, same version, session live. The live feed asks again as it streams.
pub fn still_signed_in(api: &Api, id: i64, ver: i64, sid: &str) -> ApiResult<Principal> {
    let p = api.store.principal(id)?.ok_or_else(revoked)?;
    if !p.enabled || p.token_version != ver || !api.store.session_live(sid, id)? {
        return Err(revoked());
    }
    Ok(p)
}

fn revoked() -> ApiError {
    ApiError::Unauthorized("the token is invalid, expired or revoked; sign in again")
}

/// A time as the store keeps it (RFC 3339, whole seconds, UTC).
fn stamp(t: jiff::Timestamp) -> String {
    t.round(jiff::Unit::Second).unwrap_or(t).to_string()
}

fn secs_from_now(secs: u64) -> String {
    stamp(jiff::Timestamp::now() + jiff::SignedDuration::from_secs(secs.min(i64::MAX as u64 / 2) as i64))
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Signs `p` in: a new session (a family of refresh tokens) and its first tokens.
fn new_session(api: &Api, p: &Principal) -> ApiResult<Value> {
    let (sid, refresh_id) = (new_id(), new_id());
    api.store.create_session(&sid, p.user_id, &refresh_id, &secs_from_now(api.cfg.refresh_token_secs))?;
    Ok(tokens_reply(api, p, &sid, &refresh_id))
}

/// An access token and the refresh token `refresh_id` (the one the session will take next).
fn tokens_reply(api: &Api, p: &Principal, sid: &str, refresh_id: &str) -> Value {
    json!({
        "access_token": api.keys.issue(p, TokenKind::Access, api.cfg.access_token_secs, sid, &new_id()),
        "refresh_token": api.keys.issue(p, TokenKind::Refresh, api.cfg.refresh_token_secs, sid, refresh_id),
        "token_type": "Bearer",
        "expires_in": api.cfg.access_token_secs,
        "user": { "id": p.user_id, "email": p.email, "role": p.role, "tenant_id": p.tenant, "permissions": access::names(&effective(p)) },
    })
}

/// What a user may use: tenant admins act with the tenant's tokens, other users with theirs.
fn effective(p: &Principal) -> access::Tokens {
    match p.role {
        Role::SuperAdmin => Token::ALL.into_iter().collect(),
        Role::TenantAdmin => p.tenant_permissions.clone(),
        _ => p.permissions.clone(),
    }
}

pub(crate) fn audit(api: &Api, p: Option<&Principal>, tenant: Option<TenantId>, action: &str, object: String, detail: String) {
    let e = Entry {
        user_id: p.map(|p| p.user_id),
        user_email: p.map(|p| p.email.as_str()).unwrap_or(""),
        tenant: tenant.or(p.and_then(|p| p.tenant)),
        action,
        object,
        detail,
    };
    if let Err(err) = api.store.log(&e) {
        tracing::error!(%err, action, "writing the activity log");
    }
}

fn parse_time(s: &str) -> Option<jiff::Timestamp> {
    s.parse().ok()
}

/// The tenant of a user who must have one (403 for the super admin).
pub(crate) fn own_tenant(p: &Principal) -> ApiResult<TenantId> {
    p.tenant.ok_or_else(|| ApiError::forbidden("this account has no tenant"))
}

/// The fields a body names, for the activity log.
fn field_names(body: &Map<String, Value>) -> String {
    body.keys().map(String::as_str).collect::<Vec<_>>().join(",")
}
