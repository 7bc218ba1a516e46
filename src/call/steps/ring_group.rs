//! A ring group: its members' phones rung at once or in turn (in order, round robin or at
//! random), then its no-answer destination.

use tracing::info;

use crate::call::channel::Channel;
use crate::call::state::{Call, Next, RouteError};
use crate::pbx::config::{Extension, RingGroup};
use crate::pbx::dialstring;

/// How long the group rings (each member, when they ring in turn).
pub(crate) fn ring_secs(g: &RingGroup) -> i64 {
    g.timeout.clamp(5, 600)
}

/// The members that may ring: those not on do-not-disturb.
pub(crate) fn available(members: Vec<Extension>) -> Vec<Extension> {
    members.into_iter().filter(|e| !e.dnd).collect()
}

/// The dial string for `members`, in the order they ring.
pub(crate) fn dial(g: &RingGroup, members: &[Extension], domain: &str) -> String {
    let timeout = ring_secs(g);
    match g.strategy.as_str() {
        "simultaneous" => dialstring::at_once(&members.iter().map(|e| dialstring::user(&e.number, domain)).collect::<Vec<_>>()),
        // One after the other, each for the group's ring time.
        _ => dialstring::in_turn(
            &members.iter().map(|e| dialstring::leg(&[format!("leg_timeout={timeout}")], &dialstring::user(&e.number, domain))).collect::<Vec<_>>(),
        ),
    }
}

pub(crate) async fn run<C: Channel>(call: &mut Call<'_, C>, id: i64) -> Result<Next, RouteError> {
    let g = call.read(move |st, t| st.ring_group(t, id)).await?;
    let mut members = Vec::new();
    for m in &g.members {
        let mid = m.extension_id;
        members.push(call.read(move |st, t| st.extension(t, mid)).await?);
    }
    let mut members = available(members);
    if members.is_empty() {
        return Ok(Next::Go(g.no_answer_destination));
    }
    match g.strategy.as_str() {
        "round_robin" => {
            let n = members.len();
            let start = call.read(move |st, t| st.ring_group_next_start(t, id, n)).await?;
            members.rotate_left(start);
        }
        "random" => fastrand::shuffle(&mut members),
        _ => {}
    }
    let dialstring = dial(&g, &members, &call.tenant.sip_domain);
    call.prepare_bridge(ring_secs(&g), g.moh_class_id).await?;
    // The record is the member's that answers, as a call to one extension is the
    // extension's.
    call.in_call.members_ringing = members.iter().map(|e| e.number.clone()).collect();
    let bridged = call.bridge(&dialstring, true).await;
    call.in_call.members_ringing.clear();
    let Some(disposition) = bridged? else {
        return Ok(Next::Done);
    };
    info!(group = %g.name, %disposition, "ring group not answered");
    Ok(Next::Go(g.no_answer_destination))
}
