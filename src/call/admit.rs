//! The first phase of a call: who is calling, in which tenant, to what; the tenant on;
//! its concurrency cap; the block list. A call refused here hears the announcement, ends
//! with a proper cause and gets its record.
//!
//! What a dialed number reaches ([`dialed_from_phone`]) and whom the block list checks
//! ([`block_subject`]) are decided here for calls and for route explain alike.

use tracing::{info, warn};

use super::caps::Slot;
use super::channel::Channel;
use super::state::{announce_and_hang_up, db, Caller, Env, FirstPhone, RouteError};
use crate::esl::{ChannelData, EslError};
use crate::pbx::channel::{Entry, Facts};
use crate::pbx::config::{CallBlock, Tenant};
use crate::pbx::destination::Destination;
use crate::pbx::dial;
use crate::store::cdr::Cdr;
use crate::store::{Store, StoreError, TenantId};

/// What the dialed number asks for: a destination to route, or a star code.
#[derive(Debug, PartialEq)]
pub(crate) enum Start {
    Route(Destination),
    Feature(String),
}

/// A call let in: everything the drive needs.
pub(crate) struct Admitted {
    pub(crate) tenant: Tenant,
    pub(crate) caller: Caller,
    pub(crate) cdr: Cdr,
    pub(crate) blocks: Vec<CallBlock>,
    pub(crate) start: Start,
    pub(crate) first_phone: Option<FirstPhone>,
    pub(crate) from_trunk: bool,
    /// The tenant's concurrency slot, held as long as the call.
    pub(crate) slot: Slot,
}

/// What a number dialed from a tenant's phone reaches: a star code, one of the tenant's
/// own numbers, or a number out (and whether it is the tenant's own). None when it is no
/// number at all.
pub(crate) fn dialed_from_phone(st: &Store, tenant: TenantId, dialed: &str) -> Result<Option<(Start, bool)>, StoreError> {
    // `*72+15551230000`: the forward code followed by an E.164 number.
    let forward_code = dialed.strip_prefix("*72").is_some_and(|n| dial::number(n).is_some());
    let Some(number) = dial::number(dialed).or(forward_code.then_some(dialed)) else { return Ok(None) };
    if number.starts_with('*') {
        return Ok(Some((Start::Feature(number.to_string()), true)));
    }
    Ok(Some(match st.dialable(tenant, number)? {
        Some(d) => (Start::Route(d), true),
        None => (Start::Route(Destination::External { number: number.to_string() }), false),
    }))
}

/// Whom the block list checks for a call whose first destination is `first`: the number
/// dialed out for a phone's call out, else the caller.
pub(crate) fn block_subject(first: &Destination, from_trunk: bool, caller: &str) -> (&'static str, String) {
    match first {
        Destination::External { number } if !from_trunk => ("outbound", number.clone()),
        _ => ("inbound", caller.to_string()),
    }
}

/// When a call's first destination is a phone, its extension is read with the tenant, on
/// the call's task, so the step that rings it needs no trip to the blocking pool before the
/// first command. A read that fails is left to the step that rings the phone, which reads
/// again and reports it as usual; nothing is decided on this copy beyond the call's first
/// step, microseconds later.
fn first_phone(st: &Store, tenant: TenantId, first: Option<&Destination>) -> Option<FirstPhone> {
    match first {
        Some(Destination::Extension { id } | Destination::Fax { id }) => {
            Some((*id, st.extension(tenant, *id).ok()?, st.follow_me(tenant, *id).ok()?))
        }
        _ => None,
    }
}

/// Who is calling: a phone is who the directory says it authenticated as (sofia copies
/// the user's <variables>, effective_caller_id_name/number as xml_curl.rs serves them,
/// onto the channel when it authenticates the INVITE, whatever display name or number the
/// phone put in its From); a trunk's caller is what the carrier sent.
fn caller(ch: &ChannelData, from_trunk: bool) -> Caller {
    let directory = |var: &str| (!from_trunk).then(|| ch.variable(var)).flatten().filter(|v| !v.is_empty()).map(|v| v.into_owned());
    let number = directory("effective_caller_id_number").or_else(|| ch.caller_id_number().map(|d| d.into_owned())).unwrap_or_default();
    let name = dial::caller_name(&directory("effective_caller_id_name").or_else(|| ch.caller_id_name().map(|d| d.into_owned())).unwrap_or_default());
    Caller { number, name, from_phone: !from_trunk }
}

