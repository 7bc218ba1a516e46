//! Keeping the model: one blocking thread per control connection owns its updates. It
//! subscribes to the events first, then loads the switch's lists, then applies the events
//! queued meanwhile, so nothing that happened during the snapshot is lost (a hangup already
//! in the snapshot's past removes nothing, an upsert of a listed channel changes nothing).
//! Store lookups (which tenant a domain or DID is) happen on that thread too, cached.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{broadcast, watch};

use super::model::{gateways_moved, Change, LiveGateway, Model};
use super::tenants::StoreTenants;
use super::{show, Switch};
use crate::esl::inbound::{InboundClient, Supervisor};
use crate::esl::ApiCommand;

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
    "conference::maintenance",
];

/// How long the switch's word on an ended call is kept: reconciliation, which settles the
/// calls a crash left behind, looks every few seconds.
const ENDED_KEPT: Duration = Duration::from_secs(300);

/// Calls the switch reported ended (CHANNEL_HANGUP_COMPLETE, whose channel variables always
/// come with it: switch_channel_event_set_extended_data) and the seconds each talked
/// (`variable_billsec`), for [`ENDED_KEPT`].
#[derive(Default)]
pub(super) struct Ended {
    billsec: HashMap<String, i64>,
    order: VecDeque<(Instant, String)>,
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

    pub(super) fn talked(&self, uuid: &str) -> Option<i64> {
        self.billsec.get(uuid).copied()
    }
}

impl Switch {
    /// Follows the supervisor's connection: each new one rebuilds the model.
    pub fn spawn(sup: &Supervisor, store: crate::store::Store, mut shutdown: watch::Receiver<bool>) -> Switch {
        let switch = Switch {
            model: Arc::default(),
            state: sup.state_watch(),
            client: sup.client_watch(),
            feed: broadcast::channel(4096).0,
            ended: Arc::default(),
        };
        let me = switch.clone();
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
                        me.publish(Change::Switch { state });
                    }
                    _ = shutdown.wait_for(|s| *s) => return,
                }
            }
        });
        switch
    }

    /// One connection's life: subscribe, snapshot, then apply events until it closes.
    fn follow(&self, rt: &tokio::runtime::Handle, client: &InboundClient, store: &crate::store::Store) {
        let mut rx = client.connection().subscribe();
        if let Err(e) = rt.block_on(client.events(EVENTS)) {
            tracing::warn!(error = %e, "subscribing to FreeSWITCH's events failed");
            return;
        }
        let mut tenants = StoreTenants::new(store);
        let snapshot = rt.block_on(async {
            let channels = client.api_cmd(&ApiCommand::ShowChannels).await?;
            let regs = client.api_cmd(&ApiCommand::ShowRegistrations).await?;
            let gws = client.api_cmd(&ApiCommand::SofiaGateways).await?;
            // A switch without mod_conference answers -ERR: no rooms.
            let rooms = client.api_cmd(&ApiCommand::ConferenceListAll).await.unwrap_or_default();
            Ok::<_, crate::esl::EslError>((channels, regs, gws, rooms))
        });
        match snapshot {
            Ok((channels, regs, gws, rooms)) => {
                let mut m = self.write();
                match show::channels(&channels) {
                    Ok(rows) => m.load_channels(rows, &mut tenants),
                    Err(e) => tracing::warn!(error = %e, "reading the switch's channels"),
                }
                match show::registrations(&regs) {
                    Ok(rows) => m.load_registrations(rows, &mut tenants),
                    Err(e) => tracing::warn!(error = %e, "reading the switch's registrations"),
                }
                m.load_gateways(show::gateways(&gws));
                m.load_conferences(&rooms, &mut tenants);
                tracing::info!(channels = m.channels.len(), registrations = m.registrations.len(), gateways = m.gateways.len(), "live model loaded");
            }
            Err(e) => {
                tracing::warn!(error = %e, "loading the live model failed");
                return;
            }
        }
        self.publish(Change::Reloaded);
        while let Some(ev) = rx.blocking_recv() {
            if ev.is("CHANNEL_HANGUP_COMPLETE") {
                if let (Some(uuid), Some(billsec)) = (ev.unique_id(), ev.variable("billsec").and_then(|b| b.parse::<i64>().ok())) {
                    self.ended.lock().unwrap_or_else(|p| p.into_inner()).record(uuid.into_owned(), billsec);
                }
            }
            let change = self.write().apply(&ev, &mut tenants);
            if let Some(c) = change {
                self.publish(c);
            }
            if gateways_moved(&ev) {
                self.reload_gateways(rt, client);
            }
        }
        // The connection is gone: what the model holds is no longer known to be true.
        *self.write() = Model::default();
        self.publish(Change::Reloaded);
    }

    /// Reads sofia's own list of gateways again and sends each to the feed.
    fn reload_gateways(&self, rt: &tokio::runtime::Handle, client: &InboundClient) {
        match rt.block_on(client.api_cmd(&ApiCommand::SofiaGateways)) {
            Ok(xml) => {
                let gws: Vec<LiveGateway> = {
                    let mut m = self.write();
                    m.load_gateways(show::gateways(&xml));
                    m.gateways.values().cloned().collect()
                };
                for g in gws {
                    self.publish(Change::Gateway { gateway: g });
                }
            }
            Err(e) => tracing::warn!(error = %e, "reading the switch's gateways"),
        }
    }
}
