//! Request handlers: the happy paths. Access was checked before they run (router::authorize);
//! the [`Grant`](super::router::Grant) they receive decides which tenant's rows they touch.

use std::collections::BTreeMap;
use std::time::Instant;

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::auth::{self, TokenKind};
use super::error::{ApiError, ApiResult};
use super::router::{Api, Op, Reply, Req};
use super::throttle;
use crate::access::{self, Role, Token};
use crate::store::accounts::{Attempt, Credentials, NewUser, Principal, Rotation, UserChanges};
use crate::store::activity::{Entry, Filter};
use crate::store::billing::Slot;
use crate::store::branding;
use crate::store::resource::{Actor, Within};
use crate::store::{resources as res, validate, Resource, Scope, TenantId};

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

// ---- auth --------------------------------------------------------------------------------

pub const LOGIN_DOC: &[(&str, &str, bool)] = &[("email", "string", true), ("password", "string", true)];
pub const REFRESH_DOC: &[(&str, &str, bool)] = &[("refresh_token", "string", true)];
pub const CHANGE_PASSWORD_DOC: &[(&str, &str, bool)] =
    &[("email", "string", true), ("current_password", "string", true), ("new_password", "string", true)];
pub const PASSWORD_DOC: &[(&str, &str, bool)] = &[("current_password", "string", true), ("new_password", "string", true)];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Login {
    email: String,
    password: String,
}

/// The outcome of [`prove_password`] when it was checked.
enum Proof {
    Right(Credentials),
    Wrong,
}

/// Proves `password` for the account `email` from the request's address, through every
/// limit in turn (docs/security.md): the address's budget of failures (429), the account's
/// lock for this address, counted before the check so that parallel guesses cannot outrun
/// it (423), and the bound on argon2 checks at once (503). An unknown account goes the same
/// way, a dummy verification included, so that neither the answers nor their cost tell
/// which accounts exist; a lock earned from one address does not lock out another.
fn prove_password(api: &Api, req: &Req, email: &str, password: &str) -> ApiResult<Proof> {
    let policy = &api.cfg.password_policy;
    let guard = &api.sign_in;
    // The email as typed is the lock's key (the store compares it as it compares users'
    // emails); it is client text, so it is capped.
    let email: String = email.trim().chars().take(320).collect();
    let addr = throttle::address_key(req.peer);
    guard.addresses.take(&addr, Instant::now()).map_err(|wait| ApiError::TooManyAttempts(wait.as_secs_f64().ceil() as u64))?;
    let give_back = || guard.addresses.give_back(&addr, Instant::now());
    let now = jiff::Timestamp::now();
    let lock_end = stamp(now + jiff::SignedDuration::from_mins(policy.lockout_minutes as i64));
    let threshold = policy.lockout_threshold as i64;
    let number = match api.store.reserve_attempt(&email, &addr, threshold, &stamp(now), &lock_end) {
        Ok(Attempt::Counted(n)) => n,
        Ok(Attempt::Locked(until)) => {
            audit_attempt(api, &email, &addr, "locked: not checked");
            return Err(ApiError::Locked(until));
        }
        Err(e) => {
            give_back();
            return Err(e.into());
        }
    };
    let checked = guard.checks.run(|| -> ApiResult<(Option<Credentials>, bool)> {
        Ok(match api.store.credentials(&email)? {
            Some(c) => {
                let right = auth::verify_password(password, &c.password_hash);
                (Some(c), right)
            }
            None => {
                auth::burn_verification();
                (None, false)
            }
        })
    });
    let (found, right) = match checked {
        Ok(Ok(v)) => v,
        // Never checked: the attempt is not held against anyone.
        unchecked => {
            if let Err(e) = api.store.attempt_returned(&email, &addr) {
                tracing::error!(error = %e, "giving back a sign-in attempt that was not checked");
            }
            give_back();
            return Err(match unchecked {
                Ok(Err(e)) => e,
                _ => ApiError::Busy(1),
            });
        }
    };
    match found {
        Some(c) if right => {
            api.store.attempt_succeeded(&email, &addr, number)?;
            give_back();
            Ok(Proof::Right(c))
        }
        _ => {
            let locked = api.store.attempt_failed(&email, &addr, threshold, &lock_end)?;
            let what = if found.is_some() { "wrong password" } else { "unknown email" };
            audit_attempt(api, &email, &addr, &if locked.is_some() { format!("{what}; locked") } else { what.to_string() });
            match locked {
                Some(until) => Err(ApiError::Locked(until)),
                None => Ok(Proof::Wrong),
            }
        }
    }
}

