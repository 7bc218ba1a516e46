//! Limits on proving passwords (docs/security.md, "Sign-in, tokens and sessions"): a budget
//! of failed attempts per client address, and a bound on the argon2 checks the server runs
//! at once. The per-account lock lives in the store (it must survive a restart and be
//! counted atomically); these two are in memory, per server.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::config::SignIn;

/// Addresses remembered at most; beyond it, those with the most budget left are forgotten
/// first (forgetting one gives it a full budget, the least harm).
const MAX_TRACKED: usize = 50_000;

/// The longest a check waits in the queue before it is answered "busy" anyway: the queue is
/// bounded, so this is only reached when checks stall (a saturated machine).
const QUEUE_WAIT: Duration = Duration::from_secs(10);

/// The address a client is counted under, as the HTTP listener counts it
/// ([`crate::http::address_key`]: an IPv6 client by its /64), written out.
pub fn address_key(ip: Option<IpAddr>) -> String {
    match ip.map(crate::http::address_key) {
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => format!("{v6}/64"),
        None => "unknown".into(),
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// A token bucket per address: `burst` attempts, earned back at `per_minute`. An attempt
/// takes a token before its password is checked (so parallel attempts cannot overdraw it);
/// a right password gives it back, so only failures spend the budget.
pub struct AddressBudget {
    burst: f64,
    per_sec: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl AddressBudget {
    pub fn new(burst: u32, per_minute: u32) -> AddressBudget {
        AddressBudget { burst: burst.max(1) as f64, per_sec: per_minute as f64 / 60.0, buckets: Mutex::new(HashMap::new()) }
    }

    fn refill(&self, b: &mut Bucket, now: Instant) {
        let earned = now.saturating_duration_since(b.at).as_secs_f64() * self.per_sec;
        b.tokens = (b.tokens + earned).min(self.burst);
        b.at = now;
    }

    /// Takes one attempt from `addr`'s budget, or says how long until one is earned back.
    pub fn take(&self, addr: &str, now: Instant) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_TRACKED && !buckets.contains_key(addr) {
            self.forget_some(&mut buckets, now);
        }
        let b = buckets.entry(addr.to_string()).or_insert(Bucket { tokens: self.burst, at: now });
        self.refill(b, now);
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            return Ok(());
        }
        if self.per_sec <= 0.0 {
            return Err(Duration::from_secs(3600));
        }
        Err(Duration::from_secs_f64((1.0 - b.tokens) / self.per_sec))
    }

    /// Gives back an attempt taken by [`AddressBudget::take`] (the password was right, or
    /// it was never checked).
    pub fn give_back(&self, addr: &str, now: Instant) {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(b) = buckets.get_mut(addr) {
            self.refill(b, now);
            b.tokens = (b.tokens + 1.0).min(self.burst);
        }
    }

    fn forget_some(&self, buckets: &mut HashMap<String, Bucket>, now: Instant) {
        // A full bucket is the same as none.
        buckets.retain(|_, b| {
            let mut b = *b;
            self.refill(&mut b, now);
            b.tokens < self.burst
        });
        if buckets.len() >= MAX_TRACKED {
            if let Some(k) = buckets.iter().max_by(|a, b| a.1.tokens.total_cmp(&b.1.tokens)).map(|(k, _)| k.clone()) {
                buckets.remove(&k);
            }
        }
    }
}

/// The checks would wait longer than the queue allows: answer 503 with Retry-After.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

#[derive(Debug, Default)]
struct Slots {
    running: usize,
    waiting: usize,
}

/// At most `running` argon2 checks at once and `queued` waiting for one; the rest are
/// refused at once. Each check holds 19 MiB for tens of milliseconds: 32 unbounded clients
/// took the server from 96 to 705 MB and every other request's p95 to 444 ms. Checks run on
/// the blocking pool, so waiting here blocks only that thread.
pub struct Checks {
    running: usize,
    queued: usize,
    slots: Mutex<Slots>,
    freed: Condvar,
}

impl Checks {
    pub fn new(running: usize, queued: usize) -> Checks {
        Checks { running: running.max(1), queued, slots: Mutex::new(Slots::default()), freed: Condvar::new() }
    }

    /// Runs `f` once a slot is free; [`Busy`] when the queue is full.
    pub fn run<T>(&self, f: impl FnOnce() -> T) -> Result<T, Busy> {
        {
            let mut s = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            if s.running >= self.running {
                if s.waiting >= self.queued {
                    return Err(Busy);
                }
                s.waiting += 1;
                let deadline = Instant::now() + QUEUE_WAIT;
                while s.running >= self.running {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        s.waiting -= 1;
                        return Err(Busy);
                    }
                    s = self.freed.wait_timeout(s, left).unwrap_or_else(|e| e.into_inner()).0;
                }
                s.waiting -= 1;
            }
            s.running += 1;
        }
        // Released on unwind too: a panicking check must not keep its slot.
        struct Release<'a>(&'a Checks);
        impl Drop for Release<'_> {
            fn drop(&mut self) {
                let mut s = self.0.slots.lock().unwrap_or_else(|e| e.into_inner());
                s.running -= 1;
                self.0.freed.notify_one();
            }
        }
        let _release = Release(self);
        Ok(f())
    }
}

