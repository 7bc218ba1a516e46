//! Metering a prepaid call while it is up: the I/O of the rules in [`crate::billing::hold`]
//! (how much is held, when the hold grows, where the failsafe stands).
//!
//! Before a rated call of a prepaid tenant rings, credit for its first window is held
//! (`Store::hold`: checked against the balance less what other calls hold, in one
//! transaction); a call that cannot pay for its first increment is refused. From the answer
//! on, the hold is extended one window ahead, `LEAD` seconds before the covered time runs
//! out. FreeSWITCH enforces the end itself: `sched_hangup` is armed at the end of the
//! covered time and re-armed (`sched_del <uuid>` then `sched_hangup`, the task's group being
//! the channel UUID: switch_ivr_schedule_hangup in switch_ivr_async.c) after each extension,
//! so a call never outlives its money even if switchboard dies. When an extension fails the
//! parties hear a warning tone and the call ends at the covered time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing::{info, warn};

use crate::billing::hold::{self, Meter};
use crate::billing::rating::Rate;
use crate::esl::{ApiCommand, Connection, Leg};
use crate::store::{Store, TenantId};

pub use crate::billing::hold::{LEAD, WINDOW};

/// What the parties hear when the credit will not cover another window.
pub const WARNING: &str = "tone_stream://%(500,500,480,620);loops=3";

/// A prepaid call's metering; dropping it stops the extensions (the settlement releases
/// the hold).
pub struct Prepaid {
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Prepaid {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What the meter needs to know of the call.
pub struct MeteredCall {
    pub store: Store,
    pub conn: Connection,
    pub uuid: String,
    pub tenant: TenantId,
    pub rate: Rate,
    /// One second of the call's clock (shorter in tests, as the simulator's second_ms).
    pub second: Duration,
}

async fn hold(c: &MeteredCall, want: i64) -> Option<i64> {
    let (uuid, tenant, rate) = (c.uuid.clone(), c.tenant, c.rate);
    super::state::db(&c.store, move |st| st.hold(tenant, &uuid, &rate, want)).await.map_err(|e| warn!(error = %e, "holding credit")).ok()
}

/// (Re)arms the switch's hangup `secs` seconds from now, replacing any earlier one.
async fn arm(c: &MeteredCall, secs: i64) {
    let _ = c.conn.api_cmd(&ApiCommand::SchedDel { group: c.uuid.clone() }).await;
    if let Err(e) = c.conn.api_cmd_ok(&ApiCommand::SchedHangup { after_secs: secs, uuid: c.uuid.clone(), cause: "ALLOTTED_TIMEOUT".into() }).await {
        warn!(error = %e, "arming the switch's hangup");
    }
}

/// Holds the first window for a call about to ring for at most `ring_secs`: None when the
/// tenant cannot pay for the first increment (the caller refuses the call). The switch's
/// hangup is armed at once (ring time plus the covered time), so a call answered while
/// switchboard is gone still ends in time.
pub async fn authorize(call: MeteredCall, ring_secs: i64) -> Option<Prepaid> {
    let meter = Meter::start(hold(&call, hold::first_want(&call.rate)).await?)?;
    arm(&call, meter.failsafe_before_answer(ring_secs)).await;
    info!(seconds = meter.covered(), "prepaid call authorised");
    let task = tokio::spawn(run(Arc::new(call), meter));
    Some(Prepaid { task })
}

async fn run(c: Arc<MeteredCall>, mut meter: Meter) {
    let mut st = c.conn.status_watch();
    let answered = match st.wait_for(|s| s.answered.is_some() || s.hangup.is_some() || s.closed.is_some()).await {
        Ok(s) => s.answered,
        Err(_) => None,
    };
    let Some(t0) = answered else { return };
    let at = |secs: i64| t0 + c.second * secs.max(0) as u32;
    let remaining = |covered: i64| hold::failsafe_secs(at(covered).saturating_duration_since(Instant::now()), c.second);
    arm(&c, remaining(meter.covered())).await;
    // Kept with the hold: should switchboard die, the call is then settled on at most its
    // real length, not the whole window.
    let uuid = c.uuid.clone();
    let _ = super::state::db(&c.store, move |st| st.reservation_answered(&uuid)).await.map_err(|e| warn!(error = %e, "noting the answer"));
    loop {
        tokio::time::sleep_until(at(meter.extend_at()).into()).await;
        // A failed hold covers no more than before, like a refused one.
        let covered = hold(&c, meter.want()).await.unwrap_or(0);
        if !meter.extended(covered) {
            info!(seconds = meter.covered(), "credit exhausted: the call ends at its covered time");
            let _ = c.conn.api_cmd(&ApiCommand::UuidBroadcast { uuid: c.uuid.clone(), what: WARNING.into(), leg: Leg::Both }).await;
            return;
        }
        arm(&c, remaining(meter.covered())).await;
    }
}
