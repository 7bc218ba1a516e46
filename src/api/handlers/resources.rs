//! The generic resource routes: who may create or change what in the store's generic
//! CRUD engine (tenant of a new row, own follow-me, branding hosts, super-admin-only fields).

use serde_json::{json, Map, Value};

use super::{audit, field_names, own_tenant};
use crate::access::Role;
use crate::api::error::{ApiError, ApiResult};
use crate::api::router::{Api, Op, Reply, Req};
use crate::store::accounts::Principal;
use crate::store::branding;
use crate::store::resource::{Actor, Within};
use crate::store::{resources as res, Resource, Scope, TenantId};

// ---- generic resources -------------------------------------------------------------------

fn body_tenant(body: &Map<String, Value>) -> ApiResult<Option<i64>> {
    match body.get("tenant_id") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_i64().map(Some).ok_or_else(|| ApiError::invalid("tenant_id", "must be a whole number")),
    }
}

/// Decides the tenant of a new object: a tenant user's own, or the one a super admin names.
fn tenant_for_create(api: &Api, req: &Req, r: &Resource, p: &Principal, body: &mut Map<String, Value>) -> ApiResult<Option<TenantId>> {
    let named = body_tenant(body)?;
    let tenant = match (p.tenant, named) {
        (Some(own), Some(t)) if t != own.0 => return Err(ApiError::forbidden("objects can only be created in your own tenant")),
        (Some(own), _) => Some(own),
        (None, Some(t)) => Some(TenantId(t)),
        (None, None) => req.query_i64("tenant_id")?.map(TenantId),
    };
    match r.scope {
        Scope::Global => Ok(None),
        Scope::Tenant => {
            body.remove("tenant_id");
            let t = tenant.ok_or_else(|| ApiError::invalid("tenant_id", "required: which tenant the object belongs to"))?;
            api.store.get(&res::TENANTS, Within::Everything, None, t.0).map_err(|_| ApiError::invalid("tenant_id", "no such tenant"))?;
            Ok(Some(t))
        }
        Scope::Assignable => {
            if let Some(t) = tenant {
                body.insert("tenant_id".into(), json!(t.0));
            }
            Ok(tenant)
        }
    }
}

/// A non-admin's follow-me must be for an extension assigned to them.
fn check_own_extension(api: &Api, p: &Principal, r: &Resource, body: &Map<String, Value>) -> ApiResult<()> {
    if r.name != res::FOLLOW_ME.name {
        return Ok(());
    }
    if let Some(ext) = body.get("extension_id").and_then(Value::as_i64) {
        if !api.store.extensions_of_user(own_tenant(p)?, p.user_id)?.iter().any(|e| e.id == ext) {
            return Err(ApiError::invalid("extension_id", "not one of your extensions"));
        }
    }
    Ok(())
}

/// A branding row's host name: a tenant admin's must be of the tenant's own SIP domain, and
/// the installation's host names carry only the system's row (store/branding.rs).
fn check_branding_host(api: &Api, p: &Principal, r: &Resource, body: &Map<String, Value>, current: Option<&Value>) -> ApiResult<()> {
    if r.name != res::BRANDING.name {
        return Ok(());
    }
    let writer = match (p.role, p.tenant) {
        (Role::SuperAdmin, _) => branding::Writer::SuperAdmin,
        (_, Some(t)) => branding::Writer::TenantAdmin(t),
        (_, None) => return Err(ApiError::forbidden("branding belongs to a tenant or to the super admin")),
    };
    let field = |k: &str| body.get(k).or_else(|| current.and_then(|c| c.get(k)));
    let tenant = field("tenant_id").and_then(Value::as_i64).map(TenantId);
    let host = field("hostname").and_then(Value::as_str);
    let was = current.and_then(|c| c["hostname"].as_str());
    api.store.check_branding_host(writer, tenant, host, was, &branding::installation_hosts(&api.cfg.public_url))?;
    Ok(())
}

