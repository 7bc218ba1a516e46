//! Reconciliation with the switch: at start and every few seconds, switchboard's live calls
//! are compared with FreeSWITCH's own channel list (`show channels as json` over the control
//! connection, read by the live model's parser, [`crate::switch::show`]). A slot whose call
//! the switch no longer has is freed and logged; a call up on the switch that no task owns
//! is counted against the cap of the tenant the one rule names ([`tenant_of`]); a credit
//! reservation no call task owns (left by a crash) is settled once its call is gone, on the
//! seconds the switch says it talked when the live model saw it end.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use tracing::{info, warn};

use super::caps::Caps;
use crate::esl::inbound::InboundClient;
use crate::store::ledger::Talked;
use crate::store::Store;
use crate::switch::show::{self, ChannelRow};
use crate::switch::tenants::{StoreTenants, Tenants};
use crate::switch::Switch;

/// How old a slot or reservation must be before the switch's list may contradict it (a call
/// is counted here a moment before the list shows it).
pub const GRACE: Duration = Duration::from_secs(10);

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Pass {
    /// Calls up on the switch that no task owns (routed before a restart), now counted.
    pub adopted: Vec<String>,
    /// Calls whose slots were freed.
    pub freed: Vec<String>,
    /// Calls whose orphaned reservations were settled.
    pub settled: Vec<String>,
}

/// What one pass leaves for the next: the calls found gone whose length the switch had not
/// told yet. The live model reads the switch's events on a thread of its own, so a call's
/// CHANNEL_HANGUP_COMPLETE can be read there a moment after `show channels` stopped listing
/// it; such a call is settled at the next pass, on the switch's figure if it came.
#[derive(Debug, Default)]
pub struct Waiting(HashSet<String>);

/// One comparison with the switch. `talked` tells how long a call the switch reported ended
/// talked (the live model's record of its CHANNEL_HANGUP_COMPLETE).
pub async fn once(
    caps: &Caps,
    store: &Store,
    client: &InboundClient,
    grace: Duration,
    talked: &(dyn Fn(&str) -> Option<i64> + Sync),
    waiting: &mut Waiting,
) -> Result<Pass, String> {
    let rows = show::listed(client).await?;
    let live: HashSet<String> = rows.iter().map(|c| c.uuid.clone()).collect();
    let freed = caps.reconcile(&live, grace);
    if !freed.is_empty() {
        warn!(count = freed.len(), calls = ?freed, "freed the slots of calls the switch no longer has");
    }
    let adopted = adopt(caps, store, &rows, grace).await?;
    if !adopted.is_empty() {
        info!(count = adopted.len(), calls = ?adopted, "counted calls up on the switch that no task owns (routed before a restart)");
    }
    let owned: HashSet<String> = caps.calls().into_iter().collect();
    let s = store.clone();
    let held = tokio::task::spawn_blocking(move || s.reservations()).await.map_err(|e| e.to_string())?.map_err(|e| e.to_string())?;
    waiting.0.retain(|u| held.iter().any(|r| r.call_uuid == *u));
    // Stored times are rounded to the second: one second of slack.
    let cutoff = jiff::Timestamp::now() - jiff::SignedDuration::try_from(grace).unwrap_or_default() + jiff::SignedDuration::from_secs(1);
    let mut settled = Vec::new();
    for r in held {
        let old = r.updated_at.parse::<jiff::Timestamp>().map(|t| t <= cutoff).unwrap_or(true);
        if owned.contains(&r.call_uuid) || live.contains(&r.call_uuid) || !old {
            continue;
        }
        // The switch's own figure when it told us the call ended; else, from the second pass
        // that finds it gone, at most from its answer (as stored, to the second) to now; else
        // (not answered while watched) what it held.
        let how = match talked(&r.call_uuid) {
            Some(secs) => Talked::Exactly(secs),
            None if waiting.0.insert(r.call_uuid.clone()) => continue,
            None => match r.answered_at.as_deref().and_then(|a| a.parse::<jiff::Timestamp>().ok()) {
                Some(at) => Talked::AtMost(jiff::Timestamp::now().duration_since(at).as_secs() + 1),
                None => Talked::Unknown,
            },
        };
        waiting.0.remove(&r.call_uuid);
        let (s, uuid) = (store.clone(), r.call_uuid.clone());
        match tokio::task::spawn_blocking(move || s.settle_orphan(&uuid, how)).await {
            Ok(Ok(true)) => {
                info!(call = %r.call_uuid, tenant = r.tenant.0, held = r.amount, talked = ?how, "settled the reservation of a call that ended while no task owned it");
                settled.push(r.call_uuid);
            }
            Ok(Ok(false)) => {}
            Ok(Err(e)) => warn!(error = %e, call = %r.call_uuid, "settling an orphaned reservation"),
            Err(e) => warn!(error = %e, "settling an orphaned reservation"),
        }
    }
    Ok(Pass { adopted, freed, settled })
}

/// The tenant whose cap a call up on the switch counts against: whose its entry says
/// (`pbx::channel::Facts::entry`, the rule routing and the live model follow).
pub fn tenant_of(row: &ChannelRow, tenants: &mut dyn Tenants) -> Option<i64> {
    tenants.of(&row.facts())
}

/// Counts the calls handed to switchboard (A-legs) that are older than `grace` and hold no
/// slot: their tenant by [`tenant_of`], their trunk from the bridge they run.
async fn adopt(caps: &Caps, store: &Store, rows: &[ChannelRow], grace: Duration) -> Result<Vec<String>, String> {
    let owned: HashSet<String> = caps.calls().into_iter().collect();
    let old = jiff::Timestamp::now().as_second() - grace.as_secs() as i64;
    let strays: Vec<ChannelRow> =
        rows.iter().filter(|c| c.direction == "inbound" && c.created_epoch <= old && !owned.contains(&c.uuid)).cloned().collect();
    if strays.is_empty() {
        return Ok(Vec::new());
    }
    let s = store.clone();
    let found = tokio::task::spawn_blocking(move || -> Vec<(ChannelRow, i64)> {
        let mut tenants = StoreTenants::new(&s);
        strays.into_iter().filter_map(|c| tenant_of(&c, &mut tenants).map(|t| (c, t))).collect()
    })
    .await
    .map_err(|e| e.to_string())?;
    Ok(found
        .into_iter()
        .filter(|(c, tenant)| caps.adopt(&c.uuid, *tenant, crate::pbx::dialstring::trunk_of(&c.application_data)))
        .map(|(c, _)| c.uuid)
        .collect())
}

/// Runs [`once`] every `every` while the switch is connected, until `stop`.
pub async fn run(caps: Arc<Caps>, store: Store, switch: Switch, every: Duration, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut waiting = Waiting::default();
    let talked = |uuid: &str| switch.talked(uuid);
    loop {
        if let Some(c) = switch.client() {
            if let Err(e) = once(&caps, &store, &c, GRACE, &talked, &mut waiting).await {
                warn!(error = %e, "reconciling with the switch");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}
