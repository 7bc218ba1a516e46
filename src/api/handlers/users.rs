//! Users of a tenant (and the super admin's): create, change, delete, with role and
//! allocation checks.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::sign_in::hash_bounded;
use super::{audit, own_tenant};
use crate::access::{self, Role};
use crate::api::error::{ApiError, ApiResult};
use crate::api::router::{Api, Reply, Req};
use crate::store::accounts::{NewUser, Principal, UserChanges};
use crate::store::billing::Slot;
use crate::store::resource::Within;
use crate::store::{resources as res, validate, TenantId};

// ---- users -------------------------------------------------------------------------------

pub const USER_DOC: &[(&str, &str, bool)] = &[
    ("email", "string", true),
    ("name", "string", true),
    ("role", "string", true),
    ("tenant_id", "integer", false),
    ("password", "string", true),
    ("permissions", "array", false),
    ("fax_email", "string", false),
    ("enabled", "boolean", false),
    ("allocations", "object", false),
];

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct UserBody {
    email: Option<String>,
    name: Option<String>,
    role: Option<String>,
    tenant_id: Option<i64>,
    password: Option<String>,
    permissions: Option<Vec<String>>,
    fax_email: Option<String>,
    enabled: Option<bool>,
    allocations: Option<BTreeMap<String, i64>>,
}

pub(super) fn checked_name(n: &str) -> ApiResult<String> {
    let n = validate::line(n, 100).map_err(|m| ApiError::invalid("name", m))?;
    if n.trim().is_empty() {
        return Err(ApiError::invalid("name", "must not be empty"));
    }
    Ok(n)
}

pub(super) fn checked_fax_email(e: &str) -> ApiResult<String> {
    if e.is_empty() {
        return Ok(String::new());
    }
    validate::email(e).map_err(|m| ApiError::invalid("fax_email", m))
}

fn checked_allocations(a: &BTreeMap<String, i64>) -> ApiResult<BTreeMap<Slot, i64>> {
    a.iter()
        .map(|(k, v)| {
            let slot = Slot::parse(k).ok_or_else(|| ApiError::invalid(&format!("allocations.{k}"), "unknown slot"))?;
            if *v < 0 {
                return Err(ApiError::invalid(&format!("allocations.{k}"), "must not be negative"));
            }
            Ok((slot, *v))
        })
        .collect()
}

fn checked_role(p: &Principal, role: &str) -> ApiResult<Role> {
    let r = Role::parse(role).ok_or_else(|| ApiError::invalid("role", "must be one of: super_admin, tenant_admin, agent, end_user"))?;
    if r == Role::SuperAdmin && p.role != Role::SuperAdmin {
        return Err(ApiError::forbidden("only a super admin can make super admins"));
    }
    Ok(r)
}

pub fn list_users(api: &Api, req: &Req) -> ApiResult<Reply> {
    let q = req.list_query(&["tenant_id"])?;
    Reply::ok(api.store.users(req.list_within()?, &q)?)
}

pub fn get_user(api: &Api, req: &Req) -> ApiResult<Reply> {
    Reply::ok(api.store.user(req.grant.within, req.id())?)
}

