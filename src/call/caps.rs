//! Concurrency caps, the toll-fraud guard: how many calls each tenant has up (against its
//! `max_concurrent_calls`) and how many channels each trunk carries (against its
//! `max_channels`); 0 means unlimited.
//!
//! A slot is taken and checked under one lock, and is a guard owned by the call task: every
//! way a task ends (return, error, panic, shutdown dropping it) releases it. Slots are keyed
//! by the call's channel UUID, so reconciliation against FreeSWITCH's own channel list can
//! free the slot of a call the switch no longer has.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Default)]
pub struct Caps {
    inner: Mutex<Live>,
}

/// Call UUID → (tenant or trunk, since).
type Holders = HashMap<String, (i64, Instant)>;

#[derive(Default)]
struct Live {
    /// Call UUID → (tenant, since).
    tenants: Holders,
    /// Call UUID → (trunk, since): the trunk a call is dialing out on.
    trunks: Holders,
    tenant_count: HashMap<i64, usize>,
    trunk_count: HashMap<i64, usize>,
    /// Call UUID → when its task let its tenant slot go. The switch lists a channel until
    /// its CHANNEL_DESTROY has gone through the core's SQL queue (switch_core_sqldb.c:
    /// 2449–2461), after the socket closed: a call that just ended here can still be in
    /// `show channels`, and must not be taken for one routed before a restart.
    ended: HashMap<String, Instant>,
    /// Calls reserved before they exist (a fax try's, while the far end rings), whose slots
    /// their task claims when the call reaches the socket.
    /// Each kind's slot still unclaimed: (tenant, trunk).
    reserved: HashMap<String, (bool, bool)>,
}

/// How long a call that ended here is not adopted again.
const ENDED_MEMORY: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Tenant,
    Trunk,
}

/// A held slot; dropping it frees it.
pub struct Slot {
    caps: Arc<Caps>,
    uuid: String,
    kind: Kind,
}

impl Live {
    fn maps(&mut self, kind: Kind) -> (&mut Holders, &mut HashMap<i64, usize>) {
        match kind {
            Kind::Tenant => (&mut self.tenants, &mut self.tenant_count),
            Kind::Trunk => (&mut self.trunks, &mut self.trunk_count),
        }
    }

    fn take(&mut self, kind: Kind, uuid: &str, key: i64, max: i64) -> bool {
        if let Some(&(tenant, trunk)) = self.reserved.get(uuid) {
            // Reserved for this call: its own slot, already counted, now its task's.
            let unclaimed = if kind == Kind::Tenant { tenant } else { trunk };
            let (calls, _) = self.maps(kind);
            if unclaimed && calls.get(uuid).is_some_and(|(k, _)| *k == key) {
                let left = if kind == Kind::Tenant { (false, trunk) } else { (tenant, false) };
                if left == (false, false) {
                    self.reserved.remove(uuid);
                } else {
                    self.reserved.insert(uuid.to_string(), left);
                }
                return true;
            }
        }
        let (calls, counts) = self.maps(kind);
        if calls.contains_key(uuid) {
            // A UUID holds one slot of each kind (a retried trunk re-takes its own).
            return false;
        }
        let n = counts.entry(key).or_default();
        if max > 0 && *n as i64 >= max {
            return false;
        }
        *n += 1;
        calls.insert(uuid.to_string(), (key, Instant::now()));
        true
    }

    fn free(&mut self, kind: Kind, uuid: &str) -> bool {
        let (calls, counts) = self.maps(kind);
        let Some((key, _)) = calls.remove(uuid) else { return false };
        if let Some(n) = counts.get_mut(&key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                counts.remove(&key);
            }
        }
        true
    }
}

impl Caps {
    fn lock(&self) -> std::sync::MutexGuard<'_, Live> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A slot of the tenant's `max` (0: unlimited, still counted) for the call `uuid`.
    pub fn tenant(self: &Arc<Self>, uuid: &str, tenant: i64, max: i64) -> Option<Slot> {
        self.lock().take(Kind::Tenant, uuid, tenant, max).then(|| Slot { caps: self.clone(), uuid: uuid.into(), kind: Kind::Tenant })
    }

    /// A channel of the trunk's `max` for the call `uuid` while it dials out on it.
    pub fn trunk(self: &Arc<Self>, uuid: &str, trunk: i64, max: i64) -> Option<Slot> {
        self.lock().take(Kind::Trunk, uuid, trunk, max).then(|| Slot { caps: self.clone(), uuid: uuid.into(), kind: Kind::Trunk })
    }

