//! Who gets a phone's own file: HTTP digest (RFC 7616, MD5, qop=auth) or basic credentials —
//! user name the MAC, password the device's provisioning secret — and a throttle on
//! addresses that keep asking for devices they cannot prove to be.
//!
//! Nonces are stateless: `<time>.<md5(key:time)>` with a key drawn at start, fresh for five
//! minutes. A stale nonce is answered with a new challenge (`stale=true`), which phones
//! follow without asking anyone for a password.
//!
//! A request that may fail (credentials or a token to check) is counted before it is
//! checked ([`Guard::attempt`]): counted only after its failure, a burst of parallel guesses
//! would all be checked before the first one was recorded (74 of 200 were, with a limit of 15).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;

use crate::peer::address_key;
use crate::secret::{a1_hash, constant_time_eq, md5_hex};

pub const REALM: &str = "switchboard provisioning";
const NONCE_LIFE_SECS: u64 = 300;
/// Addresses remembered at most; beyond it the quietest are forgotten first.
const MAX_TRACKED: usize = 50_000;

/// How failures from one address are answered.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Failures within `window` answered at once.
    pub free: u32,
    /// From this many failures within `window` the address is refused for `refusal`.
    pub refuse_at: u32,
    pub window: Duration,
    /// Each answer to an address past `free` waits this long (throttled).
    pub slow: Duration,
    pub refusal: Duration,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy { free: 5, refuse_at: 15, window: Duration::from_secs(600), slow: Duration::from_millis(500), refusal: Duration::from_secs(900) }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Go,
    /// Answer, but only after this long.
    Slow(Duration),
    /// Refused; try again after this long.
    Refused(Duration),
}

#[derive(Debug, Clone, Copy)]
struct Record {
    since: Instant,
    failures: u32,
    /// Attempts admitted and not settled yet: each counts as a failure until it passes.
    pending: u32,
    refused_until: Option<Instant>,
}

impl Record {
    fn new(now: Instant) -> Record {
        Record { since: now, failures: 0, pending: 0, refused_until: None }
    }
}

/// One admitted request that may fail, counted against its address until it is settled.
/// Dropped unsettled (the client went away while it was checked) it counts as failed.
pub struct Attempt {
    guard: Arc<Guard>,
    ip: IpAddr,
    /// When it was admitted: its failure counts from then.
    at: Instant,
    /// Answer only after this long (the address is past its free failures).
    pub delay: Option<Duration>,
    settled: bool,
}

impl Attempt {
    /// It proved what it asked for (or was not a failure): it no longer counts.
    pub fn passed(mut self) {
        self.settled = true;
        self.guard.settle(self.ip, false, self.at);
    }

    /// It failed: it stays counted, as a failure.
    pub fn failed(mut self) {
        self.settled = true;
        self.guard.settle(self.ip, true, self.at);
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        if !self.settled {
            self.guard.settle(self.ip, true, self.at);
        }
    }
}

pub struct Guard {
    key: [u8; 32],
    policy: Policy,
    records: Mutex<HashMap<IpAddr, Record>>,
}

/// What a request's credentials prove (a digest's nonce is checked apart, first:
/// [`Guard::nonce_fresh`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    Good,
    Wrong,
}

impl Guard {
    pub fn new(policy: Policy) -> Guard {
        let mut key = [0u8; 32];
        crate::store::validate::getrandom_fill(&mut key);
        Guard { key, policy, records: Mutex::new(HashMap::new()) }
    }

    /// How a request from `ip` that cannot fail (a common file, a challenge) is treated now.
    pub fn verdict(&self, ip: IpAddr, now: Instant) -> Verdict {
        let ip = address_key(ip);
        let mut records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        let Some(r) = records.get_mut(&ip) else { return Verdict::Go };
        if let Some(v) = self.expire(r, now) {
            return v;
        }
        if r.failures >= self.policy.free {
            Verdict::Slow(self.policy.slow)
        } else {
            Verdict::Go
        }
    }

