//! Reconciliation with the switch: at start and every few seconds, switchboard's live calls
//! are compared with FreeSWITCH's own channel list (`show channels as json` over the control
//! connection). A slot whose call the switch no longer has is freed and logged; a credit
//! reservation no call task owns (left by a crash) is settled once its call is gone.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use tracing::{info, warn};

use super::caps::{channel_uuids, Caps};
use crate::esl::inbound::InboundClient;
use crate::store::Store;

/// How old a slot or reservation must be before the switch's list may contradict it (a call
/// is counted here a moment before the list shows it).
pub const GRACE: Duration = Duration::from_secs(10);

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Pass {
    /// Calls whose slots were freed.
    pub freed: Vec<String>,
    /// Calls whose orphaned reservations were settled.
    pub settled: Vec<String>,
}

/// One comparison with the switch.
pub async fn once(caps: &Caps, store: &Store, client: &InboundClient, grace: Duration) -> Result<Pass, String> {
    let answer = client.api("show channels as json").await.map_err(|e| e.to_string())?;
    let live = channel_uuids(&answer)?;
    let freed = caps.reconcile(&live, grace);
    if !freed.is_empty() {
        warn!(count = freed.len(), calls = ?freed, "freed the slots of calls the switch no longer has");
    }
    let owned: HashSet<String> = caps.calls().into_iter().collect();
    let s = store.clone();
    let held = tokio::task::spawn_blocking(move || s.reservations()).await.map_err(|e| e.to_string())?.map_err(|e| e.to_string())?;
    // Stored times are rounded to the second: one second of slack.
    let cutoff = jiff::Timestamp::now() - jiff::SignedDuration::try_from(grace).unwrap_or_default() + jiff::SignedDuration::from_secs(1);
    let mut settled = Vec::new();
    for r in held {
        let old = r.updated_at.parse::<jiff::Timestamp>().map(|t| t <= cutoff).unwrap_or(true);
        if owned.contains(&r.call_uuid) || live.contains(&r.call_uuid) || !old {
            continue;
        }
        let (s, uuid) = (store.clone(), r.call_uuid.clone());
        match tokio::task::spawn_blocking(move || s.settle_orphan(&uuid)).await {
            Ok(Ok(true)) => {
                info!(call = %r.call_uuid, tenant = r.tenant.0, held = r.amount, "settled the reservation of a call that ended while no task owned it");
                settled.push(r.call_uuid);
            }
            Ok(Ok(false)) => {}
            Ok(Err(e)) => warn!(error = %e, call = %r.call_uuid, "settling an orphaned reservation"),
            Err(e) => warn!(error = %e, "settling an orphaned reservation"),
        }
    }
    Ok(Pass { freed, settled })
}

/// Runs [`once`] every `every` while the switch is connected, until `stop`.
pub async fn run(
    caps: Arc<Caps>,
    store: Store,
    client: impl Fn() -> Option<InboundClient> + Send + 'static,
    every: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        if let Some(c) = client() {
            if let Err(e) = once(&caps, &store, &c, GRACE).await {
                warn!(error = %e, "reconciling with the switch");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}
