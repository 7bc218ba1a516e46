//! Call queues seen and worked live: an agent's own status (log in, break, log out, as the
//! phone's star codes do), and the queue monitor (callers waiting, agents' states, today's
//! figures) from the engine every call shares. Agents see the queues they belong to; a
//! tenant admin all of the tenant's.

use serde::Deserialize;
use serde_json::{json, Value};

use super::error::{ApiError, ApiResult};
use super::handlers::{audit, own_tenant};
use super::router::{Api, Reply, Req};
use crate::acd::{State, Status};
use crate::store::resource::Within;
use crate::store::TenantId;

pub const STATUS_DOC: &[(&str, &str, bool)] = &[("status", "logged_out | available | on_break", true)];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusBody {
    status: String,
}

/// What an agent is doing: the engine's view once it has met the agent, else the choice
/// the store keeps (an agent nobody has called since a restart).
fn agent_state(api: &Api, user: i64, stored: &str) -> (String, u64) {
    match api.acd.state(user) {
        Some((s, since)) => (s.as_str().to_string(), since.as_secs()),
        None => (State::from(Status::parse(stored).unwrap_or(Status::LoggedOut)).as_str().to_string(), 0),
    }
}

/// `GET /queues/me`: the signed-in user's status and the queues they answer (none for a
/// super admin, who belongs to no tenant).
pub fn my_status(api: &Api, req: &Req) -> ApiResult<Reply> {
    let p = req.principal()?;
    let Some(t) = p.tenant else {
        return Reply::ok(json!({ "status": "logged_out", "state": "logged_out", "in_state_secs": 0, "queues": [] }));
    };
    let stored = api.store.agent_status(p.user_id)?;
    let (state, secs) = agent_state(api, p.user_id, &stored);
    let queues: Vec<Value> = api
        .store
        .queues_of_agent(t, p.user_id)?
        .into_iter()
        .filter_map(|id| api.store.call_queue(t, id).ok())
        .map(|q| json!({ "id": q.id, "name": q.name, "number": q.number }))
        .collect();
    Reply::ok(json!({ "status": stored, "state": state, "in_state_secs": secs, "queues": queues }))
}

/// `PUT /queues/me`: log in, take a break, log out.
pub fn set_my_status(api: &Api, req: &Req) -> ApiResult<Reply> {
    let p = req.principal()?;
    let t = own_tenant(p)?;
    let b: StatusBody = req.parse()?;
    let status = Status::parse(&b.status).ok_or_else(|| ApiError::invalid("status", "must be logged_out, available or on_break"))?;
    api.store.set_agent_status(t, p.user_id, status.as_str())?;
    api.acd.set_status(p.user_id, status);
    audit(api, Some(p), Some(t), "update", format!("queue-agents/{}", p.user_id), format!("status {}", status.as_str()));
    my_status(api, req)
}

/// `GET /queues/monitor`: every queue in view, live (a super admin names the tenant).
pub fn monitor(api: &Api, req: &Req) -> ApiResult<Reply> {
    let queues: Vec<(TenantId, i64)> = match (req.grant.within, req.grant.owner) {
        // An agent: the queues they belong to.
        (Within::Tenant(t), Some(user)) => api.store.queues_of_agent(t, user)?.into_iter().map(|id| (t, id)).collect(),
        (Within::Tenant(t), None) => api.store.call_queue_ids(Some(t))?,
        // A super admin: one tenant's when named, else every tenant's.
        (Within::Everything, _) => api.store.call_queue_ids(req.query_i64("tenant_id")?.map(TenantId))?,
    };
    let mut out = Vec::new();
    for (t, id) in queues {
        let q = api.store.call_queue(t, id)?;
        let users: Vec<i64> = q.agents.iter().map(|a| a.user_id).collect();
        let phones = api.store.queue_agents(t, &users)?;
        let agents: Vec<Value> = q
            .agents
            .iter()
            .filter_map(|a| {
                let p = phones.iter().find(|p| p.user_id == a.user_id)?;
                let (state, secs) = agent_state(api, a.user_id, &p.status);
                Some(json!({
                    "user_id": a.user_id, "name": p.name, "tier": a.tier,
                    "extensions": p.extensions.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
                    "state": state, "in_state_secs": secs,
                }))
            })
            .collect();
        let waiting: Vec<Value> = api
            .acd
            .waiting(id)
            .into_iter()
            .enumerate()
            .map(|(i, (caller, waited))| json!({ "position": i + 1, "caller": caller, "waiting_secs": waited.as_secs() }))
            .collect();
        let c = api.acd.counters(id);
        out.push(json!({
            "id": q.id, "tenant_id": t.0, "name": q.name, "number": q.number, "strategy": q.strategy,
            "waiting": waiting, "agents": agents,
            "today": {
                "offered": c.offered, "answered": c.answered, "abandoned": c.abandoned, "timed_out": c.timed_out,
                "exited": c.exited, "refused": c.refused, "average_wait_secs": c.average_wait_secs(),
                "longest_wait_secs": c.longest_wait_ms / 1000, "service_level_percent": c.service_level_percent(),
            },
        }));
    }
    Reply::ok(json!({ "queues": out }))
}

/// `GET /queues/report`: per queue per local day (the tenant's time zone), from `from` to
/// `to` (dates; default: the last 7 days), offered, answered, abandoned, waits and service
/// level; `format=csv` for a spreadsheet. Agents see their own queues' rows.
pub fn report(api: &Api, req: &Req) -> ApiResult<Reply> {
    let t = req.tenant_of()?;
    let tz = api.store.tenant_timezone(t)?;
    let today = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::get(&tz).unwrap_or(jiff::tz::TimeZone::UTC)).date();
    let (from, to) = (req.query_date("from", today.saturating_sub(jiff::Span::new().days(6)))?, req.query_date("to", today)?);
    let mut days = api.store.queue_report(t, from, to)?;
    if let (Within::Tenant(_), Some(user)) = (req.grant.within, req.grant.owner) {
        let mine = api.store.queues_of_agent(t, user)?;
        days.retain(|d| mine.contains(&d.queue_id));
    }
    let rows: Vec<Value> = days
        .iter()
        .map(|d| {
            let c = &d.counts;
            json!({
                "date": d.date, "queue_id": d.queue_id, "queue": d.queue, "offered": c.offered, "answered": c.answered,
                "abandoned": c.abandoned, "timed_out": c.timed_out, "exited": c.exited, "refused": c.refused,
                "average_wait_secs": c.average_wait_secs(), "longest_wait_secs": c.longest_wait_ms / 1000,
                "service_level_percent": c.service_level_percent(),
            })
        })
        .collect();
    if req.query("format") == Some("csv") {
        let mut out = REPORT_COLUMNS.join(",");
        out.push_str("\r\n");
        for row in &rows {
            let line: Vec<String> = REPORT_COLUMNS.iter().map(|c| super::handlers::csv_field(&row[*c])).collect();
            out.push_str(&line.join(","));
            out.push_str("\r\n");
        }
        return Ok(Reply { status: warp::http::StatusCode::OK, body: None, raw: Some(("text/csv; charset=utf-8", out.into_bytes())) });
    }
    Reply::ok(json!({ "tenant_id": t.0, "timezone": tz, "from": from.to_string(), "to": to.to_string(), "days": rows }))
}

/// The report's CSV columns, in order.
const REPORT_COLUMNS: &[&str] = &[
    "date",
    "queue_id",
    "queue",
    "offered",
    "answered",
    "abandoned",
    "timed_out",
    "exited",
    "refused",
    "average_wait_secs",
    "longest_wait_secs",
    "service_level_percent",
];