    /// Admits a request from `ip` that may fail, counting it now, before it is checked;
    /// refused (with how long to wait) when the address's failures and the attempts already
    /// under way reach the limit. A burst of parallel guesses gets at most `refuse_at`
    /// checked, the rest are refused at once.
    pub fn attempt(self: &Arc<Self>, ip: IpAddr, now: Instant) -> Result<Attempt, Duration> {
        // An IPv6 client by its /64, as everywhere: it could start afresh from each address.
        let ip = address_key(ip);
        let mut records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        self.make_room(&mut records, ip, now);
        let r = records.entry(ip).or_insert_with(|| Record::new(now));
        if let Some(Verdict::Refused(wait)) = self.expire(r, now) {
            return Err(wait);
        }
        let counted = r.failures + r.pending;
        if counted >= self.policy.refuse_at {
            // Only attempts still being checked hold the address back: once they are settled
            // it is either refused for good or free again.
            return Err(Duration::from_secs(1));
        }
        r.pending += 1;
        let delay = (counted >= self.policy.free).then_some(self.policy.slow);
        Ok(Attempt { guard: self.clone(), ip, at: now, delay, settled: false })
    }

    /// Ends a refusal or a window that is over (the record starts again, keeping the
    /// attempts under way); the refusal still running otherwise.
    fn expire(&self, r: &mut Record, now: Instant) -> Option<Verdict> {
        if let Some(until) = r.refused_until {
            if now < until {
                return Some(Verdict::Refused(until - now));
            }
            *r = Record { pending: r.pending, ..Record::new(now) };
        } else if now.duration_since(r.since) > self.policy.window {
            *r = Record { pending: r.pending, ..Record::new(now) };
        }
        None
    }

    /// `ip` asked for a device it could not prove to be (unknown MAC or token, wrong
    /// credentials) outside an [`Attempt`].
    pub fn failed(&self, ip: IpAddr, now: Instant) {
        let ip = address_key(ip);
        let mut records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        self.make_room(&mut records, ip, now);
        let r = records.entry(ip).or_insert_with(|| Record::new(now));
        self.expire(r, now);
        self.count_failure(ip, r, now);
    }

    fn settle(&self, ip: IpAddr, failed: bool, now: Instant) {
        let mut records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        let r = records.entry(ip).or_insert_with(|| Record::new(now));
        r.pending = r.pending.saturating_sub(1);
        if failed {
            self.count_failure(ip, r, now);
        }
    }

    fn count_failure(&self, ip: IpAddr, r: &mut Record, now: Instant) {
        r.failures += 1;
        if r.failures >= self.policy.refuse_at && r.refused_until.is_none() {
            r.refused_until = Some(now + self.policy.refusal);
            tracing::warn!(address = %ip, failures = r.failures, refused_secs = self.policy.refusal.as_secs(), "provisioning: address refused after repeated unknown devices");
        }
    }

    /// Keeps the table under [`MAX_TRACKED`] before `ip` is added: finished windows go
    /// first, then the quietest address with nothing under way.
    fn make_room(&self, records: &mut HashMap<IpAddr, Record>, ip: IpAddr, now: Instant) {
        if records.len() < MAX_TRACKED || records.contains_key(&ip) {
            return;
        }
        let window = self.policy.window;
        records.retain(|_, r| r.pending > 0 || r.refused_until.is_some_and(|u| u > now) || now.duration_since(r.since) <= window);
        if records.len() >= MAX_TRACKED {
            let quiet = records.iter().filter(|(_, r)| r.refused_until.is_none() && r.pending == 0).min_by_key(|(_, r)| r.failures).map(|(k, _)| *k);
            if let Some(quiet) = quiet {
                records.remove(&quiet);
            }
        }
    }

    pub fn nonce(&self, now_secs: u64) -> String {
        format!("{now_secs}.{}", self.seal(now_secs))
    }

