//! The router `serve` runs for every call: admit ([`super::admit`]: tenant, block list,
//! caps), drive ([`super::drive`]: destinations through their steps, up to a hop limit),
//! record ([`super::record`]: the CDR and its charge).
//!
//! Configuration is read from the store when the call needs it, so a change saved in the
//! API applies to the next call: what the call needs before its first command on the call's
//! own task (read-only connections, microseconds), the rest on the blocking pool.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tracing::warn;

use super::channel::Channel;
use super::state::{Call, Env, RouteError};
use super::CallHandler;
use crate::esl::{ChannelData, EslError, OutboundSession};
use crate::store::Store;

pub use super::drive::HOP_LIMIT;
pub use super::state::Clock;

pub struct Router {
    env: Env,
}

/// What a call's session subscribes to besides the session's own events: a bridge watches
/// for the partner it connected to and for in-call keys pressed on either leg
/// (`super::bridge`).
pub const EVENTS: &[&str] = &["CHANNEL_BRIDGE", "DTMF"];

impl Router {
    pub fn new(store: Store, announcement: String) -> Router {
        Router::with_clock(store, announcement, Arc::new(jiff::Timestamp::now))
    }
    /// A router whose time conditions see `clock` (tests, route explain).
    pub fn with_clock(store: Store, announcement: String, clock: Clock) -> Router {
        Router { env: Env::new(store, announcement, clock) }
    }
    /// Metered calls count seconds of this length (tests run a minute in a fraction of one).
    pub fn with_second(mut self, second: Duration) -> Router {
        self.env.second = second;
        self
    }
    /// Call queues run on `acd` (shared with the API, which shows and changes agents).
    pub fn with_acd(mut self, acd: crate::acd::Acd) -> Router {
        self.env.acd = acd;
        self
    }
    /// Received faxes are kept under `dir` (the data directory's `fax/`).
    pub fn with_fax_dir(mut self, dir: std::path::PathBuf) -> Router {
        self.env.fax_dir = Some(dir);
        self
    }
    /// Uploaded recordings (greetings) are played from under `dir`, the data directory.
    pub fn with_data_dir(mut self, dir: std::path::PathBuf) -> Router {
        self.env.data_dir = Some(dir);
        self
    }
    /// The live-call counts the caps are checked against (reconciliation, the dashboard).
    pub fn caps(&self) -> Arc<super::caps::Caps> {
        self.env.caps.clone()
    }

    /// Routes one call on `ch`, whose channel data (the reply to `connect`) is `data`.
    pub(crate) async fn route<C: Channel>(&self, ch: &C, data: &ChannelData) -> Result<(), RouteError> {
        // A fax job's call (placed by `crate::fax_jobs`, answered by the far machine).
        if data.variable("sb_fax_job").is_some() {
            return Box::pin(super::steps::fax::send_job(&self.env, ch, data)).await;
        }
        // Boxed, as is each phase's larger rare branch (star codes, each step): the call's
        // task keeps only what the phase it is in needs, not the largest of all of them.
        let Some(a) = Box::pin(super::admit::admit(&self.env, ch, data)).await? else { return Ok(()) };
        let _slot = a.slot;
        let mut call = Call::new(ch, &self.env, a.tenant, a.caller, a.cdr);
        call.first_phone = a.first_phone;
        let outcome = call.start(a.start, a.blocks, a.from_trunk).await;
        // A configuration read that failed mid-call (a route naming a row that is gone): the
        // caller gets a proper cause now, and the record has it — not five seconds of
        // silence while the record waits for a hangup nobody sent.
        let outcome = match outcome {
            Err(RouteError::Store(e)) => {
                warn!(error = %e, path = %call.path.join(" → "), "routing failed reading the configuration");
                let _ = ch.hangup("SERVICE_UNAVAILABLE").await;
                Ok(())
            }
            other => other,
        };
        // Whatever ended the call (the caller hanging up mid-command included), it gets its
        // record; a hangup is how calls end, not an error.
        call.end().await;
        match outcome {
            Err(RouteError::Esl(EslError::Hangup { .. } | EslError::Closed { .. })) => Ok(()),
            other => other,
        }
    }
}

impl CallHandler for Router {
    fn handle<'a>(&'a self, s: &'a OutboundSession) -> Pin<Box<dyn Future<Output = Result<(), EslError>> + Send + 'a>> {
        Box::pin(async move {
            match self.route(s, s.channel()).await {
                Ok(()) => Ok(()),
                Err(RouteError::Esl(e)) => Err(e),
                Err(RouteError::Store(e)) => {
                    warn!(error = %e, "routing failed reading the configuration");
                    let _ = s.hangup("SERVICE_UNAVAILABLE").await;
                    Ok(())
                }
            }
        })
    }

    fn events(&self) -> &'static [&'static str] {
        EVENTS
    }
}