/// Everything a password check goes through, one per server.
pub struct SignInGuard {
    pub addresses: AddressBudget,
    pub checks: Checks,
}

impl SignInGuard {
    pub fn new(cfg: &SignIn) -> SignInGuard {
        SignInGuard {
            addresses: AddressBudget::new(cfg.per_address_burst, cfg.per_address_per_minute),
            checks: Checks::new(cfg.concurrent_checks, cfg.queued_checks),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_counted_by_host_and_ipv6_by_its_64() {
        let k = |s: &str| address_key(Some(s.parse().unwrap()));
        assert_eq!(k("192.0.2.7"), "192.0.2.7");
        assert_eq!(k("::ffff:192.0.2.7"), "192.0.2.7", "an IPv4-mapped address is its IPv4");
        assert_eq!(k("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(k("2001:db8:1:2:bbbb::9"), k("2001:db8:1:2:aaaa::1"), "one /64, one budget");
        assert_ne!(k("2001:db8:1:3::1"), k("2001:db8:1:2::1"));
        assert_eq!(address_key(None), "unknown");
    }

    #[test]
    fn the_budget_is_spent_by_failures_earned_back_and_kept_per_address() {
        let b = AddressBudget::new(3, 6);
        let t = Instant::now();
        for _ in 0..3 {
            assert_eq!(b.take("a", t), Ok(()));
        }
        assert_eq!(b.take("a", t), Err(Duration::from_secs(10)), "one attempt is earned back every 10 s");
        assert_eq!(b.take("b", t), Ok(()), "another address has its own budget");
        assert_eq!(b.take("a", t + Duration::from_secs(10)), Ok(()));
        // A right password gives its attempt back.
        let t2 = t + Duration::from_secs(10);
        b.give_back("a", t2);
        assert_eq!(b.take("a", t2), Ok(()));
        assert!(b.take("a", t2).is_err());
        // Never more than the burst, however long it rested.
        let later = t + Duration::from_secs(3600);
        for _ in 0..3 {
            assert_eq!(b.take("a", later), Ok(()));
        }
        assert!(b.take("a", later).is_err());
    }

    #[test]
    fn checks_beyond_the_running_and_queued_ones_are_refused_and_slots_come_back() {
        let c = std::sync::Arc::new(Checks::new(1, 1));
        let (entered_tx, entered_rx) = std::sync::mpsc::channel();
        let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
        let running = {
            let c = c.clone();
            std::thread::spawn(move || {
                c.run(|| {
                    entered_tx.send(()).unwrap();
                    go_rx.recv().unwrap();
                })
            })
        };
        entered_rx.recv().unwrap();
        // One may wait; it is counted as waiting before the next is refused.
        let queued = {
            let c = c.clone();
            std::thread::spawn(move || c.run(|| 7))
        };
        while c.slots.lock().unwrap().waiting == 0 {
            std::thread::yield_now();
        }
        assert_eq!(c.run(|| ()), Err(Busy), "a third is refused at once");
        go_tx.send(()).unwrap();
        assert_eq!(running.join().unwrap(), Ok(()));
        assert_eq!(queued.join().unwrap(), Ok(7), "the waiting check ran once the slot was free");
        assert_eq!(c.run(|| 1), Ok(1));
        let s = c.slots.lock().unwrap();
        assert_eq!((s.running, s.waiting), (0, 0));
    }
}