    fn seal(&self, t: u64) -> String {
        md5_hex(&format!("{}:{t}", hex(&self.key)))
    }

    /// `Some(true)` fresh, `Some(false)` ours but expired, `None` not ours.
    pub fn nonce_fresh(&self, nonce: &str, now_secs: u64) -> Option<bool> {
        let (t, seal) = nonce.split_once('.')?;
        let t: u64 = t.parse().ok()?;
        if !constant_time_eq(seal.as_bytes(), self.seal(t).as_bytes()) {
            return None;
        }
        Some(now_secs >= t && now_secs - t <= NONCE_LIFE_SECS)
    }

    /// `WWW-Authenticate` values: digest first (phones that can, use it), then basic.
    pub fn challenges(&self, now_secs: u64, stale: bool) -> [String; 2] {
        let stale = if stale { ", stale=true" } else { "" };
        [
            format!("Digest realm=\"{REALM}\", qop=\"auth\", algorithm=MD5, nonce=\"{}\"{stale}", self.nonce(now_secs)),
            format!("Basic realm=\"{REALM}\""),
        ]
    }

    /// Whether `creds` prove knowledge of `secret` for a `method` request of `path`.
    pub fn check(&self, creds: &Credentials, method: &str, path: &str, secret: &str) -> Check {
        match creds {
            Credentials::Basic { password, .. } => {
                if constant_time_eq(password.as_bytes(), secret.as_bytes()) {
                    Check::Good
                } else {
                    Check::Wrong
                }
            }
            Credentials::Digest(d) => {
                let uri_ok = d.uri == path || d.uri.split_once("://").and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..])) == Some(path);
                if d.realm != REALM || !uri_ok || !matches!(d.algorithm.as_deref(), None | Some("MD5") | Some("md5")) {
                    return Check::Wrong;
                }
                let ha1 = a1_hash(&d.username, &d.realm, secret);
                let ha2 = md5_hex(&format!("{method}:{}", d.uri));
                let want = match d.qop.as_deref() {
                    Some("auth") => md5_hex(&format!("{ha1}:{}:{}:{}:auth:{ha2}", d.nonce, d.nc, d.cnonce)),
                    None => md5_hex(&format!("{ha1}:{}:{ha2}", d.nonce)),
                    Some(_) => return Check::Wrong,
                };
                if constant_time_eq(want.as_bytes(), d.response.to_ascii_lowercase().as_bytes()) {
                    Check::Good
                } else {
                    Check::Wrong
                }
            }
        }
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    pub username: String,
    pub realm: String,
    pub nonce: String,
    pub uri: String,
    pub response: String,
    pub qop: Option<String>,
    pub nc: String,
    pub cnonce: String,
    pub algorithm: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    Basic { user: String, password: String },
    Digest(Digest),
}

impl Credentials {
    /// An `Authorization` header; `None` when it is neither well-formed basic nor digest.
    pub fn parse(header: &str) -> Option<Credentials> {
        let (scheme, rest) = header.trim().split_once(' ')?;
        if scheme.eq_ignore_ascii_case("basic") {
            let raw = base64::engine::general_purpose::STANDARD.decode(rest.trim()).ok()?;
            let (user, password) = std::str::from_utf8(&raw).ok()?.split_once(':')?;
            return Some(Credentials::Basic { user: user.into(), password: password.into() });
        }
        if !scheme.eq_ignore_ascii_case("digest") {
            return None;
        }
        let params = digest_params(rest)?;
        let get = |k: &str| params.iter().find(|(n, _)| n.eq_ignore_ascii_case(k)).map(|(_, v)| v.clone());
        Some(Credentials::Digest(Digest {
            username: get("username")?,
            realm: get("realm")?,
            nonce: get("nonce")?,
            uri: get("uri")?,
            response: get("response")?,
            qop: get("qop"),
            nc: get("nc").unwrap_or_default(),
            cnonce: get("cnonce").unwrap_or_default(),
            algorithm: get("algorithm"),
        }))
    }

