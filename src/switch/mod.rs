//! The one live model of FreeSWITCH: its channels, SIP registrations and gateways (and,
//! as their issues come, conference members and queue agents), kept from the events of the
//! control connection and rebuilt from the switch's own lists whenever that connection is
//! (re)made. The monitor (`realtime`) and its feed read it; reconciliation of the call caps
//! reads the switch's channel list through the same parser ([`show::listed`]) and the
//! model's record of how long ended calls talked ([`Switch::talked`]).
//!
//! - [`model`]: the model and how each event moves it.
//! - [`conference`]: conference rooms and their members.
//! - [`show`]: the one reader of `show channels`, `show registrations` and sofia's gateways.
//! - [`tenants`]: which tenant a channel is, by the one rule (`pbx::channel`).
//! - `follow`: the thread that keeps the model for one control connection.
//!
//! It speaks to the switch through `esl` and looks tenants up in `store`; nothing of the
//! call path, the API or the monitor is known here.

pub mod conference;
mod follow;
pub mod model;
pub mod show;
pub mod tenants;

use std::sync::{Arc, RwLock};

use tokio::sync::{broadcast, watch};

use crate::esl::inbound::{InboundClient, SwitchState};
pub use conference::{LiveConference, LiveMember};
pub use model::{Change, LiveChannel, LiveGateway, LiveRegistration, Model};

/// The live model and the control connection it follows. Cheap to clone.
#[derive(Clone)]
pub struct Switch {
    model: Arc<RwLock<Model>>,
    state: watch::Receiver<SwitchState>,
    client: watch::Receiver<Option<InboundClient>>,
    feed: broadcast::Sender<Arc<Change>>,
    ended: Arc<std::sync::Mutex<follow::Ended>>,
}

impl Switch {
    /// A model with no switch behind it (the API alone, in tests): always offline, empty.
    pub fn detached() -> Switch {
        let (_, state) = watch::channel(SwitchState::Offline { error: "no FreeSWITCH configured".into(), retry_in_ms: 0 });
        let (_, client) = watch::channel(None);
        Switch { model: Arc::default(), state, client, feed: broadcast::channel(16).0, ended: Arc::default() }
    }

    /// How many seconds a call the switch reported ended in the last minutes talked.
    pub fn talked(&self, uuid: &str) -> Option<i64> {
        self.ended.lock().unwrap_or_else(|p| p.into_inner()).talked(uuid)
    }

    pub fn state(&self) -> SwitchState {
        self.state.borrow().clone()
    }

    pub fn online(&self) -> bool {
        self.state() == SwitchState::Online
    }

    /// The control connection, while there is one.
    pub fn client(&self) -> Option<InboundClient> {
        self.client.borrow().clone()
    }

    /// The model's changes, as they happen.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Change>> {
        self.feed.subscribe()
    }

    /// Sends a change to the subscribers (what the switch answered to a command, e.g. a
    /// click-to-call leg's originate).
    pub fn publish(&self, c: Change) {
        let _ = self.feed.send(Arc::new(c));
    }

    pub fn channels(&self) -> Vec<LiveChannel> {
        let mut v: Vec<LiveChannel> = self.read().channels.values().cloned().collect();
        v.sort_by(|a, b| (a.created_epoch, &a.uuid).cmp(&(b.created_epoch, &b.uuid)));
        v
    }

    pub fn channel(&self, uuid: &str) -> Option<LiveChannel> {
        self.read().channels.get(uuid).cloned()
    }

    pub fn registrations(&self) -> Vec<LiveRegistration> {
        self.read().registrations.values().cloned().collect()
    }

    pub fn is_registered(&self, user: &str, realm: &str) -> bool {
        self.read().registrations.keys().any(|(r, u)| u == user && r.eq_ignore_ascii_case(realm))
    }

    /// Whether `extension` of `tenant` is on a call: a channel of the tenant that the phone
    /// placed, or a leg the switch rang it on (a queue's agents are not offered a call then).
    pub fn phone_on_a_call(&self, tenant: i64, extension: &str) -> bool {
        self.read().phone_on_a_call(tenant, extension)
    }

    /// Whether a phone of `tenant` is registered as `extension`.
    pub fn phone_registered(&self, tenant: i64, extension: &str) -> bool {
        self.read().phone_registered(tenant, extension)
    }

    /// The room named `name` on the switch, while it has members.
    pub fn conference(&self, name: &str) -> Option<LiveConference> {
        self.read().conference(name).cloned()
    }

    pub fn gateways(&self) -> Vec<LiveGateway> {
        self.read().gateways.values().cloned().collect()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Model> {
        self.model.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Model> {
        self.model.write().unwrap_or_else(|p| p.into_inner())
    }
}