/// Admits the call on `s` whose channel data is `data`, or refuses it (Ok(None): it was
/// refused, announced and recorded).
pub(crate) async fn admit<C: Channel>(env: &Env, s: &C, data: &ChannelData) -> Result<Option<Admitted>, RouteError> {
    let dialed = data.destination_number().map(|d| d.into_owned()).unwrap_or_default();
    let profile = data.variable("sofia_profile_name").map(|p| p.into_owned()).unwrap_or_default();
    let context = data.context().map(|c| c.into_owned()).unwrap_or_default();
    let domain = data.variable("domain_name").or_else(|| data.variable("sip_from_host")).map(|d| d.into_owned());
    let entry = Facts { context: &context, profile: &profile, destination: &dialed, domain: domain.as_deref() };
    let from_trunk = entry.from_trunk();
    let caller = caller(data, from_trunk);
    let mut cdr = Cdr {
        uuid: s.uuid().to_string(),
        caller_number: caller.number.clone(),
        caller_name: caller.name.clone(),
        callee: dialed.clone(),
        started_at: crate::store::now(),
        ..Default::default()
    };
    let st = &env.reads;
    // One read, on this task (see `Env::reads`): the tenant, what the number reaches in
    // it, its block list, and the phone the call rings first if it rings one.
    let (tenant, blocks, start, phone) = match entry.entry() {
        Some(Entry::Trunk { did }) => {
            cdr.direction = "inbound";
            cdr.did = did.clone();
            let found = match st.did_route(&did)? {
                None => None,
                Some(r) => {
                    let phone = first_phone(st, r.tenant, r.destination.as_ref());
                    Some((st.routing_tenant(r.tenant)?, st.call_blocks(r.tenant)?, r, phone))
                }
            };
            let Some((tenant, blocks, route, phone)) = found else {
                warn!(did = %did, caller = %caller.number, "call to an unknown DID");
                return refuse(env, s, &mut cdr, "UNALLOCATED_NUMBER", "unknown DID").await;
            };
            cdr.trunk_id = route.trunk_id;
            let Some(dest) = route.destination else {
                warn!(did = %did, tenant = tenant.id, "DID has no inbound route");
                cdr.tenant = Some(TenantId(tenant.id));
                return refuse(env, s, &mut cdr, "UNALLOCATED_NUMBER", "DID not routed").await;
            };
            (tenant, blocks, Start::Route(dest), phone)
        }
        other => {
            let domain = match other {
                Some(Entry::Phone { domain }) => domain,
                _ => String::new(),
            };
            let found = match st.tenant_by_domain(&domain)? {
                None => None,
                Some(t) => {
                    let id = TenantId(t.id);
                    let reached = dialed_from_phone(st, id, &dialed)?;
                    let phone = match &reached {
                        Some((Start::Route(d), true)) => first_phone(st, id, Some(d)),
                        _ => None,
                    };
                    Some((st.call_blocks(id)?, reached, t, phone))
                }
            };
            let Some((blocks, reached, tenant, phone)) = found else {
                warn!(domain = %domain, "call from a domain no tenant owns");
                return refuse(env, s, &mut cdr, "CALL_REJECTED", "unknown domain").await;
            };
            cdr.tenant = Some(TenantId(tenant.id));
            cdr.extension = caller.number.clone();
            let Some((start, internal)) = reached else {
                warn!(dialed = %dialed.escape_debug(), "dialed number is not a number");
                return refuse(env, s, &mut cdr, "INVALID_NUMBER_FORMAT", "bad number").await;
            };
            cdr.direction = if internal { "internal" } else { "outbound" };
            (tenant, blocks, start, phone)
        }
    };
    cdr.tenant = Some(TenantId(tenant.id));
    if !tenant.enabled {
        warn!(tenant = tenant.id, "tenant disabled");
        return refuse(env, s, &mut cdr, "CALL_REJECTED", "tenant disabled").await;
    }
    // The tenant's concurrency cap, before anything rings; the slot lives as long as the
    // call's task.
    let Some(slot) = env.caps.tenant(s.uuid(), tenant.id, tenant.max_concurrent_calls) else {
        warn!(tenant = tenant.id, cap = tenant.max_concurrent_calls, caller = %caller.number, "over the tenant's concurrent call cap");
        return refuse(env, s, &mut cdr, "USER_BUSY", "over the concurrent call cap").await;
    };
    Ok(Some(Admitted { tenant, caller, cdr, blocks, start, first_phone: phone, from_trunk, slot }))
}

/// The block entry's action for a call, if one stops it.
pub(crate) fn blocked(blocks: Vec<CallBlock>, first: &Destination, from_trunk: bool, caller: &str) -> Option<String> {
    let (direction, number) = block_subject(first, from_trunk, caller);
    crate::pbx::plan::blocked(blocks, direction, &number).map(|b| {
        info!(number = %number, direction, action = %b.action, "call blocked");
        b.action
    })
}

/// An announcement, a proper cause, and the record of it.
async fn refuse<C: Channel>(env: &Env, s: &C, cdr: &mut Cdr, cause: &str, why: &str) -> Result<Option<Admitted>, RouteError> {
    if cdr.direction.is_empty() {
        cdr.direction = "inbound";
    }
    let played = announce_and_hang_up(s, &env.announcement, cause).await;
    // The record whatever became of the announcement (the caller may hang up first).
    cdr.disposition = "failed";
    cdr.hangup_cause = cause.into();
    cdr.route = why.into();
    cdr.ended_at = crate::store::now();
    let c = cdr.clone();
    if let Err(e) = db(&env.store, move |st| st.write_cdr(&c)).await {
        warn!(error = %e, "writing the CDR");
    }
    match played {
        // A caller who hangs up on the announcement ends the call as callers do.
        Ok(()) | Err(EslError::Hangup { .. } | EslError::Closed { .. }) => Ok(None),
        Err(e) => Err(RouteError::Esl(e)),
    }
}
