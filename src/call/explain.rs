//! Route explain: the path a call to `number` would take at a given time, step by step with
//! the reason for each, without placing a call. It runs the router's own decisions — what a
//! dialed number reaches and whom the block list checks ([`super::admit`]), each step's
//! choice ([`super::steps`]), the plan's fallbacks ([`crate::pbx::plan`]) — and describes
//! them instead of carrying them out.

use serde::Serialize;

use super::admit::{block_subject, dialed_from_phone, Start};
use super::drive::HOP_LIMIT;
use super::state::describe;
use super::steps::{call_flow, conference, extension, external, hangup, ivr, ring_group, time_condition};
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
    let (tenant, first, from_trunk) = match (did, tenant) {
        (Some(d), t) if t.is_none() || t == Some(d.tenant) => {
            steps.push(step(format!("DID {}", d.number), "a call from a trunk: the DID names the tenant"));
            match d.destination {
                Some(dest) => (d.tenant, dest, true),
                None => {
                    steps.push(step("inbound route", "none: the call is refused with UNALLOCATED_NUMBER"));
                    return Ok(Explanation { tenant_id: d.tenant.0, number: number.into(), at: at.to_string(), steps });
                }
            }
        }
        // What the router makes of a number a phone dials (`admit::dialed_from_phone`).
        (_, Some(t)) => match dialed_from_phone(store, t, number)? {
            None => return Err(StoreError::invalid("number", "must be a dialable number")),
            // A star code from a phone is a feature, never a number dialed out.
            Some((Start::Feature(code), _)) => {
                let what = match super::features::describe(&code) {
                    Some(w) => w.to_string(),
                    None => match super::features::call_flow(store, t, &code)? {
                        Some(f) => format!("toggles the call flow {:?} between day and night", f.name),
                        None => "no such feature code: the caller hears that the entry is invalid".into(),
                    },
                };
                steps.push(step(format!("feature code {number}"), what));
                return Ok(Explanation { tenant_id: t.0, number: number.into(), at: at.to_string(), steps });
            }
            Some((Start::Route(d), true)) => {
                steps.push(step(format!("number {number}"), "dialed from a phone: the tenant's own number"));
                (t, d, false)
            }
            Some((Start::Route(d), false)) => {
                steps.push(step(format!("number {number}"), "not a number of the tenant: dialed out"));
                (t, d, false)
            }
        },
        (_, None) => return Err(StoreError::invalid("tenant_id", "required unless the number is a DID")),
    };
    let t = store.routing_tenant(tenant)?;
    // The router checks the caller, or the number a phone dials out (`admit::block_subject`);
    // with no caller given, only the latter can be checked.
    let (direction, subject) = block_subject(&first, from_trunk, from.unwrap_or(""));
    if direction == "outbound" || from.is_some() {
        if let Some(b) = plan::blocked(store.call_blocks(tenant)?, direction, &subject) {
            steps.push(step("call block", format!("{subject} matches {:?} ({}): {}", b.value, b.kind, b.action)));
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
                match extension::decide(&e, store.follow_me(tenant, e.id)?, &t.sip_domain) {
                    extension::Plan::Forward(n) => {
                        steps.push(step(at, format!("forwards every call to {n}")));
                        Some(store.dialable(tenant, &n)?.unwrap_or(Destination::External { number: n }))
                    }
                    extension::Plan::DoNotDisturb => {
                        steps.push(step(at, "do not disturb: treated as busy"));
                        fallback(store, tenant, &mut steps, &e, true)?
                    }
                    extension::Plan::FollowMe(fm) => {
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
                    }
                    extension::Plan::Ring { dialstring, timeout } => {
                        steps.push(step(at, format!("rings {dialstring} for {timeout} s")));
                        let busy = describe_fallback(&plan::unavailable(&e, true));
                        steps.push(step(format!("extension {} unanswered", e.number), format!("busy → {busy}")));
                        fallback(store, tenant, &mut steps, &e, false)?
                    }
                }
            }
            Destination::RingGroup { id } => {
                let g = store.ring_group(tenant, id)?;
                let mut members = Vec::new();
                for m in &g.members {
                    members.push(store.extension(tenant, m.extension_id)?);
                }
                let ringing = ring_group::available(members.clone());
                let names: Vec<String> = members
                    .into_iter()
                    .map(|e| if ringing.iter().any(|r| r.id == e.id) { e.number } else { format!("{} (DND, skipped)", e.number) })
                    .collect();
                steps.push(step(
                    format!("ring group \"{}\"", g.name),
                    format!("{} ring of [{}] for {} s; if nobody answers:", g.strategy, names.join(", "), ring_group::ring_secs(&g)),
                ));
                Some(g.no_answer_destination)
            }
            Destination::Ivr { id } => {
                let m = store.ivr(tenant, id)?;
                let opts: Vec<String> = m.options.iter().map(|o| format!("{} → {}", o.digit, describe(&o.destination))).collect();
                steps.push(step(
                    format!("IVR \"{}\"", m.name),
                    format!(
                        "plays {:?} and waits {} s for a digit: {}{}; timeout → {}, invalid → {} (after {} tries)",
                        if m.greeting.is_empty() { "silence" } else { &m.greeting },
                        m.timeout,
                        opts.join(", "),
                        if m.direct_dial { "; extensions may be dialed directly" } else { "" },
                        describe(ivr::gave_up(&m, true)),
                        describe(ivr::gave_up(&m, false)),
                        m.max_failures
                    ),
                ));
                None
            }
            Destination::TimeCondition { id } => {
                let tc = store.time_condition(tenant, id)?;
                let (open, next) = time_condition::decide(&tc, &t.timezone, at);
                let zone = jiff::tz::TimeZone::get(&t.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
                let local = at.to_zoned(zone).strftime("%a %Y-%m-%d %H:%M %Z").to_string();
                steps.push(step(format!("time condition \"{}\"", tc.name), format!("{} at {local}", if open { "matched" } else { "not matched" })));
                Some(next.clone())
            }
            Destination::CallFlow { id } => {
                let f = store.call_flow(tenant, id)?;
                steps.push(step(format!("call flow \"{}\"", f.name), format!("in {} mode", f.state)));
                Some(call_flow::decide(&f).clone())
            }
            Destination::Voicemail { id } => {
                let v = store.voicemail_box(tenant, id)?;
                steps.push(step(format!("voicemail {}", v.number), "the caller leaves a message"));
                None
            }
            Destination::Conference { id } => {
                let c = store.conference(tenant, id)?;
                let mut why = String::from(if c.pin.is_empty() { "joins the room" } else { "joins the room after the PIN" });
                if let Some(max) = conference::max_members(&c) {
                    why.push_str(&format!(" while fewer than {max} are in it"));
                }
                steps.push(step(format!("conference {}", c.number), why));
                None
            }
            Destination::Queue { id, priority } => {
                let q = store.call_queue(tenant, id)?;
                steps.push(step(
                    format!("call queue {} ({})", q.number, q.name),
                    format!(
                        "waits in line with music{}; {} of {} agents, each offer ringing {} s; after {} s goes on",
                        if priority > 0 { format!(" ahead of callers below priority {priority}") } else { String::new() },
                        q.strategy,
                        q.agents.len(),
                        q.agent_timeout,
                        q.max_wait
                    ),
                ));
                Some(q.timeout_destination)
            }
            Destination::External { number } => {
                match external::decide(store.outbound_routes(tenant)?, &number) {
                    external::Plan::NoTrunk(r) => steps.push(step(
                        format!("outbound route \"{}\"", r.name),
                        format!("{number} matches {}, but the route has no active trunk: NO_ROUTE_DESTINATION", r.pattern),
                    )),
                    external::Plan::NotDialable(r) => steps.push(step(
                        format!("outbound route \"{}\"", r.name),
                        format!("{number} matches {}, but the rewritten number cannot be dialed: INVALID_NUMBER_FORMAT", r.pattern),
                    )),
                    external::Plan::Dial(r, out) => {
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
                    external::Plan::NoRoute => steps.push(step(format!("number {number}"), "no outbound route matches: NO_ROUTE_DESTINATION")),
                }
                None
            }
            Destination::Hangup { cause } => {
                steps.push(step("hangup", hangup::cause(cause.as_deref()).to_string()));
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
