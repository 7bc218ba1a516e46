//! Simulated calls through switchboard's outbound server against a bare echo server written
//! with the same esl module, in the same run: `cargo bench --bench calls`.
//!
//! switchboard: connect → answer → playback → hangup (the call handler `serve` runs).
//! echo:        connect → answer → hangup, nothing else.
//! Both end each socket with `exit` after the hangup, as a lingering session must.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use switchboard::call::{CallHandler, Greeting};
use switchboard::esl::{EslError, OutboundOptions, OutboundSession};
use switchboard::server::OutboundServer;
use switchboard::sim::load::{run, LoadReport};
use switchboard::sim::Scenario;

struct Echo;

impl CallHandler for Echo {
    fn handle<'a>(&'a self, s: &'a OutboundSession) -> Pin<Box<dyn Future<Output = Result<(), EslError>> + Send + 'a>> {
        Box::pin(async move {
            s.answer().await?;
            s.hangup("NORMAL_CLEARING").await
        })
    }
}

async fn server(handler: Arc<dyn CallHandler>) -> std::net::SocketAddr {
    let srv = OutboundServer::bind("127.0.0.1:0".parse().unwrap(), handler, OutboundOptions::default(), 100_000).await.unwrap();
    let addr = srv.local_addr().unwrap();
    let (tx, rx) = tokio::sync::watch::channel(false);
    std::mem::forget(tx);
    tokio::spawn(srv.run(rx, Duration::from_secs(1)));
    addr
}

fn print(label: &str, r: &LoadReport) {
    let ms = |us: u64| us as f64 / 1e3;
    println!(
        "{label:<34} {:>7.0} calls/s  completed {:>6}  errors {:>3}  connect→first cmd p50 {:.3} ms p99 {:.3} ms  data→first app p50 {:.3} ms p99 {:.3} ms  whole call p99 {:.3} ms",
        r.calls_per_second,
        r.completed,
        r.errors,
        ms(r.connect_to_first_command.p50_us),
        ms(r.connect_to_first_command.p99_us),
        ms(r.channel_data_to_first_app.p50_us),
        ms(r.channel_data_to_first_app.p99_us),
        ms(r.whole_call.p99_us)
    );
    for e in &r.error_samples {
        println!("    error: {e}");
    }
}

fn main() {
    let calls: usize = std::env::var("BENCH_CALLS").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        let sb = server(Arc::new(Greeting { file: "ivr/ivr-welcome.wav".into() })).await;
        let echo = server(Arc::new(Echo)).await;
        let scenario = Scenario { playback_ms: 0, ..Scenario::default() };
        // Warm up both, then measure each twice, alternating, so drift hits both alike.
        run(sb, 500, 0.0, 100, scenario.clone()).await;
        run(echo, 500, 0.0, 100, scenario.clone()).await;
        let mut best = (0.0f64, 0.0f64);
        for round in 1..=2 {
            let e = run(echo, calls, 0.0, 200, scenario.clone()).await;
            print(&format!("echo (answer, hangup) #{round}"), &e);
            let s = run(sb, calls, 0.0, 200, scenario.clone()).await;
            print(&format!("switchboard (answer, playback) #{round}"), &s);
            best.0 = best.0.max(e.calls_per_second);
            best.1 = best.1.max(s.calls_per_second);
        }
        println!("switchboard / echo rate: {:.2} (best {:.0} vs {:.0} calls/s)", best.1 / best.0, best.1, best.0);
        let paced = run(sb, 5000, 1000.0, 2000, scenario.clone()).await;
        print("switchboard paced at 1000 calls/s", &paced);
    });
}
