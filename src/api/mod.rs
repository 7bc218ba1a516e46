//! The HTTP side: warp filters. For now the health endpoint; the API, UI, mod_xml_curl and
//! provisioning mount here as they land.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use serde::Serialize;
use tokio::sync::watch;
use warp::Filter;

use crate::esl::inbound::SwitchState;
use crate::server::CallStats;

#[derive(Clone)]
pub struct Health {
    pub stats: Arc<CallStats>,
    pub switch: watch::Receiver<SwitchState>,
    pub version: &'static str,
}

#[derive(Serialize)]
struct HealthBody {
    status: &'static str,
    version: &'static str,
    freeswitch: SwitchState,
    live_calls: usize,
    calls_handled: u64,
    calls_failed: u64,
}

/// GET /health: switchboard is up; whether FreeSWITCH is reachable; call counters. A
/// missing FreeSWITCH is reported, not an error (200 either way).
pub fn health(h: Health) -> impl Filter<Extract = (impl warp::Reply,), Error = warp::Rejection> + Clone {
    warp::path!("health").and(warp::get()).map(move || {
        let body = HealthBody {
            status: "ok",
            version: h.version,
            freeswitch: h.switch.borrow().clone(),
            live_calls: h.stats.live.load(Ordering::Relaxed),
            calls_handled: h.stats.total.load(Ordering::Relaxed),
            calls_failed: h.stats.failed.load(Ordering::Relaxed),
        };
        warp::reply::json(&body)
    })
}

/// Every route, with static files from `static_dir` at `/`.
pub fn routes(h: Health, static_dir: std::path::PathBuf) -> impl Filter<Extract = (impl warp::Reply,), Error = warp::Rejection> + Clone {
    health(h).or(warp::fs::dir(static_dir))
}
