//! The outbound event-socket server: FreeSWITCH's `socket` application connects here once
//! per call and a task drives that call.
//!
//! A semaphore bounds live calls: the permit is taken before `accept`, so an overloaded
//! switchboard leaves new calls in the listen backlog instead of half-serving them. Accept
//! errors back off instead of killing the server. On shutdown it stops accepting, lets
//! live calls finish up to the grace period, then cuts the rest (their sockets close and
//! FreeSWITCH carries on with the dialplan's fallback).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tracing::Instrument;

use crate::call::CallHandler;
use crate::esl::{EslError, OutboundOptions, OutboundSession};

/// Counters the health endpoint reports.
#[derive(Debug, Default)]
pub struct CallStats {
    pub live: AtomicUsize,
    pub total: AtomicU64,
    pub failed: AtomicU64,
    /// Per call, from the channel data read to the first application sent.
    pub first_app: Latency,
}

/// Sub-buckets per power of two: a bucket spans at most 1/8 of its lower bound (~12%).
const SUB: u32 = 8;
/// Powers of two above the exact range: up to 2^39 µs (six days) before the last bucket.
const POWERS: u32 = 37;
const BUCKETS: usize = (SUB + POWERS * SUB) as usize;

/// A histogram of durations in microseconds, recorded without a lock: exact below 8 µs,
/// then 8 buckets per power of two. Percentiles are bucket upper bounds, so they are never
/// understated.
#[derive(Debug)]
pub struct Latency {
    buckets: [AtomicU64; BUCKETS],
}

impl Default for Latency {
    fn default() -> Latency {
        Latency { buckets: std::array::from_fn(|_| AtomicU64::new(0)) }
    }
}

impl Latency {
    pub fn record(&self, d: Duration) {
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        self.buckets[bucket_of(us)].fetch_add(1, Ordering::Relaxed);
    }

    /// The counts so far, to take percentiles of (or of the difference of two).
    pub fn snapshot(&self) -> LatencyCounts {
        LatencyCounts(self.buckets.iter().map(|b| b.load(Ordering::Relaxed)).collect())
    }
}

fn bucket_of(us: u64) -> usize {
    if us < SUB as u64 {
        return us as usize;
    }
    let power = 63 - us.leading_zeros(); // ≥ 3
    let sub = (us >> (power - 3)) & (SUB as u64 - 1);
    ((SUB + (power - 3) * SUB) as usize + sub as usize).min(BUCKETS - 1)
}

/// The largest value bucket `i` holds, in µs.
fn upper_of(i: usize) -> u64 {
    if i < SUB as usize {
        return i as u64;
    }
    let (power, sub) = ((i as u32 - SUB) / SUB + 3, (i as u32 - SUB) % SUB);
    ((SUB as u64 + sub as u64 + 1) << (power - 3)) - 1
}

/// Counts per bucket of a [`Latency`].
#[derive(Debug, Clone)]
pub struct LatencyCounts(Vec<u64>);

impl LatencyCounts {
    /// What was recorded after `before` was taken.
    pub fn since(&self, before: &LatencyCounts) -> LatencyCounts {
        LatencyCounts(self.0.iter().zip(&before.0).map(|(a, b)| a.saturating_sub(*b)).collect())
    }

    pub fn count(&self) -> u64 {
        self.0.iter().sum()
    }

    /// The `p` quantile (0 < p ≤ 1) as its bucket's upper bound; None when empty.
    pub fn percentile(&self, p: f64) -> Option<Duration> {
        let n = self.count();
        let rank = ((n as f64 * p).ceil() as u64).clamp(1, n.max(1));
        let mut seen = 0;
        self.0.iter().enumerate().find_map(|(i, c)| {
            seen += c;
            (n > 0 && seen >= rank).then(|| Duration::from_micros(upper_of(i)))
        })
    }
}

