//! Realtime control: the live model of the switch (channels, registrations, gateways) kept
//! over the inbound control connection, the live feed of its changes, and the commands the
//! monitor sends (hang up, hold, transfer, click-to-call, rescan, resync).
//!
//! One blocking thread per control connection owns the model's updates: it subscribes to the
//! events first, then loads `show` snapshots, then applies the events queued meanwhile, so
//! nothing that happened during the snapshot is lost (a hangup already in the snapshot's
//! past removes nothing, an upsert of a listed channel changes nothing). Store lookups
//! (which tenant a domain or DID is) happen on that thread too, cached.

pub mod model;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use tokio::sync::{broadcast, watch};

use crate::esl::inbound::{InboundClient, Supervisor, SwitchState};
use crate::esl::ApiCommand;
pub use model::{Change, LiveChannel, LiveGateway, LiveRegistration, Model};

/// The events the model follows. CUSTOM must come last: every word after it is a subclass
/// (mod_event_socket.c:2495–2528).
const EVENTS: &[&str] = &[
    "CHANNEL_CREATE",
    "CHANNEL_PROGRESS",
    "CHANNEL_PROGRESS_MEDIA",
    "CHANNEL_ANSWER",
    "CHANNEL_BRIDGE",
    "CHANNEL_UNBRIDGE",
    "CHANNEL_HOLD",
    "CHANNEL_UNHOLD",
    "CHANNEL_CALLSTATE",
    "CHANNEL_HANGUP_COMPLETE",
    "CHANNEL_DESTROY",
    "BACKGROUND_JOB",
    "CUSTOM",
    "sofia::register",
    "sofia::unregister",
    "sofia::expire",
    "sofia::gateway_state",
    "sofia::gateway_add",
    "sofia::gateway_delete",
];

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("FreeSWITCH is not connected")]
    Offline,
    #[error("no such channel")]
    NoChannel,
    #[error("FreeSWITCH refused: {0}")]
    Refused(String),
}

/// The live model and the way to the switch. Cheap to clone.
#[derive(Clone)]
pub struct Live {
    model: Arc<RwLock<Model>>,
    state: watch::Receiver<SwitchState>,
    client: watch::Receiver<Option<InboundClient>>,
    feed: broadcast::Sender<Arc<Change>>,
    ended: Arc<std::sync::Mutex<Ended>>,
}

/// How long the switch's word on an ended call is kept: reconciliation, which settles the
/// calls a crash left behind, looks every few seconds.
const ENDED_KEPT: Duration = Duration::from_secs(300);

/// Calls the switch reported ended (CHANNEL_HANGUP_COMPLETE, whose channel variables always
/// come with it: switch_channel_event_set_extended_data) and the seconds each talked
/// (`variable_billsec`), for [`ENDED_KEPT`].
#[derive(Default)]
struct Ended {
    billsec: HashMap<String, i64>,
    order: std::collections::VecDeque<(Instant, String)>,
}

impl Ended {
    fn record(&mut self, uuid: String, billsec: i64) {
        while self.order.front().is_some_and(|(at, _)| at.elapsed() > ENDED_KEPT) {
            if let Some((_, u)) = self.order.pop_front() {
                self.billsec.remove(&u);
            }
        }
        if self.billsec.insert(uuid.clone(), billsec).is_none() {
            self.order.push_back((Instant::now(), uuid));
        }
    }
}

impl Live {
    /// A model with no switch behind it (the API alone, in tests): always offline, empty.
    pub fn detached() -> Live {
        let (_, state) = watch::channel(SwitchState::Offline { error: "no FreeSWITCH configured".into(), retry_in_ms: 0 });
        let (_, client) = watch::channel(None);
        Live { model: Arc::default(), state, client, feed: broadcast::channel(16).0, ended: Arc::default() }
    }

    /// How many seconds a call the switch reported ended in the last minutes talked.
    pub fn talked(&self, uuid: &str) -> Option<i64> {
        self.ended.lock().unwrap_or_else(|p| p.into_inner()).billsec.get(uuid).copied()
    }

    /// Follows the supervisor's connection: each new one rebuilds the model.
    pub fn spawn(sup: &Supervisor, store: crate::store::Store, mut shutdown: watch::Receiver<bool>) -> Live {
        let live = Live {
            model: Arc::default(),
            state: sup.state_watch(),
            client: sup.client_watch(),
            feed: broadcast::channel(4096).0,
            ended: Arc::default(),
        };
        let me = live.clone();
        tokio::spawn(async move {
            let mut clients = me.client.clone();
            let mut states = me.state.clone();
            loop {
                let current = clients.borrow_and_update().clone();
                if let Some(c) = current {
                    let (me2, store2) = (me.clone(), store.clone());
                    let handle = tokio::runtime::Handle::current();
                    let follow = tokio::task::spawn_blocking(move || me2.follow(&handle, &c, &store2));
                    tokio::select! {
                        _ = follow => {}
                        _ = shutdown.wait_for(|s| *s) => return,
                    }
                }
                tokio::select! {
                    r = clients.changed() => if r.is_err() { return },
                    r = states.changed() => {
                        if r.is_err() { return }
                        let state = states.borrow_and_update().clone();
                        let _ = me.feed.send(Arc::new(Change::Switch { state }));
                    }
                    _ = shutdown.wait_for(|s| *s) => return,
                }
            }
        });
        live
    }

