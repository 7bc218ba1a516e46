//! Admission: who is asking and whether they may. The route is found, the access token
//! read and checked against the route's [`Access`] rule, all before a byte of the body is read.

use std::net::IpAddr;

use bytes::Bytes;
use serde_json::Value;
use warp::http::Method;

use crate::access::Role;
use crate::api::error::{ApiError, ApiResult};
use crate::store::accounts::Principal;
use crate::store::resource::Within;

use super::*;

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
            let (p, sid) = crate::api::handlers::principal_for(api, token)?;
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