/// A listening socket whose backlog is the kernel's limit, not tokio's 128 (the standard
/// library's figure, mio `src/net/tcp/listener.rs`): a burst of calls, or phones booting
/// together after a power cut, can leave more connections waiting for `accept` than that,
/// and past the backlog Linux drops the SYN, so the caller waits out TCP's 1 s retransmit
/// before the call even reaches switchboard (seen in the routing bench: a connect→first
/// command p99 of 1,013–1,054 ms at 200 calls in flight). Linux cuts a larger backlog down
/// to `net.core.somaxconn` (4096 by default since 5.4) without error. SO_REUSEADDR, as
/// tokio's own bind sets it, so a restart is not refused for the last run's TIME_WAITs.
pub fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(65_535)
}

pub struct OutboundServer {
    listener: TcpListener,
    handler: Arc<dyn CallHandler>,
    opts: OutboundOptions,
    max_calls: usize,
    stats: Arc<CallStats>,
}

impl OutboundServer {
    /// `opts.events` gains the events `handler` reads.
    pub async fn bind(
        addr: SocketAddr,
        handler: Arc<dyn CallHandler>,
        mut opts: OutboundOptions,
        max_calls: usize,
    ) -> std::io::Result<OutboundServer> {
        opts.events.extend(handler.events().iter().map(|e| e.to_string()));
        Ok(OutboundServer { listener: listen(addr)?, handler, opts, max_calls, stats: Arc::default() })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub fn stats(&self) -> Arc<CallStats> {
        self.stats.clone()
    }

    /// Serves until `shutdown` turns true, then drains within `grace`.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>, grace: Duration) {
        let sem = Arc::new(Semaphore::new(self.max_calls.max(1)));
        let mut calls = JoinSet::new();
        let mut backoff = Duration::from_millis(10);
        loop {
            while calls.try_join_next().is_some() {}
            let permit = tokio::select! {
                p = sem.clone().acquire_owned() => p.expect("semaphore never closes"),
                _ = shutdown.wait_for(|s| *s) => break,
            };
            let accepted = tokio::select! {
                a = self.listener.accept() => a,
                _ = shutdown.wait_for(|s| *s) => break,
            };
            let (stream, peer) = match accepted {
                Ok(a) => {
                    backoff = Duration::from_millis(10);
                    a
                }
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed; backing off");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let (handler, opts, stats) = (self.handler.clone(), self.opts.clone(), self.stats.clone());
            stats.live.fetch_add(1, Ordering::Relaxed);
            stats.total.fetch_add(1, Ordering::Relaxed);
            calls.spawn(async move {
                let ok = one_call(stream, peer, handler, opts, &stats).await;
                if !ok {
                    stats.failed.fetch_add(1, Ordering::Relaxed);
                }
                stats.live.fetch_sub(1, Ordering::Relaxed);
                drop(permit);
            });
        }
        let live = calls.len();
        if live > 0 {
            tracing::info!(live, grace_secs = grace.as_secs(), "shutting down: waiting for live calls");
            let drain = async { while calls.join_next().await.is_some() {} };
            if tokio::time::timeout(grace, drain).await.is_err() {
                tracing::warn!(left = calls.len(), "grace period over: cutting the remaining calls");
                calls.abort_all();
                while calls.join_next().await.is_some() {}
            }
        }
    }
}

/// One call, start to finish. Returns false when it ended on an error other than the
/// caller going away.
async fn one_call(stream: tokio::net::TcpStream, peer: SocketAddr, handler: Arc<dyn CallHandler>, opts: OutboundOptions, stats: &CallStats) -> bool {
    // Boxed: the handshake's state (a framed reader, the connect reply) would otherwise be
    // part of this future, which every live call keeps for as long as it is up.
    let session = match Box::pin(OutboundSession::start(stream, &opts)).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(%peer, error = %e, "outbound socket handshake failed");
            return false;
        }
    };
    let span = tracing::info_span!("call", uuid = %session.uuid());
    async {
        let ch = session.channel();
        tracing::info!(
            caller = %ch.caller_id_number().unwrap_or_default(),
            destination = %ch.destination_number().unwrap_or_default(),
            context = %ch.context().unwrap_or_default(),
            "call handed over"
        );
        let result = handler.handle(&session).await;
        if let Some(d) = session.first_app_after() {
            stats.first_app.record(d);
        }
        let ok = match &result {
            Ok(()) => true,
            Err(EslError::Hangup { cause }) => {
                tracing::info!(cause = cause.as_deref().unwrap_or("unknown"), "caller hung up");
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, "call ended on an error");
                // Never leave a caller in silence: hang up if the channel is still up.
                let _ = session.hangup("NORMAL_TEMPORARY_FAILURE").await;
                false
            }
        };
        if let Some(done) = session.hangup_complete(Duration::from_secs(5)).await {
            tracing::info!(cause = %done.hangup_cause().unwrap_or_default(), billsec = %done.variable("billsec").unwrap_or_default(), "call ended");
        }
        session.finish(Duration::from_secs(2)).await;
        ok
    }
    .instrument(span)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With nothing accepting, as when every worker is busy with other calls, connections
    /// wait in the backlog: 600 of them complete their handshake at once (tokio's default of
    /// 128 would leave the rest retrying their SYN a second later, past this test's wait).
    #[tokio::test]
    async fn hundreds_of_connections_wait_in_the_backlog_without_a_retry() {
        let somaxconn: usize = std::fs::read_to_string("/proc/sys/net/core/somaxconn").ok().and_then(|v| v.trim().parse().ok()).unwrap_or(4096);
        let n = somaxconn.min(600);
        let listener = listen("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        let connects = (0..n).map(|_| tokio::time::timeout(Duration::from_millis(800), tokio::net::TcpStream::connect(addr)));
        let done = futures_util::future::join_all(connects).await;
        let connected: Vec<_> = done.into_iter().filter_map(|c| c.ok()?.ok()).collect();
        assert_eq!(connected.len(), n, "net.core.somaxconn is {somaxconn}");
        drop(listener);
    }

    #[test]
    fn every_value_lands_in_a_bucket_that_bounds_it_within_an_eighth() {
        let mut last = 0;
        for us in (0..100_000u64).chain([1 << 20, (1 << 32) + 12_345, u64::MAX / 3]) {
            let i = bucket_of(us);
            assert!(i >= last, "buckets rise with the value");
            last = i;
            let upper = upper_of(i);
            if i == BUCKETS - 1 {
                continue; // the last bucket takes everything above its range
            }
            assert!(upper >= us, "{us} µs in bucket {i} of upper bound {upper}");
            assert!(upper - us <= us / 8, "{us} µs: bound {upper} is more than an eighth above");
        }
        for us in 0..8 {
            assert_eq!(upper_of(bucket_of(us)), us, "exact below 8 µs");
        }
    }

    #[test]
    fn percentiles_of_what_was_recorded_since_a_snapshot() {
        let l = Latency::default();
        for us in [5_000u64, 5_000, 5_000] {
            l.record(Duration::from_micros(us));
        }
        let before = l.snapshot();
        assert_eq!(LatencyCounts(vec![0; BUCKETS]).percentile(0.99), None);
        // 98 calls at 100 µs and 2 at 2 ms: p50 is 100 µs, p99 is 2 ms.
        for _ in 0..98 {
            l.record(Duration::from_micros(100));
        }
        for _ in 0..2 {
            l.record(Duration::from_millis(2));
        }
        let run = l.snapshot().since(&before);
        assert_eq!(run.count(), 100);
        assert_eq!(run.percentile(0.5), Some(Duration::from_micros(103)));
        assert_eq!(run.percentile(0.98), Some(Duration::from_micros(103)));
        assert_eq!(run.percentile(0.99), Some(Duration::from_micros(2047)));
        // Without the snapshot, the three 5 ms calls are the top: p99 is theirs.
        assert_eq!(l.snapshot().percentile(0.99), Some(Duration::from_micros(5119)));
    }
}
