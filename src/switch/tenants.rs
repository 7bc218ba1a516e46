//! Which tenant a channel or registration is: where it entered ([`Facts::entry`], the one
//! rule routing follows too) looked up in the configuration.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::pbx::channel::{Entry, Facts};
use crate::store::Store;

/// What the model needs to know to say which tenant a channel or registration is.
pub trait Tenants {
    /// The tenant whose SIP domain (dialplan context, registration realm) this is.
    fn by_domain(&mut self, domain: &str) -> Option<i64>;
    /// The tenant a public number (a DID dialed from a trunk) belongs to.
    fn by_did(&mut self, number: &str) -> Option<i64>;

    /// The tenant whose channel this is, by where it entered.
    fn of(&mut self, facts: &Facts<'_>) -> Option<i64> {
        match facts.entry()? {
            Entry::Trunk { did } => self.by_did(&did),
            Entry::Phone { domain } => self.by_domain(&domain),
        }
    }
}

/// Tenant look-ups in the store, each answer kept for a minute (a renamed domain shows
/// within one). A store that cannot be read names no tenant (and says so in the log).
pub struct StoreTenants<'a> {
    store: &'a Store,
    cache: HashMap<String, (Option<i64>, Instant)>,
}

impl<'a> StoreTenants<'a> {
    pub fn new(store: &'a Store) -> StoreTenants<'a> {
        StoreTenants { store, cache: HashMap::new() }
    }

    fn cached(&mut self, key: String, find: impl FnOnce(&Store) -> Option<i64>) -> Option<i64> {
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

impl Tenants for StoreTenants<'_> {
    fn by_domain(&mut self, domain: &str) -> Option<i64> {
        if domain.is_empty() {
            return None;
        }
        self.cached(format!("d:{}", domain.to_ascii_lowercase()), |s| logged(s.tenant_by_domain(domain)).map(|t| t.id))
    }
    fn by_did(&mut self, number: &str) -> Option<i64> {
        self.cached(format!("n:{number}"), |s| logged(s.did_route(number)).map(|r| r.tenant.0))
    }
}

fn logged<T>(found: crate::store::Result<Option<T>>) -> Option<T> {
    found.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "looking up a channel's tenant");
        None
    })
}
