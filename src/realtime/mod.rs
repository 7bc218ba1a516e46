//! The realtime monitor over the live model of the switch ([`crate::switch`]): what the
//! monitor reads of it (channels, registrations, gateways and the feed of their changes,
//! which `api::realtime` streams as Server-Sent Events, scoped per viewer) and the commands
//! it sends over the control connection (hang up, hold, transfer, click-to-call, rescan,
//! resync).

use tokio::sync::watch;

use crate::esl::inbound::{InboundClient, Supervisor, SwitchState};
use crate::esl::ApiCommand;
use crate::switch::Switch;
pub use crate::switch::{Change, LiveChannel, LiveGateway, LiveRegistration};

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("FreeSWITCH is not connected")]
    Offline,
    #[error("no such channel")]
    NoChannel,
    #[error("FreeSWITCH refused: {0}")]
    Refused(String),
}

/// The monitor's handle: the live model and the way to the switch. Cheap to clone.
#[derive(Clone)]
pub struct Live {
    switch: Switch,
}

impl Live {
    /// A monitor with no switch behind it (the API alone, in tests): always offline, empty.
    pub fn detached() -> Live {
        Live { switch: Switch::detached() }
    }

    /// Follows the supervisor's connection with a live model of its own.
    pub fn spawn(sup: &Supervisor, store: crate::store::Store, shutdown: watch::Receiver<bool>) -> Live {
        Live { switch: Switch::spawn(sup, store, shutdown) }
    }

    /// The live model this monitor reads (reconciliation reads it too).
    pub fn switch(&self) -> &Switch {
        &self.switch
    }

    /// How many seconds a call the switch reported ended in the last minutes talked.
    pub fn talked(&self, uuid: &str) -> Option<i64> {
        self.switch.talked(uuid)
    }

    /// A trunk was saved or deleted: its gateway is dropped (a changed one is rebuilt) and
    /// the external profile rescanned, which reads the gateways from switchboard again
    /// (mod_sofia.c:3623 rescan adds new gateways; killgw removes one). Nothing happens
    /// while the switch is offline: it reads the gateways when it starts.
    pub fn trunk_changed(&self, trunk: i64, existed: bool) {
        let Ok(client) = self.client() else { return };
        tokio::runtime::Handle::current().spawn(async move {
            if existed {
                if let Err(e) = client.api_cmd(&ApiCommand::SofiaKillGateway { profile: "external".into(), gateway: format!("trunk{trunk}") }).await {
                    tracing::warn!(trunk, error = %e, "removing the trunk's gateway");
                }
            }
            match client.api_cmd(&ApiCommand::SofiaRescan { profile: "external".into() }).await {
                Ok(r) => tracing::info!(trunk, reply = %r.trim(), "external profile rescanned"),
                Err(e) => tracing::warn!(trunk, error = %e, "rescanning the external profile"),
            }
        });
    }

    pub fn state(&self) -> SwitchState {
        self.switch.state()
    }

    pub fn online(&self) -> bool {
        self.switch.online()
    }

    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<std::sync::Arc<Change>> {
        self.switch.subscribe()
    }

    /// Sends a change to the feed (click-to-call results).
    pub fn publish(&self, c: Change) {
        self.switch.publish(c)
    }

    pub fn channels(&self) -> Vec<LiveChannel> {
        self.switch.channels()
    }

    pub fn channel(&self, uuid: &str) -> Option<LiveChannel> {
        self.switch.channel(uuid)
    }

    pub fn registrations(&self) -> Vec<LiveRegistration> {
        self.switch.registrations()
    }

    pub fn is_registered(&self, user: &str, realm: &str) -> bool {
        self.switch.is_registered(user, realm)
    }

    pub fn gateways(&self) -> Vec<LiveGateway> {
        self.switch.gateways()
    }

    fn client(&self) -> Result<InboundClient, ControlError> {
        self.switch.client().ok_or(ControlError::Offline)
    }

    /// An api command; a `-ERR` reply is an error with FreeSWITCH's words.
    pub async fn api(&self, command: &ApiCommand) -> Result<String, ControlError> {
        let c = self.client()?;
        match c.api_cmd(command).await {
            Ok(reply) if reply.starts_with("-ERR") || reply.starts_with("-USAGE") => {
                let text = reply.trim_start_matches("-ERR").trim().to_string();
                if text.contains("No such channel") || text.contains("invalid uuid") || text.contains("Cannot locate session") {
                    Err(ControlError::NoChannel)
                } else {
                    Err(ControlError::Refused(text))
                }
            }
            Ok(reply) => Ok(reply),
            Err(e) => Err(ControlError::Refused(e.to_string())),
        }
    }

    /// A bgapi command: its result, however long it takes (originate rings for up to its
    /// timeout).
    pub async fn bgapi(&self, command: &ApiCommand) -> Result<String, ControlError> {
        let c = self.client()?;
        c.bgapi_cmd(command).await.map_err(|e| ControlError::Refused(e.to_string()))
    }
}
