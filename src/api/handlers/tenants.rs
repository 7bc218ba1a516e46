//! Tenants (with the permission cascade) and their package subscriptions.

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{audit, field_names};
use crate::access::{self};
use crate::api::error::{ApiError, ApiResult};
use crate::api::router::{Api, Reply, Req};
use crate::store::resource::{Actor, Within};
use crate::store::{resources as res, TenantId};

// ---- tenants -----------------------------------------------------------------------------

/// Applies the permission cascade to a tenant body's `permissions` (against what it held).
fn cascade_body(body: &mut Map<String, Value>, before: &access::Tokens) -> ApiResult<()> {
    if let Some(v) = body.get("permissions") {
        let names: Vec<&str> =
            v.as_array().ok_or_else(|| ApiError::invalid("permissions", "must be a list"))?.iter().filter_map(Value::as_str).collect();
        let requested = access::parse_tokens(names).map_err(|m| ApiError::invalid("permissions", m))?;
        body.insert("permissions".into(), json!(access::names(&access::cascade(before, &requested))));
    }
    Ok(())
}

pub fn list_tenants(api: &Api, req: &Req) -> ApiResult<Reply> {
    Reply::ok(api.store.list(&res::TENANTS, Within::Everything, None, &req.list_query(&[])?)?)
}

pub fn create_tenant(api: &Api, req: &Req) -> ApiResult<Reply> {
    let p = req.principal()?;
    let mut body = req.object()?;
    cascade_body(&mut body, &Default::default())?;
    let v = api.store.create(&res::TENANTS, None, &Actor { user_id: p.user_id, admin: true, enforce_packages: false }, &body)?;
    let id = v["id"].as_i64().unwrap_or(0);
    audit(api, Some(p), Some(TenantId(id)), "create", format!("tenants/{id}"), field_names(&body));
    Reply::created(v)
}

pub fn get_tenant(api: &Api, req: &Req) -> ApiResult<Reply> {
    if let Within::Tenant(t) = req.grant.within {
        if t.0 != req.id() {
            return Err(ApiError::NotFound);
        }
    }
    Reply::ok(api.store.get(&res::TENANTS, Within::Everything, None, req.id())?)
}

pub fn update_tenant(api: &Api, req: &Req) -> ApiResult<Reply> {
    let p = req.principal()?;
    let t = TenantId(req.id());
    let mut body = req.object()?;
    let before = api.store.tenant_permissions(t)?;
    cascade_body(&mut body, &before)?;
    let v = api.store.update(&res::TENANTS, Within::Everything, None, t.0, &body)?;
    if body.contains_key("permissions") {
        api.store.prune_user_permissions(t)?;
    }
    audit(api, Some(p), Some(t), "update", format!("tenants/{}", t.0), field_names(&body));
    Reply::ok(v)
}

pub fn delete_tenant(api: &Api, req: &Req) -> ApiResult<Reply> {
    let p = req.principal()?;
    let v = api.store.delete(&res::TENANTS, Within::Everything, None, req.id())?;
    audit(api, Some(p), None, "delete", format!("tenants/{}", req.id()), v["company"].as_str().unwrap_or("").to_string());
    Reply::no_content()
}

// ---- billing -----------------------------------------------------------------------------

pub const SUBSCRIBE_DOC: &[(&str, &str, bool)] = &[("tenant_id", "integer", true), ("package_id", "integer", true)];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Subscribe {
    tenant_id: i64,
    package_id: i64,
}

pub fn subscriptions(api: &Api, req: &Req) -> ApiResult<Reply> {
    Reply::ok(json!({ "items": api.store.subscriptions(req.query_i64("tenant_id")?.map(TenantId))? }))
}

pub fn subscribe(api: &Api, req: &Req) -> ApiResult<Reply> {
    let p = req.principal()?;
    let b: Subscribe = req.parse()?;
    api.store.get(&res::TENANTS, Within::Everything, None, b.tenant_id).map_err(|_| ApiError::invalid("tenant_id", "no such tenant"))?;
    let s = api.store.subscribe(TenantId(b.tenant_id), b.package_id)?;
    audit(api, Some(p), Some(TenantId(b.tenant_id)), "subscribe", format!("subscriptions/{}", s.id), format!("package {}", s.package));
    Reply::created(serde_json::to_value(s).map_err(|e| ApiError::Internal(e.to_string()))?)
}
