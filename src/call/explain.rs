//! Route explain: the path a call to `number` would take at a given time, step by step with
//! the reason for each, without placing a call. Built on the same decisions as the router
//! ([`crate::pbx::plan`], [`crate::pbx::time`], [`crate::pbx::dial`]).

use serde::Serialize;

use super::route::HOP_LIMIT;
use crate::pbx::destination::Destination;
use crate::pbx::plan::{self, Fallback};
use crate::store::{Store, StoreError, TenantId};

#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// What the call reaches (`DID +12125550100`, `time condition "Business hours"`, …).
    pub at: String,
    /// What happens there, and why.
    pub decision: String,
}

#[derive(Debug, Serialize)]
pub struct Explanation {
    pub tenant_id: i64,
    pub number: String,
    pub at: String,
    pub steps: Vec<Step>,
}

fn step(at: impl Into<String>, decision: impl Into<String>) -> Step {
    Step { at: at.into(), decision: decision.into() }
}

/// `tenant`: the tenant whose phone dials (ignored when `number` is one of the tenant's
/// DIDs, which then names the tenant). `from`: the caller's number, for the block list.
pub fn explain(store: &Store, tenant: Option<TenantId>, number: &str, from: Option<&str>, at: jiff::Timestamp) -> Result<Explanation, StoreError> {
    let mut steps = Vec::new();
    let did = if number.starts_with('+') { store.did_route(number)? } else { None };
    let (tenant, first, direction) = match (did, tenant) {
        (Some(d), t) if t.is_none() || t == Some(d.tenant) => {
            steps.push(step(format!("DID {}", d.number), "a call from a trunk: the DID names the tenant"));
            match d.destination {
                Some(dest) => (d.tenant, dest, "inbound"),
                None => {
                    steps.push(step("inbound route", "none: the call is refused with UNALLOCATED_NUMBER"));
                    return Ok(Explanation { tenant_id: d.tenant.0, number: number.into(), at: at.to_string(), steps });
                }
            }
        }
        (_, Some(t)) => {
            if crate::pbx::dial::number(number).is_none() {
                return Err(StoreError::invalid("number", "must be a dialable number"));
            }
            // A star code from a phone is a feature, never a number dialed out (the router
            // runs it before any routing: `Start::Feature`).
            if number.starts_with('*') {
                let what = match super::features::describe(number) {
                    Some(w) => w.to_string(),
                    None => {
                        let q = crate::store::ListQuery {
                            page: 1,
                            per_page: 1,
                            filters: vec![("feature_code".into(), number.into())],
                            ..Default::default()
                        };
                        match store.list(&crate::store::resources::CALL_FLOWS, crate::store::resource::Within::Tenant(t), None, &q)?.items.first() {
                            Some(f) => format!("toggles the call flow {:?} between day and night", f["name"].as_str().unwrap_or("")),
                            None => "no such feature code: the caller hears that the entry is invalid".into(),
                        }
                    }
                };
                steps.push(step(format!("feature code {number}"), what));
                return Ok(Explanation { tenant_id: t.0, number: number.into(), at: at.to_string(), steps });
            }
            match store.dialable(t, number)? {
                Some(d) => {
                    steps.push(step(format!("number {number}"), "dialed from a phone: the tenant's own number"));
                    (t, d, "inbound")
                }
                None => {
                    steps.push(step(format!("number {number}"), "not a number of the tenant: dialed out"));
                    (t, Destination::External { number: number.into() }, "outbound")
                }
            }
        }
        (_, None) => return Err(StoreError::invalid("tenant_id", "required unless the number is a DID")),
    };
    let t = store.routing_tenant(tenant)?;
    let checked = if direction == "outbound" { Some(number) } else { from };
    if let Some(n) = checked {
        if let Some(b) = plan::blocked(store.call_blocks(tenant)?, direction, n) {
            steps.push(step("call block", format!("{n} matches {:?} ({}): {}", b.value, b.kind, b.action)));
            return Ok(Explanation { tenant_id: tenant.0, number: number.into(), at: at.to_string(), steps });
        }
    }
    let mut dest = Some(first);
    let mut hops = 0;
    while let Some(d) = dest.take() {
        hops += 1;
        if hops > HOP_LIMIT {
            steps.push(step("loop", format!("more than {HOP_LIMIT} hops: the call ends with EXCHANGE_ROUTING_ERROR")));
            break;
        }
        dest = match d {
            Destination::Extension { id } | Destination::Fax { id } => {
                let e = store.extension(tenant, id)?;
                let at = format!("extension {}", e.number);
                if !e.forward_always.is_empty() {
                    steps.push(step(at, format!("forwards every call to {}", e.forward_always)));
                    Some(store.dialable(tenant, &e.forward_always)?.unwrap_or(Destination::External { number: e.forward_always.clone() }))
                } else if e.dnd {
                    steps.push(step(at, "do not disturb: treated as busy"));
                    fallback(store, tenant, &mut steps, &e, true)?
                } else if let Some(fm) = store.follow_me(tenant, e.id)?.filter(|f| !f.destinations.is_empty()) {
                    let cascade: Vec<String> = fm
                        .destinations
                        .iter()
                        .map(|d| {
                            let (from, until) = plan::follow_me_window(d);
                            format!("{} from {from} s to {until} s", d.number)
                        })
                        .collect();
                    steps.push(step(at, format!("follow-me rings {}", cascade.join(", "))));
                    let last = describe_fallback(&plan::after_follow_me(&fm, &e));
                    steps.push(step(format!("follow-me of {} unanswered", e.number), last));
                    None
                } else {
                    steps.push(step(at, format!("rings user/{}@{} for 30 s", e.number, t.sip_domain)));
                    let busy = describe_fallback(&plan::unavailable(&e, true));
                    steps.push(step(format!("extension {} unanswered", e.number), format!("busy → {busy}")));
                    fallback(store, tenant, &mut steps, &e, false)?
                }
            }
            Destination::RingGroup { id } => {
                let g = store.ring_group(tenant, id)?;
                let mut members = Vec::new();
                for m in &g.members {
                    let e = store.extension(tenant, m.extension_id)?;
                    members.push(if e.dnd { format!("{} (DND, skipped)", e.number) } else { e.number });
                }
                steps.push(step(
                    format!("ring group \"{}\"", g.name),
                    format!("{} ring of [{}] for {} s; if nobody answers:", g.strategy, members.join(", "), g.timeout),
                ));
                Some(g.no_answer_destination)
            }
            Destination::Ivr { id } => {
                let m = store.ivr(tenant, id)?;
                let opts: Vec<String> = m.options.iter().map(|o| format!("{} → {}", o.digit, short(&o.destination))).collect();
                steps.push(step(
                    format!("IVR \"{}\"", m.name),
                    format!(
                        "plays {:?} and waits {} s for a digit: {}{}; timeout → {}, invalid → {} (after {} tries)",
                        if m.greeting.is_empty() { "silence" } else { &m.greeting },
                        m.timeout,
                        opts.join(", "),
                        if m.direct_dial { "; extensions may be dialed directly" } else { "" },
                        short(&m.timeout_destination),
                        short(&m.invalid_destination),
                        m.max_failures
                    ),
                ));
                None
            }
            Destination::TimeCondition { id } => {
                let tc = store.time_condition(tenant, id)?;
                let open = crate::pbx::time::matches(&tc, &t.timezone, at);
                let zone = jiff::tz::TimeZone::get(&t.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
                let local = at.to_zoned(zone).strftime("%a %Y-%m-%d %H:%M %Z").to_string();
                steps.push(step(format!("time condition \"{}\"", tc.name), format!("{} at {local}", if open { "matched" } else { "not matched" })));
                Some(if open { tc.matched_destination } else { tc.unmatched_destination })
            }
            Destination::CallFlow { id } => {
                let f = store.call_flow(tenant, id)?;
                steps.push(step(format!("call flow \"{}\"", f.name), format!("in {} mode", f.state)));
                Some(if f.state == "night" { f.night_destination } else { f.day_destination })
            }
            Destination::Voicemail { id } => {
                let v = store.voicemail_box(tenant, id)?;
                steps.push(step(format!("voicemail {}", v.number), "the caller leaves a message"));
                None
            }
            Destination::Conference { id } => {
                let c = store.conference(tenant, id)?;
                let mut why = String::from(if c.pin.is_empty() { "joins the room" } else { "joins the room after the PIN" });
                if c.max_participants >= 2 {
                    why.push_str(&format!(" while fewer than {} are in it", c.max_participants));
                }
                steps.push(step(format!("conference {}", c.number), why));
                None
            }
            Destination::Queue { id } => {
                steps.push(step(format!("call queue {id}"), "queues are not routed yet: SERVICE_UNAVAILABLE"));
                None
            }
            Destination::External { number } => {
                match plan::outbound(store.outbound_routes(tenant)?, &number) {
                    Some((r, _)) if r.trunks.is_empty() => steps.push(step(
                        format!("outbound route \"{}\"", r.name),
                        format!("{number} matches {}, but the route has no active trunk: NO_ROUTE_DESTINATION", r.pattern),
                    )),
                    Some((r, out)) => {
                        let trunks: Vec<String> = r
                            .trunks
                            .iter()
                            .map(|t| match plan::presented_caller_id(&r, t) {
                                Some(cid) => format!("trunk{} (caller ID {cid})", t.trunk_id),
                                None => format!("trunk{}", t.trunk_id),
                            })
                            .collect();
                        steps.push(step(
                            format!("outbound route \"{}\"", r.name),
                            format!(
                                "{number} matches {}: dials {out} via {} in order, failing over on {}",
                                r.pattern,
                                trunks.join(", "),
                                if r.failover_causes.is_empty() { "nothing".to_string() } else { r.failover_causes.join(", ") }
                            ),
                        ));
                    }
                    None => steps.push(step(format!("number {number}"), "no outbound route matches: NO_ROUTE_DESTINATION")),
                }
                None
            }
            Destination::Hangup { cause } => {
                steps.push(step("hangup", cause.unwrap_or_else(|| "NORMAL_CLEARING".into())));
                None
            }
        };
    }
    Ok(Explanation { tenant_id: tenant.0, number: number.into(), at: at.to_string(), steps })
}

fn describe_fallback(f: &Fallback) -> String {
    match f {
        Fallback::Forward(n) => format!("forward to {n}"),
        Fallback::Voicemail(b) => format!("voicemail {b}"),
        Fallback::End(c) => format!("ends with {c}"),
    }
}

fn fallback(
    store: &Store,
    tenant: TenantId,
    steps: &mut Vec<Step>,
    e: &crate::store::routing::Extension,
    busy: bool,
) -> Result<Option<Destination>, StoreError> {
    let f = plan::unavailable(e, busy);
    steps.push(step(format!("extension {}", e.number), format!("{} → {}", if busy { "busy" } else { "no answer" }, describe_fallback(&f))));
    Ok(match f {
        Fallback::Forward(n) => Some(store.dialable(tenant, &n)?.unwrap_or(Destination::External { number: n })),
        _ => None,
    })
}

fn short(d: &Destination) -> String {
    match d {
        Destination::External { number } => format!("external {number}"),
        Destination::Hangup { .. } => "hangup".into(),
        other => {
            let (table, id) = other.target().unwrap_or(("?", 0));
            // As the record's route names it (`Call::path`): the table, whole.
            format!("{table}/{id}")
        }
    }
}
