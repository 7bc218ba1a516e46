//! Live call handling: one task per call, handed an [`OutboundSession`].
//!
//! [`route::Router`] is the handler `serve` runs: tenant, block list, destination chain,
//! CDR. [`Greeting`] (answer, play, hang up) is kept for load tests of the socket layer.
//! The [`CallHandler`] trait is the seam: caps and metering wrap the router there.

pub mod caps;
pub mod directory;
pub mod explain;
mod features;
pub mod incall;
pub mod meter;
pub mod pickup;
pub mod reconcile;
pub mod route;

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