/// Fields only the super admin writes, refused by name for anyone else; a value sent back
/// unchanged (`current`: the row being updated; none on create) is let through untouched.
fn check_super_admin_fields(p: &Principal, r: &Resource, body: &mut Map<String, Value>, current: Option<&Value>) -> ApiResult<()> {
    if p.role == Role::SuperAdmin {
        return Ok(());
    }
    let mut refused = Vec::new();
    for f in r.fields.iter().filter(|f| f.super_admin) {
        let Some(v) = body.get(f.name) else { continue };
        if *v == current.map_or(Value::Null, |c| c[f.name].clone()) {
            body.remove(f.name);
        } else {
            refused.push((f.name.to_string(), "set by the super admin only".to_string()));
        }
    }
    if refused.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Fields(refused))
    }
}

pub fn resource(api: &Api, req: &Req, r: &'static Resource, op: Op) -> ApiResult<Reply> {
    let p = req.principal()?;
    let g = req.grant;
    let object = |v: &Value| format!("{}/{}", r.name, v["id"].as_i64().unwrap_or(0));
    let tenant_of = |v: &Value| v["tenant_id"].as_i64().map(TenantId);
    match op {
        Op::List => Reply::ok(api.store.list(r, req.list_within()?, g.owner, &req.list_query(&["tenant_id"])?)?),
        Op::Get => Reply::ok(api.store.get(r, g.within, g.owner, req.id())?),
        Op::Create => {
            let mut body = req.object()?;
            check_super_admin_fields(p, r, &mut body, None)?;
            let tenant = tenant_for_create(api, req, r, p, &mut body)?;
            check_branding_host(api, p, r, &body, None)?;
            if !g.admin {
                check_own_extension(api, p, r, &body)?;
            }
            let actor = Actor { user_id: p.user_id, admin: g.admin, enforce_packages: !api.cfg.community_edition };
            let v = api.store.create(r, tenant, &actor, &body)?;
            audit(api, Some(p), tenant_of(&v).or(tenant), "create", object(&v), field_names(&body));
            Reply::created(v)
        }
        Op::Update => {
            let mut body = req.object()?;
            if r.fields.iter().any(|f| f.super_admin && body.contains_key(f.name)) {
                let current = api.store.get(r, g.within, g.owner, req.id())?;
                check_super_admin_fields(p, r, &mut body, Some(&current))?;
            }
            if let Some(t) = body_tenant(&body)? {
                match (r.scope, p.tenant) {
                    (Scope::Assignable, Some(own)) if own.0 != t => return Err(ApiError::forbidden("objects can only belong to your own tenant")),
                    (Scope::Tenant, _) => {
                        let current = api.store.get(r, g.within, g.owner, req.id())?;
                        if current["tenant_id"].as_i64() != Some(t) {
                            return Err(ApiError::invalid("tenant_id", "objects cannot move between tenants"));
                        }
                        body.remove("tenant_id");
                    }
                    _ => {}
                }
            }
            if r.name == res::BRANDING.name {
                let current = api.store.get(r, g.within, g.owner, req.id())?;
                check_branding_host(api, p, r, &body, Some(&current))?;
            }
            if !g.admin {
                check_own_extension(api, p, r, &body)?;
            }
            let v = api.store.update(r, g.within, g.owner, req.id(), &body)?;
            audit(api, Some(p), tenant_of(&v), "update", object(&v), field_names(&body));
            Reply::ok(v)
        }
        Op::Delete => {
            let v = api.store.delete(r, g.within, g.owner, req.id())?;
            if r.name == res::MOH_CLASSES.name {
                // The rows went with the class (ON DELETE CASCADE); the audio goes too.
                let _ = std::fs::remove_dir_all(api.cfg.data_dir.join(format!("moh/{}/{}", v["tenant_id"], req.id())));
            }
            audit(api, Some(p), tenant_of(&v), "delete", object(&v), String::new());
            Reply::no_content()
        }
    }
}
