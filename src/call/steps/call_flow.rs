//! A call flow: a day/night switch the tenant flips (from the portal or a feature code).

use tracing::info;

use crate::call::channel::Channel;
use crate::call::state::{Call, Next, RouteError};
use crate::pbx::config::CallFlow;
use crate::pbx::destination::Destination;

/// Where the flow sends calls in its current mode.
pub(crate) fn decide(f: &CallFlow) -> &Destination {
    if f.state == "night" {
        &f.night_destination
    } else {
        &f.day_destination
    }
}

pub(crate) async fn run<C: Channel>(call: &mut Call<'_, C>, id: i64) -> Result<Next, RouteError> {
    let f = call.read(move |st, t| st.call_flow(t, id)).await?;
    info!(flow = %f.name, state = %f.state, "call flow");
    Ok(Next::Go(decide(&f).clone()))
}