pub fn create_user(api: &Api, req: &Req) -> ApiResult<Reply> {
    let p = req.principal()?;
    let b: UserBody = req.parse()?;
    let mut errors = Vec::new();
    let mut need = |name: &str, v: &Option<String>| {
        if v.is_none() {
            errors.push((name.to_string(), "required".to_string()));
        }
    };
    need("email", &b.email);
    need("name", &b.name);
    need("role", &b.role);
    need("password", &b.password);
    if !errors.is_empty() {
        return Err(ApiError::Fields(errors));
    }
    let role = checked_role(p, b.role.as_deref().unwrap_or(""))?;
    let tenant = match (p.role, role, b.tenant_id) {
        (Role::SuperAdmin, Role::SuperAdmin, None) => None,
        (Role::SuperAdmin, Role::SuperAdmin, Some(_)) => return Err(ApiError::invalid("tenant_id", "super admins have no tenant")),
        (Role::SuperAdmin, _, Some(t)) => Some(TenantId(t)),
        (Role::SuperAdmin, _, None) => return Err(ApiError::invalid("tenant_id", "required for this role")),
        (_, _, Some(t)) if Some(TenantId(t)) != p.tenant => return Err(ApiError::forbidden("users can only be created in your own tenant")),
        _ => Some(own_tenant(p)?),
    };
    if let Some(t) = tenant {
        api.store.get(&res::TENANTS, Within::Everything, None, t.0).map_err(|_| ApiError::invalid("tenant_id", "no such tenant"))?;
    }
    let email = validate::email(b.email.as_deref().unwrap_or("")).map_err(|m| ApiError::invalid("email", m))?;
    let password = b.password.unwrap_or_default();
    api.cfg.password_policy.check(&password).map_err(|m| ApiError::invalid("password", m))?;
    let requested = access::parse_tokens(b.permissions.iter().flatten().map(String::as_str)).map_err(|m| ApiError::invalid("permissions", m))?;
    let password_hash = hash_bounded(api, &password)?;
    let new = NewUser {
        tenant,
        email,
        name: checked_name(b.name.as_deref().unwrap_or(""))?,
        role,
        password_hash,
        permissions: access::cascade(&Default::default(), &requested),
        fax_email: checked_fax_email(b.fax_email.as_deref().unwrap_or(""))?,
    };
    let allocations = checked_allocations(&b.allocations.unwrap_or_default())?;
    let u = api.store.create_user(&new, &allocations)?;
    if b.enabled == Some(false) {
        api.store.update_user(Within::Everything, u.id, &UserChanges { enabled: Some(false), ..Default::default() })?;
    }
    audit(api, Some(p), tenant, "create", format!("users/{}", u.id), format!("role {}", role.as_str()));
    Reply::created(serde_json::to_value(api.store.user(Within::Everything, u.id)?).map_err(|e| ApiError::Internal(e.to_string()))?)
}

pub fn update_user(api: &Api, req: &Req) -> ApiResult<Reply> {
    let p = req.principal()?;
    let b: UserBody = req.parse()?;
    let before = api.store.user(req.grant.within, req.id())?;
    if b.tenant_id.is_some_and(|t| Some(t) != before.tenant_id) {
        return Err(ApiError::invalid("tenant_id", "users cannot move between tenants"));
    }
    let ch = UserChanges {
        email: b.email.as_deref().map(|e| validate::email(e).map_err(|m| ApiError::invalid("email", m))).transpose()?,
        name: b.name.as_deref().map(checked_name).transpose()?,
        role: b.role.as_deref().map(|r| checked_role(p, r)).transpose()?,
        permissions: b
            .permissions
            .as_ref()
            .map(|l| access::parse_tokens(l.iter().map(String::as_str)).map_err(|m| ApiError::invalid("permissions", m)))
            .transpose()?,
        fax_email: b.fax_email.as_deref().map(checked_fax_email).transpose()?,
        enabled: b.enabled,
        allocations: b.allocations.as_ref().map(checked_allocations).transpose()?,
    };
    if ch.enabled == Some(false) && before.id == p.user_id {
        return Err(ApiError::Conflict { field: Some("enabled".into()), message: "you cannot disable your own account".into() });
    }
    let pw = b.password.map(|pw| api.cfg.password_policy.check(&pw).map(|_| pw).map_err(|m| ApiError::invalid("password", m))).transpose()?;
    let mut u = api.store.update_user(req.grant.within, req.id(), &ch)?;
    if let Some(pw) = pw {
        api.store.set_password(u.id, &hash_bounded(api, &pw)?)?;
        u = api.store.user(Within::Everything, u.id)?;
    }
    let mut changed: Vec<&str> = Vec::new();
    if let Some(Value::Object(m)) = &req.body {
        changed.extend(m.keys().map(String::as_str));
    }
    audit(api, Some(p), before.tenant_id.map(TenantId), "update", format!("users/{}", u.id), changed.join(","));
    Reply::ok(u)
}

pub fn delete_user(api: &Api, req: &Req) -> ApiResult<Reply> {
    let p = req.principal()?;
    if req.id() == p.user_id {
        api.store.user(req.grant.within, req.id())?;
        return Err(ApiError::Conflict { field: None, message: "you cannot delete your own account".into() });
    }
    let u = api.store.delete_user(req.grant.within, req.id())?;
    audit(api, Some(p), u.tenant_id.map(TenantId), "delete", format!("users/{}", u.id), u.email.clone());
    Reply::no_content()
}
