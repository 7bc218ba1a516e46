//! The realtime monitor's endpoints: live channels, registrations and gateways from the
//! control connection's model, the commands on a channel (hang up, hold, transfer),
//! click-to-call, and the live feed (Server-Sent Events).
//!
//! Scope: a tenant admin sees and touches only channels the model attributes to the tenant;
//! an agent or end user holding the `realtime` token only those of their own extensions. A
//! channel out of scope is "not found", exactly like one that does not exist.

use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::Arc;

use serde_json::{json, Value};

use super::error::{ApiError, ApiResult};
use super::router::{Access, Api, Grant, Reply, Req};
use crate::realtime::{Change, LiveChannel, LiveRegistration};
use crate::store::resource::Within;
use crate::store::TenantId;

/// What one signed-in user may see of the switch.
pub struct Viewer {
    within: Within,
    /// Extension numbers of an agent or end user (None: the whole scope).
    mine: Option<HashSet<String>>,
    admin: bool,
}

impl Viewer {
    pub fn of(api: &Api, req: &Req) -> ApiResult<Viewer> {
        Viewer::of_grant(api, req.grant)
    }

    fn of_grant(api: &Api, grant: Grant) -> ApiResult<Viewer> {
        let mine = match (grant.owner, grant.within) {
            (Some(user), Within::Tenant(t)) => Some(api.store.extensions_of_user(t, user)?.into_iter().map(|e| e.number).collect()),
            (Some(_), Within::Everything) => Some(HashSet::new()),
            (None, _) => None,
        };
        Ok(Viewer { within: grant.within, mine, admin: grant.admin })
    }

    fn tenant_ok(&self, t: Option<i64>) -> bool {
        match self.within {
            Within::Everything => true,
            Within::Tenant(TenantId(own)) => t == Some(own),
        }
    }

    pub fn sees_channel(&self, c: &LiveChannel) -> bool {
        self.tenant_ok(c.tenant_id) && self.mine.as_ref().is_none_or(|m| m.contains(&c.caller_number) || m.contains(&c.destination))
    }

    pub fn sees_registration(&self, r: &LiveRegistration) -> bool {
        self.tenant_ok(r.tenant_id) && self.mine.as_ref().is_none_or(|m| m.contains(&r.user))
    }