/// A failed or refused password proof in the activity log: under the user (and their
/// tenant) when the account exists, under the email as typed when not.
fn audit_attempt(api: &Api, email: &str, addr: &str, what: &str) {
    let (tenant, object) = match api.store.credentials(email) {
        Ok(Some(c)) => (c.tenant_id.map(TenantId), format!("users/{}", c.id)),
        _ => (None, format!("email:{}", email.chars().take(100).collect::<String>())),
    };
    audit(api, None, tenant, "login_failed", object, format!("{what}; address {addr}"));
}

/// Checks email and password ([`prove_password`]), then that the account is enabled and
/// its password not expired; the user's id. Unknown email and wrong password answer alike.
fn check_credentials(api: &Api, req: &Req, email: &str, password: &str, allow_expired: bool) -> ApiResult<i64> {
    let policy = &api.cfg.password_policy;
    let c = match prove_password(api, req, email, password)? {
        Proof::Right(c) => c,
        Proof::Wrong => return Err(ApiError::Unauthorized("wrong email or password")),
    };
    if !c.enabled {
        return Err(ApiError::forbidden("this account is disabled"));
    }
    if policy.max_age_days > 0 && !allow_expired {
        let now = jiff::Timestamp::now();
        let changed = parse_time(&c.password_changed_at).unwrap_or(now);
        if now.duration_since(changed) > jiff::SignedDuration::from_hours(24 * policy.max_age_days as i64) {
            return Err(ApiError::PasswordExpired);
        }
    }
    Ok(c.id)
}

