//! Call pickup (`*8`): which calls are ringing a tenant's phones right now, so another phone
//! of the tenant can take the one that has rung longest.
//!
//! The taking is FreeSWITCH's `intercept <uuid>` (switch_ivr_intercept_session): the ringing
//! call's bridge gives up with PICKED_OFF, its ringing phones stop, and the caller is
//! bridged to the picker. No extra leg rides in the ringing dial string, so an unanswered
//! call still falls through to voicemail as soon as its phones give up.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Default)]
pub struct Ringing {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Per tenant, the calls ringing its phones, longest-ringing first.
    ringing: HashMap<i64, Vec<Entry>>,
    /// A picked call's UUID → the extension that took it.
    picked: HashMap<String, String>,
}

struct Entry {
    uuid: String,
    caller: String,
}

/// A call listed as ringing until this is dropped.
pub struct Listed {
    registry: Arc<Ringing>,
    tenant: i64,
    uuid: String,
}

impl Ringing {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Lists the call `uuid` (from `caller`) as ringing the tenant's phones.
    pub fn list(self: &Arc<Self>, tenant: i64, uuid: &str, caller: &str) -> Listed {
        self.lock().ringing.entry(tenant).or_default().push(Entry { uuid: uuid.into(), caller: caller.into() });
        Listed { registry: self.clone(), tenant, uuid: uuid.into() }
    }

    /// Takes the tenant's longest-ringing call for the extension `picker` (on channel
    /// `picker_uuid`): never its own call, nor one it placed. The UUID and the caller.
    pub fn take(&self, tenant: i64, picker: &str, picker_uuid: &str) -> Option<(String, String)> {
        let mut g = self.lock();
        let list = g.ringing.get_mut(&tenant)?;
        let i = list.iter().position(|e| e.uuid != picker_uuid && e.caller != picker)?;
        let e = list.remove(i);
        g.picked.insert(e.uuid.clone(), picker.to_string());
        Some((e.uuid, e.caller))
    }

    /// Who took the call `uuid`, once its bridge says PICKED_OFF.
    pub fn picked_by(&self, uuid: &str) -> Option<String> {
        self.lock().picked.get(uuid).cloned()
    }

    #[cfg(test)]
    fn count(&self) -> usize {
        let g = self.lock();
        g.ringing.values().map(Vec::len).sum::<usize>() + g.picked.len()
    }
}

impl Drop for Listed {
    fn drop(&mut self) {
        let mut g = self.registry.lock();
        if let Some(list) = g.ringing.get_mut(&self.tenant) {
            list.retain(|e| e.uuid != self.uuid);
            if list.is_empty() {
                g.ringing.remove(&self.tenant);
            }
        }
        g.picked.remove(&self.uuid);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_ringing_call_of_the_tenant_is_taken_once() {
        let r = Arc::new(Ringing::default());
        let a = r.list(1, "a", "1001");
        let _b = r.list(1, "b", "1002");
        let _other_tenant = r.list(2, "c", "2001");
        assert_eq!(r.take(1, "1003", "p"), Some(("a".into(), "1001".into())));
        assert_eq!(r.picked_by("a").as_deref(), Some("1003"));
        assert_eq!(r.take(1, "1003", "p"), Some(("b".into(), "1002".into())), "a is taken already");
        assert_eq!(r.take(1, "1003", "p"), None, "tenant 2's call is never offered to tenant 1");
        drop(a);
        assert_eq!(r.picked_by("a"), None);
    }

    #[test]
    fn a_phone_never_picks_up_its_own_call() {
        let r = Arc::new(Ringing::default());
        let _a = r.list(1, "a", "1001");
        assert_eq!(r.take(1, "1001", "x"), None, "a call 1001 placed");
        assert_eq!(r.take(1, "1005", "a"), None, "the picker's own channel");
    }

    #[test]
    fn nothing_is_left_behind() {
        let r = Arc::new(Ringing::default());
        {
            let _a = r.list(1, "a", "1001");
            let _b = r.list(1, "b", "1001");
            r.take(1, "1002", "p");
        }
        assert_eq!(r.count(), 0);
    }
}