    /// Whether a change of the feed goes to this viewer; `sent` remembers the channels it
    /// was shown, so their end is shown too.
    fn sees(&self, c: &Change, sent: &mut HashSet<String>) -> bool {
        match c {
            Change::Channel { channel } => {
                let ok = self.sees_channel(channel);
                if ok {
                    sent.insert(channel.uuid.clone());
                }
                ok
            }
            Change::ChannelGone { uuid, .. } => sent.remove(uuid),
            Change::Registration { registration } => self.sees_registration(registration),
            Change::Unregistration { user, tenant_id, .. } => self.tenant_ok(*tenant_id) && self.mine.as_ref().is_none_or(|m| m.contains(user)),
            Change::Gateway { .. } => self.admin,
            Change::Reloaded | Change::Switch { .. } => true,
            // An agent's status the queue changed: the tenant's admins (the agent sees it
            // on their own status).
            Change::QueueAgent { tenant_id, .. } => self.tenant_ok(*tenant_id) && self.mine.is_none(),
            // A room: the tenant's admins, and a user whose phone is in it.
            Change::Conference { conference } => {
                self.tenant_ok(conference.tenant_id)
                    && self.mine.as_ref().is_none_or(|m| conference.members.iter().any(|x| m.contains(&x.caller_number)))
            }
            Change::ConferenceGone { tenant_id, .. } => self.tenant_ok(*tenant_id),
            Change::ClickToCall { tenant_id, extension, .. } => {
                self.tenant_ok(*tenant_id) && self.mine.as_ref().is_none_or(|m| m.contains(extension))
            }
        }
    }
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

fn channel_json(c: &LiveChannel, now: i64) -> Value {
    let mut v = serde_json::to_value(c).unwrap_or(Value::Null);
    v["duration"] = json!(if c.created_epoch > 0 { (now - c.created_epoch).max(0) } else { 0 });
    v
}

pub(crate) fn block<F: std::future::Future>(f: F) -> F::Output {
    // Handlers run on the blocking pool, inside the runtime's context.
    tokio::runtime::Handle::current().block_on(f)
}

/// GET /channels
pub fn channels(api: &Api, req: &Req) -> ApiResult<Reply> {
    let v = Viewer::of(api, req)?;
    let now = now();
    let items: Vec<Value> = api.live.channels().iter().filter(|c| v.sees_channel(c)).map(|c| channel_json(c, now)).collect();
    Reply::ok(json!({ "switch": api.live.state(), "items": items }))
}

/// GET /registrations
pub fn registrations(api: &Api, req: &Req) -> ApiResult<Reply> {
    let v = Viewer::of(api, req)?;
    let items: Vec<LiveRegistration> = api.live.registrations().into_iter().filter(|r| v.sees_registration(r)).collect();
    Reply::ok(json!({ "switch": api.live.state(), "items": items }))
}

/// GET /gateways: every trunk with its gateway's state (REGED, NOREG, FAIL_WAIT…) and status
/// (UP, DOWN: whether sofia sends calls to it) on the switch; `unknown` when the switch has
/// no such gateway yet, e.g. before a rescan.
pub fn gateways(api: &Api, _req: &Req) -> ApiResult<Reply> {
    let live = api.live.gateways();
    let items: Vec<Value> = api
        .store
        .gateway_rows()?
        .into_iter()
        .map(|t| {
            let g = live.iter().find(|g| g.trunk_id == Some(t.id));
            json!({
                "trunk_id": t.id,
                "trunk": t.name,
                "gateway": format!("trunk{}", t.id),
                "register": t.register,
                "active": t.active,
                "state": g.map(|g| g.state.as_str()).unwrap_or("unknown"),
                "status": g.map(|g| g.status.as_str()).filter(|s| !s.is_empty()).unwrap_or("unknown"),
            })
        })
        .collect();
    Reply::ok(json!({ "switch": api.live.state(), "items": items }))
}

/// A FreeSWITCH channel UUID: hex and dashes only (it goes into an api command).
fn uuid_field(req: &Req) -> ApiResult<String> {
    let body = req.object()?;
    let u = body.get("uuid").and_then(Value::as_str).ok_or_else(|| ApiError::invalid("uuid", "required"))?;
    if u.is_empty() || u.len() > 64 || !u.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return Err(ApiError::invalid("uuid", "not a channel UUID"));
    }
    Ok(u.to_string())
}

/// The channel a command names, when the caller may touch it.
fn controlled(api: &Api, req: &Req) -> ApiResult<LiveChannel> {
    let uuid = uuid_field(req)?;
    if !api.live.online() {
        return Err(ApiError::SwitchOffline);
    }
    let v = Viewer::of(api, req)?;
    match api.live.channel(&uuid) {
        Some(c) if v.sees_channel(&c) => Ok(c),
        _ => Err(ApiError::NotFound),
    }
}

/// The activity log line of a command on the switch.
fn audit(api: &Api, req: &Req, tenant: Option<i64>, action: &str, object: String, detail: Value) {
    super::handlers::audit(api, req.principal.as_ref(), tenant.map(TenantId), action, object, detail.to_string());
}

pub const HANGUP_DOC: &[(&str, &str, bool)] = &[("uuid", "string", true)];

/// POST /channels/hangup
pub fn hangup(api: &Api, req: &Req) -> ApiResult<Reply> {
    let c = controlled(api, req)?;
    block(api.live.api(&crate::esl::ApiCommand::UuidKill { uuid: c.uuid.clone(), cause: "NORMAL_CLEARING".into() }))?;
    audit(api, req, c.tenant_id, "hangup", format!("channels/{}", c.uuid), json!({ "caller": c.caller_number, "destination": c.destination }));
    Reply::ok(json!({ "uuid": c.uuid, "done": "hangup" }))
}

pub const HOLD_DOC: &[(&str, &str, bool)] = &[("uuid", "string", true), ("hold", "boolean", true)];

