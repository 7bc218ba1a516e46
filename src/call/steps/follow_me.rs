//! Follow-me: every destination in one originate, each held back by its delay and dropped
//! at delay + timeout (FreeSWITCH counts leg_timeout from the start of the originate), so
//! the desk phone rings first and the mobile joins when it is due; then voicemail when the
//! rule says so.

use tracing::{info, warn};

use super::extension::{fall_back, ring};
use crate::call::channel::Channel;
use crate::call::state::{describe, Call, Next, RouteError};
use crate::pbx::config::{Extension, FollowMe, OutboundRoute};
use crate::pbx::destination::Destination;
use crate::pbx::{dial, dialstring, plan};

/// What a follow-me number reaches in the tenant.
pub(crate) enum Reached {
    Phone(Extension),
    /// A ring group, IVR, … : not a phone a leg can ring.
    Other(Destination),
    Outside(String),
}

/// What each of `numbers` reaches in the tenant, and the tenant's outbound routes when one
/// is outside (for its trunk).
pub(crate) fn reach(
    st: &crate::store::Store,
    t: crate::store::TenantId,
    numbers: &[String],
) -> Result<(Vec<Reached>, Vec<OutboundRoute>), crate::store::StoreError> {
    let mut reached = Vec::new();
    for n in numbers {
        reached.push(match st.dialable(t, n)? {
            Some(Destination::Extension { id }) => Reached::Phone(st.extension(t, id)?),
            Some(other) => Reached::Other(other),
            None => Reached::Outside(n.clone()),
        });
    }
    let outside = reached.iter().any(|r| matches!(r, Reached::Outside(_)));
    Ok((reached, if outside { st.outbound_routes(t)? } else { Vec::new() }))
}

/// A leg to a number outside, through the outbound route that dials it: the route's first
/// trunk (one leg among several cannot fail over by itself). Its variables and endpoint;
/// None when no route with a trunk dials it.
pub(crate) fn outside_leg(routes: &[OutboundRoute], number: &str) -> Option<(Vec<String>, String)> {
    let planned = plan::outbound(routes.to_vec(), number);
    let Some((route, out)) = planned.filter(|(r, out)| dial::number(out).is_some() && !r.trunks.is_empty()) else {
        warn!(number = %number, "leg skipped: no outbound route dials it");
        return None;
    };
    let trunk = &route.trunks[0];
    Some((plan::trunk_leg_vars(&route, trunk), dialstring::gateway(trunk.trunk_id, &out)))
}

/// The legs of the cascade (`[leg_delay_start=…,leg_timeout=…]endpoint`, each also with
/// `extra` variables) and when the last one gives up; steps that cannot ring are left out,
/// with the reason logged.
pub(crate) fn legs(fm: &FollowMe, reached: &[Reached], routes: &[OutboundRoute], domain: &str, extra: &[String]) -> (Vec<String>, i64) {
    let mut legs = Vec::new();
    let mut until_max = 0;
    for (step, leg) in fm.destinations.iter().zip(reached) {
        let (delay, until) = plan::follow_me_window(step);
        let mut vars = vec![format!("leg_delay_start={delay}"), format!("leg_timeout={until}")];
        vars.extend(extra.iter().cloned());
        let endpoint = match leg {
            Reached::Phone(x) if x.dnd => {
                info!(extension = %x.number, "follow-me step skipped: do not disturb");
                continue;
            }
            Reached::Phone(x) => dialstring::user(&x.number, domain),
            Reached::Outside(number) => {
                let Some((trunk_vars, endpoint)) = outside_leg(routes, number) else { continue };
                vars.extend(trunk_vars);
                endpoint
            }
            Reached::Other(other) => {
                warn!(destination = %describe(other), "follow-me step skipped: not a phone number");
                continue;
            }
        };
        legs.push(dialstring::leg(&vars, &endpoint));
        until_max = until_max.max(until);
    }
    (legs, until_max)
}

pub(crate) async fn run<C: Channel>(call: &mut Call<'_, C>, e: &Extension, fm: FollowMe) -> Result<Next, RouteError> {
    // One trip to the store: what each number reaches, and the routes if one is outside.
    let numbers: Vec<String> = fm.destinations.iter().map(|d| d.number.clone()).collect();
    let (reached, routes) = call.read(move |st, t| reach(st, t, &numbers)).await?;
    let (legs, until_max) = legs(&fm, &reached, &routes, &call.tenant.sip_domain, &[]);
    call.path.push(format!("follow-me ({} legs)", legs.len()));
    if !legs.is_empty() {
        let Some(disposition) = ring(call, e, &dialstring::at_once(&legs), until_max).await? else {
            return Ok(Next::Done);
        };
        info!(extension = %e.number, %disposition, "follow-me not answered");
    }
    fall_back(call, plan::after_follow_me(&fm, e), "no_answer").await
}