    /// One connection's life: subscribe, snapshot, then apply events until it closes.
    fn follow(&self, rt: &tokio::runtime::Handle, client: &InboundClient, store: &crate::store::Store) {
        let mut rx = client.connection().subscribe();
        if let Err(e) = rt.block_on(client.events(EVENTS)) {
            tracing::warn!(error = %e, "subscribing to FreeSWITCH's events failed");
            return;
        }
        let mut tenants = StoreTenants { store, cache: HashMap::new() };
        let snapshot = rt.block_on(async {
            let channels = client.api_cmd(&ApiCommand::ShowChannels).await?;
            let regs = client.api_cmd(&ApiCommand::ShowRegistrations).await?;
            let gws = client.api_cmd(&ApiCommand::SofiaGateways).await?;
            Ok::<_, crate::esl::EslError>((channels, regs, gws))
        });
        match snapshot {
            Ok((channels, regs, gws)) => {
                let mut m = self.model.write().unwrap_or_else(|p| p.into_inner());
                if let Err(e) = m.load_channels(&channels, &mut tenants) {
                    tracing::warn!(error = %e, "reading the switch's channels");
                }
                if let Err(e) = m.load_registrations(&regs, &mut tenants) {
                    tracing::warn!(error = %e, "reading the switch's registrations");
                }
                m.load_gateways_xml(&gws);
                tracing::info!(channels = m.channels.len(), registrations = m.registrations.len(), gateways = m.gateways.len(), "live model loaded");
            }
            Err(e) => {
                tracing::warn!(error = %e, "loading the live model failed");
                return;
            }
        }
        let _ = self.feed.send(Arc::new(Change::Reloaded));
        while let Some(ev) = rx.blocking_recv() {
            if ev.is("CHANNEL_HANGUP_COMPLETE") {
                if let (Some(uuid), Some(billsec)) = (ev.unique_id(), ev.variable("billsec").and_then(|b| b.parse::<i64>().ok())) {
                    self.ended.lock().unwrap_or_else(|p| p.into_inner()).record(uuid.into_owned(), billsec);
                }
            }
            let change = {
                let mut m = self.model.write().unwrap_or_else(|p| p.into_inner());
                m.apply(&ev, &mut tenants)
            };
            if let Some(c) = change {
                let _ = self.feed.send(Arc::new(c));
            }
            if model::gateways_moved(&ev) {
                self.reload_gateways(rt, client);
            }
        }
        // The connection is gone: what the model holds is no longer known to be true.
        *self.model.write().unwrap_or_else(|p| p.into_inner()) = Model::default();
        let _ = self.feed.send(Arc::new(Change::Reloaded));
    }

    /// Reads sofia's own list of gateways again and sends each to the feed.
    fn reload_gateways(&self, rt: &tokio::runtime::Handle, client: &InboundClient) {
        match rt.block_on(client.api_cmd(&ApiCommand::SofiaGateways)) {
            Ok(xml) => {
                let gws: Vec<LiveGateway> = {
                    let mut m = self.model.write().unwrap_or_else(|p| p.into_inner());
                    m.load_gateways_xml(&xml);
                    m.gateways.values().cloned().collect()
                };
                for g in gws {
                    let _ = self.feed.send(Arc::new(Change::Gateway { gateway: g }));
                }
            }
            Err(e) => tracing::warn!(error = %e, "reading the switch's gateways"),
        }
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
        self.state.borrow().clone()
    }

    pub fn online(&self) -> bool {
        self.state() == SwitchState::Online
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Change>> {
        self.feed.subscribe()
    }

    /// Sends a change to the feed (click-to-call results).
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

    pub fn gateways(&self) -> Vec<LiveGateway> {
        self.read().gateways.values().cloned().collect()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Model> {
        self.model.read().unwrap_or_else(|p| p.into_inner())
    }

    fn client(&self) -> Result<InboundClient, ControlError> {
        self.client.borrow().clone().ok_or(ControlError::Offline)
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

/// Tenant look-ups for the model, cached for a minute (a renamed domain shows within one).
struct StoreTenants<'a> {
    store: &'a crate::store::Store,
    cache: HashMap<String, (Option<i64>, Instant)>,
}

impl StoreTenants<'_> {
    fn cached(&mut self, key: String, find: impl FnOnce(&crate::store::Store) -> Option<i64>) -> Option<i64> {
        if let Some((t, at)) = self.cache.get(&key) {
            if at.elapsed() < Duration::from_secs(60) {
                return *t;
            }
        }
        let t = find(self.store);
        self.cache.insert(key, (t, Instant::now()));
        t
    }
}

impl model::Tenants for StoreTenants<'_> {
    fn by_domain(&mut self, domain: &str) -> Option<i64> {
        if domain.is_empty() {
            return None;
        }
        self.cached(format!("d:{}", domain.to_ascii_lowercase()), |s| s.tenant_by_domain(domain).ok().flatten().map(|t| t.id))
    }
    fn by_did(&mut self, number: &str) -> Option<i64> {
        self.cached(format!("n:{number}"), |s| s.did_route(number).ok().flatten().map(|r| r.tenant.0))
    }
}
