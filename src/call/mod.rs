//! Live call handling: one task per call, handed an [`OutboundSession`].
//!
//! [`route::Router`] is the handler `serve` runs, in three phases, each its own file:
//!
//! | module | its one job |
//! | --- | --- |
//! | [`admit`] | who is calling, in which tenant, to what; tenant on, concurrency cap |
//! | [`drive`] | star code or destination (after the block list and credit), then the chain of steps up to the hop limit |
//! | [`record`] | the CDR and its charge, in one transaction |
//! | [`steps`] | one file per destination kind, with the decisions route explain shares |
//! | [`channel`] | the narrow face of the call the steps drive (the session; a fake in tests) |
//! | [`state`] | what a call carries while driven, and the acts every step shares |
//! | [`bridge`], [`incall`] | ringing someone, and the keys pressed meanwhile |
//! | [`credit`], [`meter`] | the rate and prepaid credit before anything rings, and metering while up |
//! | [`features`], [`directory`], [`pickup`] | star codes: DND, forwarding, call flows, *411, *8 |
//! | [`caps`], [`reconcile`] | concurrency caps, kept true against the switch |
//! | [`explain`] | route explain: the same decisions, described instead of carried out |
//!
//! [`Greeting`] (answer, play, hang up) is kept for load tests of the socket layer. The
//! [`CallHandler`] trait is the seam between the outbound server and routing.

pub mod admit;
pub mod bridge;
pub mod caps;
pub mod channel;
pub mod credit;
pub mod directory;
pub mod drive;
pub mod explain;
#[cfg(test)]
pub(crate) mod fake;
mod features;
pub mod incall;
pub mod meter;
pub mod pickup;
pub mod reconcile;
pub mod record;
pub mod route;
pub mod state;
pub mod steps;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::esl::{EslError, OutboundSession};

/// What the outbound server runs for each call.
pub trait CallHandler: Send + Sync + 'static {
    fn handle<'a>(&'a self, session: &'a OutboundSession) -> Pin<Box<dyn Future<Output = Result<(), EslError>> + Send + 'a>>;

    /// The events this handler reads from the session's [`Connection::subscribe`], besides
    /// those the session subscribes to for itself ([`crate::esl::outbound::SESSION_EVENTS`]):
    /// FreeSWITCH sends nothing else.
    ///
    /// [`Connection::subscribe`]: crate::esl::Connection::subscribe
    fn events(&self) -> &'static [&'static str] {
        &[]
    }
}

/// answer → greeting → hangup.
pub struct Greeting {
    pub file: String,
}

impl CallHandler for Greeting {
    fn handle<'a>(&'a self, session: &'a OutboundSession) -> Pin<Box<dyn Future<Output = Result<(), EslError>> + Send + 'a>> {
        Box::pin(async move {
            session.answer().await?;
            session.playback(&self.file).await?;
            session.hangup("NORMAL_CLEARING").await
        })
    }
}

impl<T: CallHandler> CallHandler for Arc<T> {
    fn handle<'a>(&'a self, session: &'a OutboundSession) -> Pin<Box<dyn Future<Output = Result<(), EslError>> + Send + 'a>> {
        (**self).handle(session)
    }

    fn events(&self) -> &'static [&'static str] {
        (**self).events()
    }
}
