//! What the call benches share: the echo baseline, a loopback outbound server, one report line.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use switchboard::call::CallHandler;
use switchboard::esl::{EslError, OutboundOptions, OutboundSession};
use switchboard::server::OutboundServer;
use switchboard::sim::load::LoadReport;

pub struct Echo;

impl CallHandler for Echo {
    fn handle<'a>(&'a self, s: &'a OutboundSession) -> Pin<Box<dyn Future<Output = Result<(), EslError>> + Send + 'a>> {
        Box::pin(async move {
            s.answer().await?;
            s.hangup("NORMAL_CLEARING").await
        })
    }
}

pub async fn server(handler: Arc<dyn CallHandler>) -> std::net::SocketAddr {
    let srv = OutboundServer::bind("127.0.0.1:0".parse().unwrap(), handler, OutboundOptions::default(), 100_000).await.unwrap();
    let addr = srv.local_addr().unwrap();
    let (tx, rx) = tokio::sync::watch::channel(false);
    std::mem::forget(tx);
    tokio::spawn(srv.run(rx, Duration::from_secs(1)));
    addr
}

pub fn print(label: &str, r: &LoadReport) {
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

/// Warms both up, then measures each twice, alternating, so drift hits both alike; prints
/// every run and the ratio of the best rates.
pub async fn against_echo(label: &str, echo: impl AsyncFn(usize) -> LoadReport, sb: impl AsyncFn(usize) -> LoadReport, calls: usize) {
    sb(calls.min(1000)).await;
    echo(calls.min(1000)).await;
    let mut best = (0.0f64, 0.0f64);
    let mut cpu = (f64::MAX, f64::MAX);
    for round in 1..=2 {
        let c = cpu_seconds();
        let e = echo(calls).await;
        let e_cpu = (cpu_seconds() - c) / calls as f64;
        print(&format!("echo (answer, hangup) #{round}"), &e);
        let c = cpu_seconds();
        let s = sb(calls).await;
        let s_cpu = (cpu_seconds() - c) / calls as f64;
        print(&format!("{label} #{round}"), &s);
        println!("    CPU per call, simulator included: echo {:.0} µs, {label} {:.0} µs", e_cpu * 1e6, s_cpu * 1e6);
        best.0 = best.0.max(e.calls_per_second);
        best.1 = best.1.max(s.calls_per_second);
        cpu = (cpu.0.min(e_cpu), cpu.1.min(s_cpu));
    }
    println!("{label} / echo rate: {:.2} (best {:.0} vs {:.0} calls/s)", best.1 / best.0, best.1, best.0);
    // What the machine's other load does to the wall clock it does less to the CPU a call
    // takes: the steadier figure of the two on a shared 2-core VM.
    println!("echo / {label} CPU per call: {:.2} (least {:.0} vs {:.0} µs)", cpu.0 / cpu.1, cpu.1 * 1e6, cpu.0 * 1e6);
}

/// This process's user + system CPU time so far, from /proc/self/stat (fields 14 and 15, in
/// USER_HZ ticks, which Linux exports as 100 per second whatever the kernel's own HZ).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The command name, field 2, is in parentheses and may hold spaces: count after it.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // After ")" comes field 3 (state) at index 0, so field n is at n - 3.
    (tick(14 - 3) + tick(15 - 3)) / 100.0
}
