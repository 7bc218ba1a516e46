//! A time condition: one destination while the tenant's schedule matches (in its time
//! zone), another otherwise.

use tracing::info;

use crate::call::channel::Channel;
use crate::call::state::{Call, Next, RouteError};
use crate::pbx::config::TimeCondition;
use crate::pbx::destination::Destination;

/// Whether the condition matches at `at` in zone `tz`, and where the call goes.
pub(crate) fn decide<'a>(tc: &'a TimeCondition, tz: &str, at: jiff::Timestamp) -> (bool, &'a Destination) {
    let open = crate::pbx::time::matches(tc, tz, at);
    (open, if open { &tc.matched_destination } else { &tc.unmatched_destination })
}

pub(crate) async fn run<C: Channel>(call: &mut Call<'_, C>, id: i64) -> Result<Next, RouteError> {
    let tc = call.read(move |st, t| st.time_condition(t, id)).await?;
    let (open, next) = decide(&tc, &call.tenant.timezone, (call.env.clock)());
    info!(condition = %tc.name, open, "time condition");
    Ok(Next::Go(next.clone()))
}