    pub fn user(&self) -> &str {
        match self {
            Credentials::Basic { user, .. } => user,
            Credentials::Digest(d) => &d.username,
        }
    }
}

/// `k=v, k="quoted \" value"` pairs; `None` on anything malformed.
fn digest_params(s: &str) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        if chars.peek().is_none() {
            return Some(out);
        }
        let mut name = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' {
                break;
            }
            name.push(c);
            chars.next();
        }
        chars.next()?; // '='
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next()? {
                    '"' => break,
                    '\\' => value.push(chars.next()?),
                    c => value.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        let name = name.trim().to_string();
        if name.is_empty() || out.len() > 16 {
            return None;
        }
        out.push((name, value.trim().to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest_header(g: &Guard, user: &str, secret: &str, uri: &str, now: u64) -> String {
        let nonce = g.nonce(now);
        let ha1 = a1_hash(user, REALM, secret);
        let ha2 = md5_hex(&format!("GET:{uri}"));
        let response = md5_hex(&format!("{ha1}:{nonce}:00000001:abc:auth:{ha2}"));
        format!("Digest username=\"{user}\", realm=\"{REALM}\", nonce=\"{nonce}\", uri=\"{uri}\", qop=auth, nc=00000001, cnonce=\"abc\", response=\"{response}\", algorithm=MD5")
    }

    #[test]
    fn digest_proves_the_secret_and_nothing_else() {
        let g = Guard::new(Policy::default());
        let uri = "/provision/0015651234ab.cfg";
        let c = Credentials::parse(&digest_header(&g, "0015651234ab", "s3cret-s3cret-s3", uri, 1_000)).unwrap();
        assert_eq!(c.user(), "0015651234ab");
        assert_eq!(g.check(&c, "GET", uri, "s3cret-s3cret-s3"), Check::Good);
        assert_eq!(g.check(&c, "GET", uri, "another-secret-1"), Check::Wrong);
        // Replayed for another file.
        assert_eq!(g.check(&c, "GET", "/provision/0015651234ac.cfg", "s3cret-s3cret-s3"), Check::Wrong);
        let Credentials::Digest(d) = &c else { panic!("digest") };
        assert_eq!(g.nonce_fresh(&d.nonce, 1_010), Some(true));
        assert_eq!(g.nonce_fresh(&d.nonce, 1_000 + NONCE_LIFE_SECS + 1), Some(false), "expired: challenge again");
        assert_eq!(g.nonce_fresh(&d.nonce.replace("1000.", "1001."), 1_010), None, "a changed time breaks the seal");
        // A nonce another server (another key) made is not ours.
        let other = Guard::new(Policy::default());
        let c = Credentials::parse(&digest_header(&other, "0015651234ab", "s3cret-s3cret-s3", uri, 1_000)).unwrap();
        let Credentials::Digest(d) = &c else { panic!("digest") };
        assert_eq!(g.nonce_fresh(&d.nonce, 1_010), None);
    }

    #[test]
    fn basic_and_malformed_headers() {
        let g = Guard::new(Policy::default());
        let h = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("00:15:65:12:34:ab:pw-pw-pw-pw-pw-pw"));
        // Basic splits at the first colon: a MAC written with colons is not a user name
        // (phones are told to use the 12 hex digits).
        let c = Credentials::parse(&h).unwrap();
        assert_eq!(c.user(), "00");
        let h = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("0015651234ab:pw-pw-pw-pw-pw-pw"));
        let c = Credentials::parse(&h).unwrap();
        assert_eq!(g.check(&c, "GET", "/x", "pw-pw-pw-pw-pw-pw"), Check::Good);
        assert_eq!(g.check(&c, "GET", "/x", "pw-pw-pw-pw-pw-px"), Check::Wrong);
        for bad in ["", "Bearer x", "Basic !!!", "Digest username=\"a", "Digest realm=x", "Digest =x"] {
            assert!(Credentials::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn failures_throttle_then_refuse_then_expire() {
        let p =
            Policy { free: 2, refuse_at: 4, window: Duration::from_secs(60), slow: Duration::from_millis(300), refusal: Duration::from_secs(120) };
        let g = Guard::new(p);
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let other: IpAddr = "192.0.2.8".parse().unwrap();
        let t = Instant::now();
        assert_eq!(g.verdict(ip, t), Verdict::Go);
        g.failed(ip, t);
        g.failed(ip, t);
        assert_eq!(g.verdict(ip, t), Verdict::Slow(Duration::from_millis(300)));
        assert_eq!(g.verdict(other, t), Verdict::Go, "another address is not punished");
        g.failed(ip, t);
        g.failed(ip, t);
        assert!(matches!(g.verdict(ip, t + Duration::from_secs(1)), Verdict::Refused(d) if d == Duration::from_secs(119)));
        assert_eq!(g.verdict(ip, t + Duration::from_secs(121)), Verdict::Go, "the refusal ends");
        // Failures spread wider than the window never add up.
        let t2 = t + Duration::from_secs(200);
        g.failed(other, t2);
        g.failed(other, t2);
        assert_eq!(g.verdict(other, t2 + Duration::from_secs(61)), Verdict::Go);
    }

    #[test]
    fn an_ipv6_client_is_one_address_across_its_64() {
        let p =
            Policy { free: 2, refuse_at: 4, window: Duration::from_secs(60), slow: Duration::from_millis(300), refusal: Duration::from_secs(120) };
        let g = Guard::new(p);
        let t = Instant::now();
        for i in 1..=4 {
            g.failed(format!("2001:db8:7:7::{i}").parse().unwrap(), t);
        }
        assert!(matches!(g.verdict("2001:db8:7:7:ffff::5".parse().unwrap(), t), Verdict::Refused(_)), "a new address in the same /64");
        assert_eq!(g.verdict("2001:db8:7:8::1".parse().unwrap(), t), Verdict::Go, "another /64 is another client");
    }

    #[test]
    fn attempts_count_before_they_are_checked() {
        let p =
            Policy { free: 2, refuse_at: 5, window: Duration::from_secs(60), slow: Duration::from_millis(300), refusal: Duration::from_secs(120) };
        let g = Arc::new(Guard::new(p));
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let t = Instant::now();
        // A burst: every attempt admitted before any is settled.
        let burst: Vec<Result<Attempt, Duration>> = (0..200).map(|_| g.attempt(ip, t)).collect();
        let admitted: Vec<Attempt> = burst.into_iter().filter_map(Result::ok).collect();
        assert_eq!(admitted.len(), 5, "no more checked than the limit");
        assert_eq!(admitted.iter().map(|a| a.delay.is_some()).collect::<Vec<_>>(), [false, false, true, true, true], "past the free ones: slowed");
        assert!(matches!(g.attempt(ip, t), Err(d) if d == Duration::from_secs(1)), "held back while the others are checked");
        // One proves itself: it no longer counts, and another may try.
        let mut admitted = admitted.into_iter();
        admitted.next().unwrap().passed();
        let again = g.attempt(ip, t).expect("room again");
        // The rest fail (one by being dropped, as when the client goes away): refused.
        drop(again);
        admitted.for_each(Attempt::failed);
        assert!(matches!(g.attempt(ip, t + Duration::from_secs(1)), Err(d) if d == Duration::from_secs(119)));
        assert!(matches!(g.verdict(ip, t + Duration::from_secs(1)), Verdict::Refused(_)));
        assert!(g.attempt("192.0.2.8".parse().unwrap(), t).is_ok(), "another address is not punished");
        assert!(g.attempt(ip, t + Duration::from_secs(121)).is_ok(), "the refusal ends");
    }
}