/// POST /channels/hold: `uuid_hold [off] <uuid>` (mod_commands.c uuid_hold_function).
pub fn hold(api: &Api, req: &Req) -> ApiResult<Reply> {
    let hold = req.object()?.get("hold").and_then(Value::as_bool).ok_or_else(|| ApiError::invalid("hold", "true or false"))?;
    let c = controlled(api, req)?;
    block(api.live.api(&crate::esl::ApiCommand::UuidHold { uuid: c.uuid.clone(), off: !hold }))?;
    audit(api, req, c.tenant_id, if hold { "hold" } else { "unhold" }, format!("channels/{}", c.uuid), json!({}));
    Reply::ok(json!({ "uuid": c.uuid, "held": hold }))
}

pub const TRANSFER_DOC: &[(&str, &str, bool)] = &[("uuid", "string", true), ("destination", "string", true)];

/// POST /channels/transfer: a blind transfer into the tenant's own dialplan context, so
/// the destination is routed by switchboard like any number a phone of the tenant dials.
pub fn transfer(api: &Api, req: &Req) -> ApiResult<Reply> {
    let dest =
        req.object()?.get("destination").and_then(Value::as_str).map(str::to_string).ok_or_else(|| ApiError::invalid("destination", "required"))?;
    if crate::pbx::dial::number(&dest).is_none() {
        return Err(ApiError::invalid("destination", "an extension or phone number (digits, a leading +, * and #)"));
    }
    let c = controlled(api, req)?;
    let tenant = c.tenant_id.ok_or(ApiError::NotFound)?;
    let domain = api.store.routing_tenant(TenantId(tenant))?.sip_domain;
    block(api.live.api(&crate::esl::ApiCommand::UuidTransfer { uuid: c.uuid.clone(), dest: dest.clone(), context: domain }))?;
    audit(api, req, c.tenant_id, "transfer", format!("channels/{}", c.uuid), json!({ "destination": dest }));
    Reply::ok(json!({ "uuid": c.uuid, "transferred_to": dest }))
}

pub const CLICK_DOC: &[(&str, &str, bool)] = &[("extension", "string", true), ("number", "string", true)];

/// POST /click-to-call: rings the extension; when it answers, FreeSWITCH sends that leg
/// into the tenant's dialplan at the number, which hands it to switchboard's socket: the
/// number is routed as if the extension had dialed it (outbound routes, caps and credit).
/// Answers 202 at once; the leg's result arrives on the live feed.
pub fn click_to_call(api: &Api, req: &Req) -> ApiResult<Reply> {
    let p = req.principal()?;
    let t = req.tenant_of()?;
    let body = req.object()?;
    let field =
        |k: &str| body.get(k).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).ok_or_else(|| ApiError::invalid(k, "required"));
    let (extension, number) = (field("extension")?.to_string(), field("number")?.to_string());
    if crate::pbx::dial::number(&number).is_none() {
        return Err(ApiError::invalid("number", "an extension or phone number (digits, a leading +, * and #)"));
    }
    let ext = match crate::pbx::dial::number(&extension) {
        Some(n) => api.store.extension_by_number(t, n)?,
        None => None,
    };
    let ext = ext.ok_or_else(|| ApiError::invalid("extension", "no such extension"))?;
    if !req.grant.admin && !api.store.extensions_of_user(t, p.user_id)?.iter().any(|e| e.id == ext.id) {
        return Err(ApiError::forbidden("click-to-call rings your own extension: this one is not yours"));
    }
    let tenant = api.store.routing_tenant(t)?;
    if !tenant.enabled {
        return Err(ApiError::forbidden("the tenant is disabled"));
    }
    if !api.live.online() {
        return Err(ApiError::SwitchOffline);
    }
    if !api.live.is_registered(&ext.number, &tenant.sip_domain) {
        return Err(ApiError::Conflict { field: Some("extension".into()), message: format!("extension {} is not registered", ext.number) });
    }
    // The phone rings showing the number it is about to call (it is checked: digits, +, *
    // and #). Once answered, the leg enters the tenant's dialplan and FreeSWITCH swaps its
    // caller and callee (switch_channel.c:3236–3309, switch_channel_flip_cid): whatever is
    // set here is not who calls. The router takes the caller from the directory's
    // effective_caller_id_name/number, which the user/ endpoint put on this leg, so the
    // record and the carrier see the extension (they saw "Outbound Call" from the phone's
    // contact user, `1001-0x…`).
    let var = |k: &str, v: &str| (k.to_string(), v.to_string());
    let cmd = crate::esl::ApiCommand::Originate {
        vars: vec![
            var("origination_caller_id_number", &number),
            var("origination_caller_id_name", &number),
            var("originate_timeout", "30"),
            var("ignore_early_media", "true"),
        ],
        endpoint: crate::pbx::dialstring::user(&ext.number, &tenant.sip_domain),
        dest: number.clone(),
        context: tenant.sip_domain.clone(),
    };
    let live = api.live.clone();
    let (ext_no, num) = (ext.number.clone(), number.clone());
    tokio::runtime::Handle::current().spawn(async move {
        let result = match live.bgapi(&cmd).await {
            Ok(r) => r.trim().to_string(),
            Err(e) => format!("-ERR {e}"),
        };
        tracing::info!(extension = %ext_no, number = %num, result = %result, "click-to-call leg");
        live.publish(Change::ClickToCall { tenant_id: Some(t.0), extension: ext_no, number: num, result });
    });
    audit(api, req, Some(t.0), "click_to_call", format!("extensions/{}", ext.id), json!({ "number": number }));
    Ok(Reply {
        status: warp::http::StatusCode::ACCEPTED,
        body: Some(json!({ "extension": ext.number, "number": number, "status": "ringing" })),
        raw: None,
    })
}

