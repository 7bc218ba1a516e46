//! A number out through the tenant's outbound routes: the first route that matches, its
//! trunks in order with failover on the route's causes, each trunk within its channel cap,
//! after the tenant's transaction limits and the call's rate (and credit) allow it.

use tracing::{info, warn};

use crate::call::channel::Channel;
use crate::call::state::{announce_and_hang_up, Call, Next, RouteError, INVALID, UNAVAILABLE};
use crate::pbx::config::OutboundRoute;
use crate::pbx::{dial, dialstring, plan};

/// What the tenant's outbound routes make of a number.
#[derive(Debug)]
pub(crate) enum Plan {
    /// No route matches.
    NoRoute,
    /// The route's rewrite gives something that cannot be dialed.
    NotDialable(OutboundRoute),
    /// None of the route's trunks is given or active.
    NoTrunk(OutboundRoute),
    /// Dial `out` through the route's trunks in order.
    Dial(OutboundRoute, String),
}

pub(crate) fn decide(routes: Vec<OutboundRoute>, number: &str) -> Plan {
    match plan::outbound(routes, number) {
        None => Plan::NoRoute,
        Some((route, out)) if dial::number(&out).is_none() => Plan::NotDialable(route),
        Some((route, _)) if route.trunks.is_empty() => Plan::NoTrunk(route),
        Some((route, out)) => Plan::Dial(route, out),
    }
}

/// Only the route's failover causes may move the call to the next trunk; a callee's BUSY
/// or NO_ANSWER ends it (FreeSWITCH hangs up on causes not listed).
pub(crate) fn continue_on_fail(route: &OutboundRoute) -> String {
    if route.failover_causes.is_empty() {
        "false".to_string()
    } else {
        route.failover_causes.join(",")
    }
}

/// One trunk's leg: its caller ID and codecs go with it, as each trunk has its own.
pub(crate) fn trunk_leg(route: &OutboundRoute, trunk: &crate::pbx::config::RouteTrunk, out: &str) -> String {
    dialstring::leg(&plan::trunk_leg_vars(route, trunk), &dialstring::gateway(trunk.trunk_id, out))
}

pub(crate) async fn run<C: Channel>(call: &mut Call<'_, C>, number: &str) -> Result<Next, RouteError> {
    let routes = call.read(|st, t| st.outbound_routes(t)).await?;
    let (route, out) = match decide(routes, number) {
        Plan::NoRoute => {
            warn!(number, "no outbound route matches");
            call.cdr.disposition = "failed";
            announce_and_hang_up(call.ch, INVALID, "NO_ROUTE_DESTINATION").await?;
            return Ok(Next::Done);
        }
        Plan::NotDialable(route) => {
            warn!(route = %route.name, "the rewritten number is not dialable");
            call.ch.hangup("INVALID_NUMBER_FORMAT").await?;
            return Ok(Next::Done);
        }
        Plan::NoTrunk(route) => {
            // None given, or every one switched off: nothing is counted or held for it.
            warn!(route = %route.name, "the route has no active trunk");
            call.cdr.disposition = "failed";
            announce_and_hang_up(call.ch, UNAVAILABLE, "NO_ROUTE_DESTINATION").await?;
            return Ok(Next::Done);
        }
        Plan::Dial(route, out) => (route, out),
    };
    let mut vars = vec![("effective_caller_id_name", call.caller.name.clone())];
    vars.push(("hangup_after_bridge", "true".into()));
    vars.push(("continue_on_fail", continue_on_fail(&route)));
    vars.extend(call.hold_music_vars(None));
    // The tenant's daily and monthly transaction limits, checked and counted at once.
    let (tz, daily, monthly, at) = (call.tenant.timezone.clone(), call.tenant.daily_limit, call.tenant.monthly_limit, (call.env.clock)());
    if let Some(limit) = call.read(move |st, t| st.count_transaction(t, &tz, daily, monthly, at)).await? {
        warn!(tenant = call.tenant.id, limit = limit.as_str(), "the tenant's transaction limit is reached");
        call.bar(&format!("refused: {} transaction limit", limit.as_str()), UNAVAILABLE).await?;
        return Ok(Next::Done);
    }
    // The rate, and for a prepaid tenant the credit, before anything rings.
    if !call.authorize("outbound", &out, route.rate_plan_id).await? {
        return Ok(Next::Done);
    }
    call.ch.set(&vars).await?;
    let mut last = String::new();
    let mut tried = 0;
    for (i, trunk) in route.trunks.iter().enumerate() {
        // The trunk's channel cap: a full trunk is skipped like a failed one.
        let Some(_channel) = call.env.caps.trunk(call.ch.uuid(), trunk.trunk_id, trunk.max_channels) else {
            warn!(trunk = trunk.trunk_id, cap = trunk.max_channels, "trunk at its channel cap; trying the next");
            continue;
        };
        tried += 1;
        call.cdr.trunk_id = Some(trunk.trunk_id);
        match call.bridge(&trunk_leg(&route, trunk, &out), false).await? {
            None => return Ok(Next::Done),
            Some(cause) => last = cause,
        }
        if !route.failover_causes.contains(&last) {
            break;
        }
        info!(route = %route.name, trunk = trunk.trunk_id, cause = %last, next = i + 1 < route.trunks.len(), "trunk failed; failing over");
    }
    call.cdr.disposition = "failed";
    if tried == 0 {
        warn!(route = %route.name, "every trunk of the route is at its channel cap");
        announce_and_hang_up(call.ch, UNAVAILABLE, "NORMAL_CIRCUIT_CONGESTION").await?;
        return Ok(Next::Done);
    }
    call.ch.hangup(if last.is_empty() { "NO_ROUTE_DESTINATION" } else { &last }).await?;
    Ok(Next::Done)
}
