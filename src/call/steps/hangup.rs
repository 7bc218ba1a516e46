//! A destination that ends the call with a cause the admin chose.

use crate::call::channel::Channel;
use crate::call::state::{Call, Next, RouteError};

/// The cause a hangup destination ends the call with.
pub(crate) fn cause(cause: Option<&str>) -> &str {
    cause.unwrap_or("NORMAL_CLEARING")
}

pub(crate) async fn run<C: Channel>(call: &mut Call<'_, C>, c: Option<&str>) -> Result<Next, RouteError> {
    call.ch.hangup(cause(c)).await?;
    Ok(Next::Done)
}
