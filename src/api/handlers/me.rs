//! The signed-in user's own account: profile, password, extensions, numbers, queues,
//! announcements, permissions and the star codes they can dial.

use serde::Deserialize;
use serde_json::{json, Value};

use super::sign_in::{prove_password, set_new_password, Proof};
use super::users::{checked_fax_email, checked_name};
use super::{audit, effective, field_names, new_session, own_tenant};
use crate::access::{self, Role, Token};
use crate::api::error::{ApiError, ApiResult};
use crate::api::router::{Api, Reply, Req};
use crate::store::accounts::UserChanges;
use crate::store::resource::Within;
use crate::store::resources as res;

// ---- my account --------------------------------------------------------------------------

pub fn me(api: &Api, req: &Req) -> ApiResult<Reply> {
    let p = req.principal()?;
    let user = api.store.user(Within::Everything, p.user_id)?;
    let tenant = match p.tenant {
        Some(t) => {
            let v = api.store.get(&res::TENANTS, Within::Everything, None, t.0)?;
            json!({ "id": t.0, "company": v["company"], "sip_domain": v["sip_domain"], "timezone": v["timezone"] })
        }
        None => Value::Null,
    };
    Reply::ok(json!({
        "user": user,
        "tenant": tenant,
        "effective_permissions": access::names(&effective(p)),
        "community_edition": api.cfg.community_edition,
    }))
}

pub const ME_DOC: &[(&str, &str, bool)] = &[("name", "string", false), ("fax_email", "string", false)];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MeBody {
    name: Option<String>,
    fax_email: Option<String>,
}

