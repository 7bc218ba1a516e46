//! The second phase of a call: what it dialed (a star code, or a destination after the
//! block list and its credit), then destination after destination, each run by its step,
//! up to the hop limit; a phone's transfer (*2) starts the chain again where it says.

use tracing::warn;

use super::admit::{blocked, Start};
use super::channel::Channel;
use super::state::{describe, Call, Next, RouteError};
use crate::pbx::config::CallBlock;
use crate::pbx::destination::Destination;

/// How many destinations one call may pass through before it is ended as a loop.
pub const HOP_LIMIT: usize = 16;

impl<C: Channel> Call<'_, C> {
    /// Runs what the call dialed.
    pub(crate) async fn start(&mut self, start: Start, blocks: Vec<CallBlock>, from_trunk: bool) -> Result<(), RouteError> {
        match start {
            Start::Feature(code) => {
                self.path.push(format!("feature {code}"));
                match Box::pin(super::features::run(self, &code)).await {
                    Ok(Some(d)) => self.drive(d).await,
                    other => other.map(|_| ()),
                }
            }
            // The block list first: nothing rings for a blocked call.
            Start::Route(d) => match blocked(blocks, &d, from_trunk, &self.caller.number) {
                Some(action) => Box::pin(self.finish_blocked(&action, &d)).await,
                None => match Box::pin(self.authorize_prepaid_start(&d)).await {
                    Ok(true) => self.drive(d).await,
                    other => other.map(|_| ()),
                },
            },
        }
    }

    /// Follows destinations from `first` until a step ends the call.
    pub(crate) async fn drive(&mut self, first: Destination) -> Result<(), RouteError> {
        let mut dest = first;
        let mut hops = 0;
        loop {
            hops += 1;
            if hops > HOP_LIMIT {
                warn!(path = %self.path.join(" → "), "destination loop: more than {HOP_LIMIT} hops; ending the call");
                self.ch.hangup("EXCHANGE_ROUTING_ERROR").await?;
                return Ok(());
            }
            if self.ch.hung_up() {
                return Ok(());
            }
            self.path.push(describe(&dest));
            match super::steps::run(self, dest).await? {
                Next::Go(d) => dest = d,
                // A phone transferred the caller (*2): it goes on from there.
                Next::Done => match self.in_call.transfer_to.take() {
                    Some(d) if !self.ch.hung_up() => {
                        self.path.push("transferred".into());
                        dest = d;
                    }
                    _ => return Ok(()),
                },
            }
        }
    }

    /// A blocked call ends as the entry says; `voicemail` sends it to the mailbox of what it
    /// dialed (an extension with voicemail, or a voicemail box), and is refused otherwise.
    async fn finish_blocked(&mut self, action: &str, dialed: &Destination) -> Result<(), RouteError> {
        self.path.push(format!("blocked ({action})"));
        self.cdr.disposition = "blocked";
        let mailbox = match (action, dialed) {
            ("voicemail", Destination::Extension { id }) => {
                let id = *id;
                let e = self.read(move |st, t| st.extension(t, id)).await?;
                e.voicemail_enabled.then_some(e.number)
            }
            ("voicemail", Destination::Voicemail { id }) => {
                let id = *id;
                Some(self.read(move |st, t| st.voicemail_box(t, id)).await?.number)
            }
            _ => None,
        };
        match (action, mailbox) {
            ("busy", _) => self.ch.hangup("USER_BUSY").await?,
            ("hangup", _) => self.ch.hangup("NORMAL_CLEARING").await?,
            ("voicemail", Some(b)) => {
                super::steps::voicemail::leave_message(self, &b).await?;
            }
            _ => self.ch.hangup("CALL_REJECTED").await?,
        }
        Ok(())
    }
}