/// How often an open feed asks again whether its viewer may still watch.
const RECHECK: std::time::Duration = std::time::Duration::from_secs(2);

/// Who a feed was opened for, asked again every [`RECHECK`] while it streams: the checks at
/// its start are not enough for a stream that lasts hours.
#[derive(Clone)]
struct Watcher {
    api: Arc<Api>,
    user: i64,
    token_version: i64,
    session: String,
    access: Access,
}

impl Watcher {
    /// The viewer as it stands now (extensions and scope may have changed too), or `None`
    /// when the user was disabled, their tokens or session revoked, or their permission to
    /// watch taken away. A failure to read the store counts as a refusal: a feed that
    /// cannot be checked is not kept open (the browser's EventSource reconnects).
    async fn recheck(&self) -> Option<Viewer> {
        let w = self.clone();
        let viewer = tokio::task::spawn_blocking(move || -> ApiResult<Viewer> {
            let p = super::handlers::still_signed_in(&w.api, w.user, w.token_version, &w.session)?;
            let grant = super::router::authorize(w.access, Some(&p))?;
            Viewer::of_grant(&w.api, grant)
        })
        .await;
        match viewer {
            Ok(Ok(v)) => Some(v),
            Ok(Err(e)) => {
                tracing::info!(user = self.user, reason = %e, "realtime feed closed: its viewer may no longer watch");
                None
            }
            Err(e) => {
                tracing::error!(user = self.user, error = %e, "realtime feed re-check failed; closing it");
                None
            }
        }
    }
}