pub fn update_me(api: &Api, req: &Req) -> ApiResult<Reply> {
    let p = req.principal()?;
    let b: MeBody = req.parse()?;
    let ch = UserChanges {
        name: b.name.map(|n| checked_name(&n)).transpose()?,
        fax_email: b.fax_email.map(|e| checked_fax_email(&e)).transpose()?,
        ..Default::default()
    };
    let u = api.store.update_user(Within::Everything, p.user_id, &ch)?;
    audit(api, Some(p), None, "update", format!("users/{}", p.user_id), "own account".into());
    Reply::ok(u)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordBody {
    current_password: String,
    new_password: String,
}

pub fn my_password(api: &Api, req: &Req) -> ApiResult<Reply> {
    let p = req.principal()?;
    let b: PasswordBody = req.parse()?;
    // Guessing the current password here is guessing it at sign-in: the same limits, the
    // same counter.
    if let Proof::Wrong = prove_password(api, req, &p.email, &b.current_password)? {
        return Err(ApiError::invalid("current_password", "is not the current password"));
    }
    set_new_password(api, p.user_id, &b.current_password, &b.new_password)?;
    audit(api, Some(p), None, "password_change", format!("users/{}", p.user_id), String::new());
    // The old tokens are revoked; hand out new ones so the session goes on.
    let p = api.store.principal(p.user_id)?.ok_or(ApiError::NotFound)?;
    Reply::ok(new_session(api, &p)?)
}

pub fn my_extensions(api: &Api, req: &Req) -> ApiResult<Reply> {
    let p = req.principal()?;
    let Some(t) = p.tenant else { return Reply::ok(json!({ "items": [] })) };
    let domain = api.store.get(&res::TENANTS, Within::Everything, None, t.0)?["sip_domain"].clone();
    let mut items = Vec::new();
    for own in api.store.extensions_of_user(t, p.user_id)? {
        let mut e = api.store.get(&res::EXTENSIONS, Within::Tenant(t), None, own.id)?;
        e["sip_domain"] = domain.clone();
        items.push(e);
    }
    Reply::ok(json!({ "items": items }))
}

pub const MY_EXTENSION_DOC: &[(&str, &str, bool)] =
    &[("dnd", "boolean", false), ("forward_always", "string", false), ("forward_busy", "string", false), ("forward_no_answer", "string", false)];

pub fn update_my_extension(api: &Api, req: &Req) -> ApiResult<Reply> {
    let p = req.principal()?;
    let t = own_tenant(p)?;
    if !api.store.extensions_of_user(t, p.user_id)?.iter().any(|e| e.id == req.id()) {
        return Err(ApiError::NotFound);
    }
    let body = req.object()?;
    if let Some(k) = body.keys().find(|k| !MY_EXTENSION_DOC.iter().any(|(n, _, _)| n == k)) {
        return Err(ApiError::invalid(k, "not changeable from My Account"));
    }
    let v = api.store.update(&res::EXTENSIONS, Within::Tenant(t), None, req.id(), &body)?;
    audit(api, Some(p), Some(t), "update", format!("extensions/{}", req.id()), field_names(&body));
    Reply::ok(v)
}

pub fn my_dids(api: &Api, req: &Req) -> ApiResult<Reply> {
    let p = req.principal()?;
    let Some(t) = p.tenant else { return Reply::ok(json!({ "items": [] })) };
    let mine = api.store.extensions_of_user(t, p.user_id)?;
    let items: Vec<Value> = api
        .store
        .dids_with_routes(t)?
        .into_iter()
        .filter(|d| {
            p.role == Role::TenantAdmin
                || matches!(d["destination"]["type"].as_str(), Some("extension" | "fax"))
                    && d["destination"]["id"].as_i64().is_some_and(|id| mine.iter().any(|e| e.id == id))
        })
        .collect();
    Reply::ok(json!({ "items": items }))
}

pub fn my_queues(api: &Api, req: &Req) -> ApiResult<Reply> {
    let p = req.principal()?;
    let Some(t) = p.tenant else { return Reply::ok(json!({ "items": [] })) };
    let items = api
        .store
        .queues_of_agent(t, p.user_id)?
        .into_iter()
        .map(|id| {
            api.store.get(&res::CALL_QUEUES, Within::Tenant(t), None, id).map(|q| json!({ "id": q["id"], "name": q["name"], "number": q["number"] }))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Reply::ok(json!({ "items": items }))
}

pub fn my_announcements(api: &Api, req: &Req) -> ApiResult<Reply> {
    let p = req.principal()?;
    Reply::ok(json!({ "items": api.store.announcements_for(p.tenant, p.role, &crate::store::now())? }))
}

pub fn permissions(api: &Api, req: &Req) -> ApiResult<Reply> {
    let p = req.principal()?;
    let held = match p.tenant {
        Some(t) => api.store.tenant_permissions(t)?,
        None => Token::ALL.into_iter().collect(),
    };
    let items: Vec<Value> = Token::ALL
        .iter()
        .map(|t| json!({ "token": t.as_str(), "title": t.title(), "parent": t.parent().map(|p| p.as_str()), "group": t.group(), "held_by_tenant": held.contains(t) }))
        .collect();
    Reply::ok(json!({ "items": items }))
}

/// Star codes the routing honours (src/call/features.rs); call flow toggles are listed from
/// the tenant's call flows; the in-call codes (*1, *2, *4) are read during a bridge
/// (docs/in-call-features.md).
pub const FEATURE_CODES: &[(&str, &str)] = &[
    ("*98", "Check voicemail"),
    ("*72", "Call forward: enable (then the number)"),
    ("*73", "Call forward: disable"),
    ("*78", "Do not disturb: enable"),
    ("*79", "Do not disturb: disable"),
    ("*411", "Directory: dial by name"),
    ("*8", "Call pickup: answer the call that has rung longest"),
    ("*50", "Call queues: log in (available for queue calls)"),
    ("*51", "Call queues: log out"),
    ("*52", "Call queues: take a break (logged in, offered nothing)"),
    ("*1", "During a call: start or stop recording it"),
    ("*2", "During a call: blind transfer (then the number and #)"),
    ("*4", "During a call: attended transfer (then the number and #; hang up to complete)"),
];

pub fn feature_codes(api: &Api, req: &Req) -> ApiResult<Reply> {
    let p = req.principal()?;
    let mut items: Vec<Value> = FEATURE_CODES.iter().map(|(c, d)| json!({ "code": c, "description": d })).collect();
    if let Some(t) = p.tenant {
        let q = crate::store::ListQuery { page: 1, per_page: crate::store::resource::MAX_PER_PAGE, ..Default::default() };
        for f in api.store.list(&res::CALL_FLOWS, Within::Tenant(t), None, &q)?.items {
            items.push(json!({ "code": format!("*{}", f["feature_code"].as_str().unwrap_or("")), "description": format!("Toggle call flow {} (day/night)", f["name"].as_str().unwrap_or("")) }));
        }
    }
    Reply::ok(json!({ "items": items }))
}