pub fn login(api: &Api, req: &Req) -> ApiResult<Reply> {
    let b: Login = req.parse()?;
    let id = check_credentials(api, req, &b.email, &b.password, false)?;
    let p = api.store.principal(id)?.ok_or(ApiError::Unauthorized("wrong email or password"))?;
    audit(api, Some(&p), None, "login", format!("users/{id}"), String::new());
    Reply::ok(new_session(api, &p)?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Refresh {
    refresh_token: String,
}

/// Rotates: the refresh token is spent and a new one comes with the access token. A spent
/// refresh token presented again means it was copied: the whole session is revoked, so
/// neither its holder nor the thief can go on with it.
pub fn refresh(api: &Api, req: &Req) -> ApiResult<Reply> {
    let b: Refresh = req.parse()?;
    let bad = || ApiError::Unauthorized("the refresh token is invalid, expired or revoked; sign in again");
    let claims = api.keys.verify(&b.refresh_token, TokenKind::Refresh).ok_or_else(bad)?;
    let id: i64 = claims.sub.parse().map_err(|_| bad())?;
    let p = api.store.principal(id)?.ok_or_else(bad)?;
    if !p.enabled || p.token_version != claims.ver {
        return Err(bad());
    }
    let next = new_id();
    match api.store.rotate_session(&claims.sid, id, &claims.jti, &next, &secs_from_now(api.cfg.refresh_token_secs))? {
        Rotation::Rotated => Reply::ok(tokens_reply(api, &p, &claims.sid, &next)),
        Rotation::Reused => {
            tracing::warn!(user = id, session = %claims.sid, "a spent refresh token was presented again: the session is revoked");
            audit(api, Some(&p), None, "session_revoked", format!("users/{id}"), "a spent refresh token was presented again".into());
            Err(bad())
        }
        Rotation::Gone => Err(bad()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeExpired {
    email: String,
    current_password: String,
    new_password: String,
}

fn set_new_password(api: &Api, user: i64, current: &str, new: &str) -> ApiResult<()> {
    api.cfg.password_policy.check(new).map_err(|m| ApiError::invalid("new_password", m))?;
    if current == new {
        return Err(ApiError::invalid("new_password", "must differ from the current password"));
    }
    api.store.set_password(user, &hash_bounded(api, new)?)?;
    Ok(())
}

/// An argon2 hash, computed in one of the password check slots: hashing costs what
/// checking does.
fn hash_bounded(api: &Api, pw: &str) -> ApiResult<String> {
    api.sign_in.checks.run(|| auth::hash_password(pw)).map_err(|_| ApiError::Busy(1))
}

pub fn change_expired_password(api: &Api, req: &Req) -> ApiResult<Reply> {
    let b: ChangeExpired = req.parse()?;
    let id = check_credentials(api, req, &b.email, &b.current_password, true)?;
    set_new_password(api, id, &b.current_password, &b.new_password)?;
    let p = api.store.principal(id)?.ok_or(ApiError::NotFound)?;
    audit(api, Some(&p), None, "password_change", format!("users/{id}"), String::new());
    Reply::ok(new_session(api, &p)?)
}

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

fn own_tenant(p: &Principal) -> ApiResult<TenantId> {
    p.tenant.ok_or_else(|| ApiError::forbidden("this account has no tenant"))
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
        .map(|t| json!({ "token": t.as_str(), "parent": t.parent().map(|p| p.as_str()), "group": t.group(), "held_by_tenant": held.contains(t) }))
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

// ---- route explain -----------------------------------------------------------------------

pub fn route_explain(api: &Api, req: &Req) -> ApiResult<Reply> {
    let number = req.query("number").ok_or_else(|| ApiError::invalid("number", "required"))?;
    let tenant = match req.grant.within {
        Within::Tenant(t) => Some(t),
        Within::Everything => req.query_i64("tenant_id")?.map(TenantId),
    };
    let at = match req.query("at") {
        Some(v) => v.parse::<jiff::Timestamp>().map_err(|_| ApiError::invalid("at", "must be an RFC 3339 time, e.g. 2026-11-18T15:00:00Z"))?,
        None => jiff::Timestamp::now(),
    };
    Reply::ok(crate::call::explain::explain(&api.store, tenant, number, req.query("from"), at)?)
}

// ---- call records ------------------------------------------------------------------------

/// The CDR list for this request; `flagged_only` for the admins' review list.
pub(crate) fn cdr_page(api: &Api, req: &Req, max_per_page: i64, flagged_only: bool) -> ApiResult<crate::store::Page> {
    let p = req.principal()?;
    let own_extensions = match (p.role, p.tenant) {
        (Role::Agent | Role::EndUser, Some(t)) => Some(api.store.extensions_of_user(t, p.user_id)?.into_iter().map(|e| e.number).collect()),
        _ => None,
    };
    let f = crate::store::cdr::CdrFilter {
        from: req.query("from").map(String::from),
        to: req.query("to").map(String::from),
        extension: req.query("extension").map(String::from),
        direction: req.query("direction").map(String::from),
        disposition: req.query("disposition").map(String::from),
        own_extensions,
        flagged: flagged_only || matches!(req.query("flagged"), Some("true" | "1")),
        page: req.query_i64("page")?.unwrap_or(1).clamp(1, u32::MAX as i64) as u32,
        per_page: req.query_i64("per_page")?.unwrap_or(50).clamp(1, max_per_page) as u32,
    };
    Ok(api.store.cdrs(req.list_within()?, &f)?)
}

pub fn cdrs(api: &Api, req: &Req) -> ApiResult<Reply> {
    Reply::ok(cdr_page(api, req, 500, false)?)
}

/// One CSV field: quoted when it holds a separator, quote or newline; a text cell that a
/// spreadsheet would run as a formula (`=`, `@`, `-`, `+` followed by a letter…) gets a
/// leading `'` — caller names come from strangers.
fn csv_field(v: &Value) -> String {
    let s = match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let formula =
        s.starts_with(['=', '@', '\t', '\r']) || ((s.starts_with('+') || s.starts_with('-')) && !s[1..].chars().all(|c| c.is_ascii_digit()));
    let s = if formula { format!("'{s}") } else { s };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

pub fn cdrs_csv(api: &Api, req: &Req) -> ApiResult<Reply> {
    let page = cdr_page(api, req, 10_000, false)?;
    let cols = crate::store::cdr::CDR_COLUMNS;
    let mut out = cols.join(",");
    out.push_str("\r\n");
    for row in &page.items {
        let line: Vec<String> = cols.iter().map(|c| csv_field(&row[*c])).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    Ok(Reply { status: warp::http::StatusCode::OK, body: None, raw: Some(("text/csv; charset=utf-8", out.into_bytes())) })
}

pub fn activity(api: &Api, req: &Req) -> ApiResult<Reply> {
    let f = Filter {
        from: req.query("from").map(String::from),
        to: req.query("to").map(String::from),
        user_id: req.query_i64("user_id")?,
        tenant_id: if req.grant.within == Within::Everything { req.query_i64("tenant_id")? } else { None },
        action: req.query("action").map(String::from),
        object: req.query("object").map(String::from),
        page: req.query_i64("page")?.unwrap_or(1).clamp(1, u32::MAX as i64) as u32,
        per_page: req.query_i64("per_page")?.unwrap_or(50).clamp(1, 500) as u32,
    };
    Reply::ok(api.store.activity(req.grant.within, &f)?)
}

pub fn public_branding(api: &Api, req: &Req) -> ApiResult<Reply> {
    let host = req.query("host").ok_or_else(|| ApiError::invalid("host", "required"))?;
    let host = validate::hostname(host).map_err(|m| ApiError::invalid("host", m))?;
    let installation = branding::is_installation_host(&host, &branding::installation_hosts(&api.cfg.public_url));
    let b = api
        .store
        .public_branding(&host, installation)?
        .unwrap_or_else(|| json!({ "title": "switchboard", "logo": "", "login_background": "", "favicon": "", "footer": "", "support_email": "" }));
    Reply::ok(b)
}

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

fn checked_name(n: &str) -> ApiResult<String> {
    let n = validate::line(n, 100).map_err(|m| ApiError::invalid("name", m))?;
    if n.trim().is_empty() {
        return Err(ApiError::invalid("name", "must not be empty"));
    }
    Ok(n)
}

fn checked_fax_email(e: &str) -> ApiResult<String> {
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

// ---- generic resources -------------------------------------------------------------------

fn field_names(body: &Map<String, Value>) -> String {
    body.keys().map(String::as_str).collect::<Vec<_>>().join(",")
}

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

// ---- music on hold files -----------------------------------------------------------------

/// What an upload's first bytes say it is (the name's extension must agree).
fn audio_kind(b: &[u8]) -> Option<&'static str> {
    if b.len() >= 12 && &b[0..4] == b"RIFF" && &b[8..12] == b"WAVE" {
        Some("wav")
    } else if b.starts_with(b"ID3") || (b.len() >= 2 && b[0] == 0xFF && b[1] & 0xE0 == 0xE0) {
        Some("mp3")
    } else {
        None
    }
}

/// The class, if the caller may use it (404 otherwise, also for another tenant's).
fn moh_class(api: &Api, req: &Req, id: i64) -> ApiResult<(TenantId, Value)> {
    let class = api.store.get(&res::MOH_CLASSES, req.grant.within, req.grant.owner, id)?;
    let t = TenantId(class["tenant_id"].as_i64().ok_or_else(|| ApiError::Internal("class without tenant".into()))?);
    Ok((t, class))
}

pub fn upload_moh_file(api: &Api, req: &Req) -> ApiResult<Reply> {
    let p = req.principal()?;
    let (tenant, _) = moh_class(api, req, req.id())?;
    let name = req.query("name").ok_or_else(|| ApiError::invalid("name", "required: ?name=file.wav"))?;
    let ok_name = name.len() <= 100 && !name.starts_with('.') && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if !ok_name {
        return Err(ApiError::invalid("name", "must be a file name of letters, digits, - _ and ."));
    }
    let upload = req.upload.as_ref().ok_or_else(|| ApiError::invalid("body", "the file is missing"))?;
    let kind = audio_kind(&upload.head).ok_or_else(|| ApiError::invalid("body", "not a WAV or MP3 file"))?;
    if !name.to_ascii_lowercase().ends_with(&format!(".{kind}")) {
        return Err(ApiError::invalid("name", format!("the content is {kind}: the name must end in .{kind}")));
    }
    let rel = format!("{}/{}/{}/{name}", crate::data_dir::MOH, tenant.0, req.id());
    let path = api.cfg.data_dir.join(&rel);
    let io = |e: std::io::Error| ApiError::Internal(format!("{}: {e}", path.display()));
    std::fs::create_dir_all(path.parent().expect("a parent")).map_err(io)?;
    // The row first: a duplicate name is refused before anything replaces the old file (the
    // upload's temporary file goes with the request).
    let f = api.store.add_moh_file(tenant, req.id(), name, &rel, upload.len as i64)?;
    // The upload was streamed into the data directory's own tmp/, so this is a rename (the
    // temporary file's own clean-up then finds nothing to remove).
    std::fs::rename(upload.file.path(), &path).map_err(io)?;
    // FreeSWITCH plays it, perhaps as another user: the upload's directories and file are
    // made readable (the umask made them owner-only).
    crate::data_dir::share_moh(&api.cfg.data_dir).map_err(io)?;
    audit(api, Some(p), Some(tenant), "upload", format!("moh-files/{}", f.id), format!("{name} ({} bytes)", f.bytes));
    Reply::created(serde_json::to_value(f).map_err(|e| ApiError::Internal(e.to_string()))?)
}

pub fn moh_files(api: &Api, req: &Req) -> ApiResult<Reply> {
    let (tenant, _) = moh_class(api, req, req.id())?;
    Reply::ok(json!({ "items": api.store.moh_files(tenant, req.id())? }))
}

pub fn delete_moh_file(api: &Api, req: &Req) -> ApiResult<Reply> {
    let p = req.principal()?;
    let f = api.store.moh_file(req.grant.within, req.id())?;
    let (tenant, _) = moh_class(api, req, f.class_id)?;
    api.store.delete_moh_file(Within::Tenant(tenant), f.id)?;
    let _ = std::fs::remove_file(api.cfg.data_dir.join(&f.stored_as));
    audit(api, Some(p), Some(tenant), "delete", format!("moh-files/{}", f.id), f.file_name.clone());
    Reply::no_content()
}

pub fn openapi(_api: &Api, _req: &Req) -> ApiResult<Reply> {
    Reply::ok(super::openapi::document())
}
