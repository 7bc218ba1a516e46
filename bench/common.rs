//! What the call benches share: the echo baseline, the two runtimes (simulator, servers), a
//! loopback outbound server, one report line, the CPU a call takes.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use switchboard::call::CallHandler;
use switchboard::esl::{EslError, OutboundOptions, OutboundSession};
use switchboard::server::{CallStats, OutboundServer};
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

/// Names the servers' threads so their CPU can be told from the simulator's.
const SERVER_THREADS: &str = "sb-server";

/// Two runtimes of two workers each: the simulator on one, the outbound servers (and their
/// SQLite work on its blocking pool) on the other, as FreeSWITCH and switchboard would be two
/// processes. Idle threads are kept, so no thread's CPU leaves the count mid-run.
pub fn runtimes() -> (tokio::runtime::Runtime, tokio::runtime::Runtime) {
    let build = |name: &str| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name(name)
            .thread_keep_alive(Duration::from_secs(24 * 3600))
            .enable_all()
            .build()
            .unwrap()
    };
    (build("sb-simulator"), build(SERVER_THREADS))
}

/// An outbound server on `rt` (the servers' runtime), on a loopback port: its address and
/// its counters.
pub fn server(rt: &tokio::runtime::Runtime, handler: Arc<dyn CallHandler>) -> (std::net::SocketAddr, Arc<CallStats>) {
    let srv = rt.block_on(OutboundServer::bind("127.0.0.1:0".parse().unwrap(), handler, OutboundOptions::default(), 100_000)).unwrap();
    let addr = srv.local_addr().unwrap();
    let stats = srv.stats();
    let (tx, rx) = tokio::sync::watch::channel(false);
    std::mem::forget(tx);
    rt.spawn(srv.run(rx, Duration::from_secs(1)));
    (addr, stats)
}

/// Runs `calls` against the server whose counters are `stats`, prints its report, and under
/// it the server's own view of the same calls: from the channel data read to the first
/// application sent (the simulator's figure adds both sides' socket hand-offs).
pub async fn measured(label: &str, stats: &CallStats, calls: impl Future<Output = LoadReport>) {
    let before = stats.first_app.snapshot();
    let r = calls.await;
    print(label, &r);
    let inside = stats.first_app.snapshot().since(&before);
    let ms = |p| inside.percentile(p).map_or(f64::NAN, |d| d.as_secs_f64() * 1e3);
    println!(
        "    inside the server, channel data read → first app sent: p50 {:.3} ms p99 {:.3} ms ({} calls; bucket upper bounds)",
        ms(0.5),
        ms(0.99),
        inside.count()
    );
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
/// every run and the ratio of the best rates, and the CPU a call took: the whole process's
/// (simulator included) and the servers' threads' alone.
pub async fn against_echo(label: &str, echo: impl AsyncFn(usize) -> LoadReport, sb: impl AsyncFn(usize) -> LoadReport, calls: usize) {
    sb(calls.min(1000)).await;
    echo(calls.min(1000)).await;
    let mut best = (0.0f64, 0.0f64);
    let mut cpu = (Cpu::MAX, Cpu::MAX);
    for round in 1..=2 {
        let c = Cpu::now();
        let e = echo(calls).await;
        let e_cpu = Cpu::now().since(c, calls);
        print(&format!("echo (answer, hangup) #{round}"), &e);
        let c = Cpu::now();
        let s = sb(calls).await;
        let s_cpu = Cpu::now().since(c, calls);
        print(&format!("{label} #{round}"), &s);
        println!(
            "    CPU per call: echo {:.0} µs (its server {:.0} µs), {label} {:.0} µs (its server {:.0} µs)",
            e_cpu.all * 1e6,
            e_cpu.server * 1e6,
            s_cpu.all * 1e6,
            s_cpu.server * 1e6
        );
        best.0 = best.0.max(e.calls_per_second);
        best.1 = best.1.max(s.calls_per_second);
        cpu = (cpu.0.least(e_cpu), cpu.1.least(s_cpu));
    }
    println!("{label} / echo rate: {:.2} (best {:.0} vs {:.0} calls/s)", best.1 / best.0, best.1, best.0);
    // What the machine's other load does to the wall clock it does less to the CPU a call
    // takes: the steadier figure of the two on a shared 2-core VM.
    println!("echo / {label} CPU per call: {:.2} (least {:.0} vs {:.0} µs)", cpu.0.all / cpu.1.all, cpu.1.all * 1e6, cpu.0.all * 1e6);
    // The simulator stands in for FreeSWITCH, which in production runs its own threads (and
    // in a larger deployment its own machine): the server's own CPU per call is what bounds
    // the rate switchboard can route. An estimate, not a measured rate.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    println!(
        "{label}, server threads alone: {:.0} µs CPU per call (echo's server {:.0} µs): {cores:.0} cores would route {:.0} calls/s (echo {:.0}) with the switch elsewhere",
        cpu.1.server * 1e6,
        cpu.0.server * 1e6,
        cores / cpu.1.server,
        cores / cpu.0.server
    );
}

/// CPU seconds: the whole process's, and the servers' threads' alone.
#[derive(Clone, Copy)]
struct Cpu {
    all: f64,
    server: f64,
}

impl Cpu {
    const MAX: Cpu = Cpu { all: f64::MAX, server: f64::MAX };

    fn now() -> Cpu {
        let server = std::fs::read_dir("/proc/self/task")
            .into_iter()
            .flatten()
            .flatten()
            .filter(|t| std::fs::read_to_string(t.path().join("comm")).is_ok_and(|c| c.trim_end() == SERVER_THREADS))
            .map(|t| stat_seconds(&std::fs::read_to_string(t.path().join("stat")).unwrap_or_default()))
            .sum();
        Cpu { all: stat_seconds(&std::fs::read_to_string("/proc/self/stat").unwrap_or_default()), server }
    }

    /// Per call, since `before`.
    fn since(self, before: Cpu, calls: usize) -> Cpu {
        Cpu { all: (self.all - before.all) / calls as f64, server: (self.server - before.server) / calls as f64 }
    }

    fn least(self, other: Cpu) -> Cpu {
        Cpu { all: self.all.min(other.all), server: self.server.min(other.server) }
    }
}

/// User + system CPU time from a /proc stat line (fields 14 and 15, in USER_HZ ticks, which
/// Linux exports as 100 per second whatever the kernel's own HZ).
fn stat_seconds(stat: &str) -> f64 {
    // The command name, field 2, is in parentheses and may hold spaces: count after it.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // After ")" comes field 3 (state) at index 0, so field n is at n - 3.
    (tick(14 - 3) + tick(15 - 3)) / 100.0
}
