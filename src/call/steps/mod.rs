//! One step per destination kind: each reads what it needs of the tenant's configuration,
//! does its part of the call through the narrow [`Channel`], and says where the call goes
//! next. The decisions a step makes from configuration alone are plain functions beside it,
//! which route explain ([`super::explain`]) calls too, so the explanation is the call's.

pub(crate) mod call_flow;
pub(crate) mod conference;
pub(crate) mod extension;
pub(crate) mod external;
pub(crate) mod fax;
pub(crate) mod follow_me;
pub(crate) mod hangup;
pub(crate) mod ivr;
pub(crate) mod queue;
pub(crate) mod ring_group;
pub(crate) mod time_condition;
pub(crate) mod voicemail;

#[cfg(test)]
mod tests;

use super::channel::Channel;
use super::state::{Call, Next, RouteError};
use crate::pbx::destination::Destination;

/// Runs the step for `d`. Each step's future is boxed: a call's task would otherwise be as
/// large as the largest step any call could take (3.5 KB), and a held call would keep that
/// whatever its own step is; boxed, it keeps only its own.
pub(crate) async fn run<C: Channel>(call: &mut Call<'_, C>, d: Destination) -> Result<Next, RouteError> {
    match d {
        Destination::Extension { id } | Destination::Fax { id } => Box::pin(extension::run(call, id)).await,
        Destination::RingGroup { id } => Box::pin(ring_group::run(call, id)).await,
        Destination::Ivr { id } => Box::pin(ivr::run(call, id)).await,
        Destination::TimeCondition { id } => Box::pin(time_condition::run(call, id)).await,
        Destination::CallFlow { id } => Box::pin(call_flow::run(call, id)).await,
        Destination::Voicemail { id } => Box::pin(voicemail::run(call, id)).await,
        Destination::Conference { id } => Box::pin(conference::run(call, id)).await,
        Destination::External { number } => Box::pin(external::run(call, &number)).await,
        Destination::Hangup { cause } => Box::pin(hangup::run(call, cause.as_deref())).await,
        Destination::Queue { id, priority } => Box::pin(queue::run(call, id, priority)).await,
    }
}