    /// Reserves the tenant's and the trunk's slots for a call about to be placed as `uuid`
    /// (both or neither); the call's own [`Caps::tenant`] and [`Caps::trunk`] then claim
    /// them. Why not, when either is full.
    pub fn reserve(&self, uuid: &str, tenant: i64, tenant_max: i64, trunk: i64, trunk_max: i64) -> Result<(), String> {
        let mut g = self.lock();
        if !g.take(Kind::Tenant, uuid, tenant, tenant_max) {
            return Err(format!("the tenant's {tenant_max} concurrent calls are all in use"));
        }
        if !g.take(Kind::Trunk, uuid, trunk, trunk_max) {
            g.free(Kind::Tenant, uuid);
            return Err(format!("the trunk's {trunk_max} channels are all in use"));
        }
        g.reserved.insert(uuid.to_string(), (true, true));
        Ok(())
    }

    /// Ends a reservation: its slots are freed unless its call claimed them (its task's
    /// slots free them then).
    pub fn release(&self, uuid: &str) {
        let mut g = self.lock();
        if let Some((tenant, trunk)) = g.reserved.remove(uuid) {
            if tenant {
                g.free(Kind::Tenant, uuid);
            }
            if trunk {
                g.free(Kind::Trunk, uuid);
            }
        }
    }

    pub fn tenant_calls(&self, tenant: i64) -> usize {
        self.lock().tenant_count.get(&tenant).copied().unwrap_or(0)
    }

    pub fn trunk_calls(&self, trunk: i64) -> usize {
        self.lock().trunk_count.get(&trunk).copied().unwrap_or(0)
    }

    /// Frees the slots of calls the switch no longer has (`live`: its channel UUIDs), except
    /// those taken within `grace` (a call may be counted here a moment before the switch's
    /// list shows it). Returns the freed calls' UUIDs.
    pub fn reconcile(&self, live: &HashSet<String>, grace: Duration) -> Vec<String> {
        let mut g = self.lock();
        let gone = |m: &Holders| -> Vec<String> {
            m.iter().filter(|(u, (_, since))| !live.contains(*u) && since.elapsed() >= grace).map(|(u, _)| u.clone()).collect()
        };
        let mut freed = gone(&g.tenants);
        freed.extend(gone(&g.trunks));
        freed.sort();
        freed.dedup();
        for u in &freed {
            g.free(Kind::Tenant, u);
            g.free(Kind::Trunk, u);
        }
        freed
    }

    /// Counts a call that is up on the switch but that no task of this process owns (one
    /// routed before a restart): its tenant slot and, while it is out on one, its trunk
    /// channel, whatever the caps (it is up already). Reconciliation frees them when the
    /// switch no longer lists the call. A call whose task ended here within the last minute
    /// is not adopted (it is on its way out of the switch's list): false.
    pub fn adopt(&self, uuid: &str, tenant: i64, trunk: Option<i64>) -> bool {
        let mut g = self.lock();
        g.ended.retain(|_, at| at.elapsed() < ENDED_MEMORY);
        if g.ended.contains_key(uuid) {
            return false;
        }
        g.take(Kind::Tenant, uuid, tenant, 0);
        if let Some(t) = trunk {
            g.take(Kind::Trunk, uuid, t, 0);
        }
        true
    }