/// GET /realtime/feed: Server-Sent Events. First a `snapshot` (channels and registrations
/// the viewer may see, and the switch's state), then one event per change. While the
/// switch is offline the stream says so and ends; the browser's EventSource reconnects
/// after `retry`. EventSource cannot send headers, so the access token may come as
/// `?access_token=`. The viewer is checked again every [`RECHECK`]; the stream ends once
/// they may no longer watch. The access token's expiry is not one of those checks: the
/// page cannot hand an open EventSource a fresh token, and revocation (password change,
/// disabled account, revoked session, lost permission) is what must end the stream.
pub async fn feed(api: Arc<Api>, path: String, query: String, bearer: Option<String>) -> warp::reply::Response {
    use futures_util::StreamExt;
    use warp::Reply as _;
    // Subscribed before the snapshot is taken: nothing falls between the two (a change seen
    // twice is harmless, one missed would stay missed).
    let rx = api.live.subscribe();
    let prepared = {
        let api = api.clone();
        tokio::task::spawn_blocking(move || -> ApiResult<(Viewer, Value, Watcher)> {
            let (route, req) = super::router::prepare(&api, &warp::http::Method::GET, &path, &query, bearer.as_deref(), &Default::default(), None)?;
            let p = req.principal()?;
            let watcher = Watcher {
                api: api.clone(),
                user: p.user_id,
                token_version: p.token_version,
                session: req.session.clone().unwrap_or_default(),
                access: route.access,
            };
            let viewer = Viewer::of(&api, &req)?;
            let now = now();
            let channels: Vec<Value> = api.live.channels().iter().filter(|c| viewer.sees_channel(c)).map(|c| channel_json(c, now)).collect();
            let regs: Vec<LiveRegistration> = api.live.registrations().into_iter().filter(|r| viewer.sees_registration(r)).collect();
            Ok((viewer, json!({ "switch": api.live.state(), "channels": channels, "registrations": regs }), watcher))
        })
    };
    let (viewer, snapshot, watcher) = match prepared.await {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => return super::respond(Err(e)),
        Err(e) => return super::respond(Err(ApiError::Internal(e.to_string()))),
    };
    let sent: HashSet<String> = snapshot["channels"].as_array().into_iter().flatten().filter_map(|c| c["uuid"].as_str().map(String::from)).collect();
    let first = warp::sse::Event::default().event("snapshot").retry(std::time::Duration::from_secs(5)).json_data(&snapshot);
    let first = futures_util::stream::iter([first.map_err(|_| ()).ok()].into_iter().flatten().map(Ok::<_, Infallible>));
    if !api.live.online() {
        return warp::sse::reply(first).into_response();
    }
    let mut recheck = tokio::time::interval_at(tokio::time::Instant::now() + RECHECK, RECHECK);
    recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let state = (rx, viewer, sent, recheck, watcher);
    let changes = futures_util::stream::unfold(state, |(mut rx, mut viewer, mut sent, mut recheck, watcher)| async move {
        use tokio::sync::broadcast::error::RecvError;
        loop {
            let received = tokio::select! {
                r = rx.recv() => r,
                _ = recheck.tick() => {
                    viewer = watcher.recheck().await?;
                    continue;
                }
            };
            let ev = match received {
                Ok(c) if viewer.sees(&c, &mut sent) => {
                    let name = serde_json::to_value(&*c).ok().and_then(|v| v["type"].as_str().map(String::from)).unwrap_or_default();
                    warp::sse::Event::default().event(name).json_data(&*c).ok()
                }
                Ok(_) => None,
                // Fell behind: the page fetches the lists again.
                Err(RecvError::Lagged(_)) => warp::sse::Event::default().event("reloaded").json_data(json!({ "type": "reloaded" })).ok(),
                Err(RecvError::Closed) => return None,
            };
            if let Some(ev) = ev {
                return Some((Ok::<_, Infallible>(ev), (rx, viewer, sent, recheck, watcher)));
            }
        }
    });
    warp::sse::reply(warp::sse::keep_alive().stream(first.chain(changes))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on_break(tenant: i64) -> Change {
        Change::QueueAgent { tenant_id: Some(tenant), user_id: 3, queue_id: 1, status: "on_break".into(), reason: "2 offers not answered".into() }
    }

    #[test]
    fn an_agent_put_on_break_is_shown_to_the_tenant_s_admins_only() {
        let admin = Viewer { within: Within::Tenant(TenantId(1)), mine: None, admin: true };
        let agent = Viewer { within: Within::Tenant(TenantId(1)), mine: Some(HashSet::from(["1002".to_string()])), admin: false };
        let other = Viewer { within: Within::Tenant(TenantId(2)), mine: None, admin: true };
        let root = Viewer { within: Within::Everything, mine: None, admin: true };
        let mut sent = HashSet::new();
        assert!(admin.sees(&on_break(1), &mut sent));
        assert!(root.sees(&on_break(1), &mut sent));
        assert!(!agent.sees(&on_break(1), &mut sent));
        assert!(!other.sees(&on_break(1), &mut sent));
        let json = serde_json::to_value(on_break(1)).unwrap();
        assert_eq!((json["type"].as_str(), json["status"].as_str()), (Some("queue_agent"), Some("on_break")));
    }
}
