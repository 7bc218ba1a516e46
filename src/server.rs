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
}

pub struct OutboundServer {
    listener: TcpListener,
    handler: Arc<dyn CallHandler>,
    opts: OutboundOptions,
    max_calls: usize,
    stats: Arc<CallStats>,
}

impl OutboundServer {
    pub async fn bind(addr: SocketAddr, handler: Arc<dyn CallHandler>, opts: OutboundOptions, max_calls: usize) -> std::io::Result<OutboundServer> {
        Ok(OutboundServer { listener: TcpListener::bind(addr).await?, handler, opts, max_calls, stats: Arc::default() })
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
                let ok = one_call(stream, peer, handler, opts).await;
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
async fn one_call(stream: tokio::net::TcpStream, peer: SocketAddr, handler: Arc<dyn CallHandler>, opts: OutboundOptions) -> bool {
    let session = match OutboundSession::start(stream, &opts).await {
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