    /// Every call holding a slot.
    pub fn calls(&self) -> Vec<String> {
        let g = self.lock();
        let mut v: Vec<String> = g.tenants.keys().chain(g.trunks.keys()).cloned().collect();
        v.sort();
        v.dedup();
        v
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut g = self.caps.lock();
        if g.free(self.kind, &self.uuid) && self.kind == Kind::Tenant {
            g.ended.insert(self.uuid.clone(), Instant::now());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cap_refuses_the_call_over_it_until_one_ends() {
        let caps = Arc::new(Caps::default());
        let a = caps.tenant("a", 1, 2).unwrap();
        let _b = caps.tenant("b", 1, 2).unwrap();
        assert!(caps.tenant("c", 1, 2).is_none(), "the third call of a cap of two");
        let _other = caps.tenant("d", 2, 2).expect("another tenant's cap is its own");
        drop(a);
        let _c = caps.tenant("c", 1, 2).expect("a slot came free");
        assert_eq!(caps.tenant_calls(1), 2);
    }

    #[test]
    fn a_reservation_counts_until_its_call_claims_it_or_it_is_released() {
        let caps = Arc::new(Caps::default());
        caps.reserve("fax", 1, 2, 9, 1).unwrap();
        assert_eq!((caps.tenant_calls(1), caps.trunk_calls(9)), (1, 1));
        assert!(caps.reserve("fax2", 1, 2, 9, 1).unwrap_err().contains("trunk"), "the trunk's one channel is reserved");
        assert_eq!(caps.tenant_calls(1), 1, "a refused reservation holds nothing");
        let _voice = caps.tenant("voice", 1, 2).unwrap();
        assert!(caps.tenant("voice2", 1, 2).is_none(), "the reservation counts against the cap");
        // The call reaches the socket: its task claims both, and the runner's release then
        // frees nothing of the call's.
        let t = caps.tenant("fax", 1, 2).expect("its own reserved slot");
        let k = caps.trunk("fax", 9, 1).expect("its own reserved channel");
        caps.release("fax");
        assert_eq!((caps.tenant_calls(1), caps.trunk_calls(9)), (2, 1));
        drop((t, k));
        assert_eq!((caps.tenant_calls(1), caps.trunk_calls(9)), (1, 0));
        // A call that never came: released, both freed.
        caps.reserve("lost", 1, 2, 9, 1).unwrap();
        caps.release("lost");
        assert_eq!((caps.tenant_calls(1), caps.trunk_calls(9)), (1, 0));
    }

    #[test]
    fn zero_is_unlimited_and_still_counted() {
        let caps = Arc::new(Caps::default());
        let slots: Vec<_> = (0..100).map(|i| caps.tenant(&i.to_string(), 1, 0).unwrap()).collect();
        assert_eq!(caps.tenant_calls(1), 100);
        drop(slots);
        assert_eq!(caps.tenant_calls(1), 0);
    }

    #[tokio::test]
    async fn a_task_that_panics_frees_its_slot() {
        let caps = Arc::new(Caps::default());
        let c = caps.clone();
        let task = tokio::spawn(async move {
            let _slot = c.tenant("x", 1, 1).unwrap();
            tokio::task::yield_now().await;
            panic!("mid-call");
        });
        assert!(task.await.unwrap_err().is_panic());
        assert_eq!(caps.tenant_calls(1), 0);
        assert!(caps.tenant("y", 1, 1).is_some());
    }

    #[test]
    fn reconciliation_frees_calls_the_switch_does_not_have() {
        let caps = Arc::new(Caps::default());
        let kept = caps.tenant("up", 1, 0).unwrap();
        let gone = caps.tenant("gone", 1, 0).unwrap();
        let _t = caps.trunk("gone", 9, 1).unwrap();
        let live: HashSet<String> = ["up".to_string()].into();
        assert!(caps.reconcile(&live, Duration::from_secs(60)).is_empty(), "too recent to judge");
        assert_eq!(caps.reconcile(&live, Duration::ZERO), vec!["gone".to_string()]);
        assert_eq!((caps.tenant_calls(1), caps.trunk_calls(9)), (1, 0));
        drop(gone);
        assert_eq!(caps.tenant_calls(1), 1, "the late guard frees nothing twice");
        drop(kept);
        assert_eq!(caps.tenant_calls(1), 0);
    }

    #[test]
    fn an_adopted_call_counts_until_the_switch_drops_it() {
        let caps = Arc::new(Caps::default());
        caps.adopt("old", 1, Some(9));
        caps.adopt("old2", 1, None);
        assert_eq!((caps.tenant_calls(1), caps.trunk_calls(9)), (2, 1));
        assert!(caps.tenant("new", 1, 2).is_none(), "the adopted calls fill the cap");
        let live: HashSet<String> = ["old2".to_string()].into();
        assert_eq!(caps.reconcile(&live, Duration::ZERO), vec!["old".to_string()]);
        assert_eq!((caps.tenant_calls(1), caps.trunk_calls(9)), (1, 0));
    }

    #[test]
    fn a_call_that_just_ended_here_is_not_adopted_while_the_switch_still_lists_it() {
        let caps = Arc::new(Caps::default());
        let slot = caps.tenant("done", 1, 1);
        assert!(slot.is_some());
        drop(slot);
        assert!(!caps.adopt("done", 1, None), "its task ended: the switch is still deleting its row");
        assert_eq!(caps.tenant_calls(1), 0);
        assert!(caps.tenant("next", 1, 1).is_some(), "the slot is free for the next call");
        assert!(caps.adopt("stranger", 2, None), "a call no task here ever had is adopted");
    }
}
