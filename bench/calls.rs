//! Simulated calls through switchboard's outbound server against a bare echo server written
//! with the same esl module, in the same run: `cargo bench --bench calls`.
//!
//! switchboard: connect → answer → playback → hangup (the call handler `serve` runs).
//! echo:        connect → answer → hangup, nothing else.
//! Both end each socket with `exit` after the hangup, as a lingering session must.

use std::sync::Arc;

use switchboard::call::Greeting;
use switchboard::sim::load::run;
use switchboard::sim::Scenario;

#[path = "common.rs"]
mod common;
use common::{against_echo, measured, runtimes, server, Echo};

fn main() {
    let calls: usize = std::env::var("BENCH_CALLS").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    let (rt, servers) = runtimes();
    let (sb, sb_stats) = server(&servers, Arc::new(Greeting { file: "ivr/ivr-welcome.wav".into() }));
    let (echo, _) = server(&servers, Arc::new(Echo));
    rt.block_on(async {
        let scenario = Scenario { playback_ms: 0, ..Scenario::default() };
        let e = async |n| run(echo, n, 0.0, 200, scenario.clone()).await;
        let s = async |n| run(sb, n, 0.0, 200, scenario.clone()).await;
        against_echo("switchboard (answer, playback)", e, s, calls).await;
        measured("switchboard paced at 1000 calls/s", &sb_stats, run(sb, 5000, 1000.0, 2000, scenario.clone())).await;
    });
}
