//! Memory per live call: `switchboard serve` as its own process, over the demo installation
//! (Acme prepaid with a rate for calls between phones, its concurrency cap raised), and the
//! simulator in this process placing calls from 1001 to 1003 that are answered at once and
//! held: each one routed, bridged, metered (credit held for its first window) and up for
//! BENCH_HOLD_SECS. Prints the server's resident set (VmRSS of its /proc status, never this
//! process's: the simulator's share is not the server's) idle and with every call up, and
//! the difference per call.
//!
//! `cargo bench --bench memory` (env BENCH_CALLS, default 10,000; BENCH_RATE, new calls a
//! second, default 400; BENCH_HOLD_SECS, default 45: long enough for 10,000 calls at 400/s
//! to be up at once; BENCH_WRAP, a command to run the server under, e.g. `heaptrack`).
//! A quick run: `BENCH_CALLS=1000 BENCH_HOLD_SECS=8 cargo bench --bench memory`.
//! `BENCH_TO=queue`: the calls dial a call queue (7000) whose only agent is on a break, and
//! wait in line with its music for BENCH_HOLD_SECS: the memory per waiting caller.
//! Prints figures; asserts nothing about size.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};
use switchboard::sim::load::run;
use switchboard::sim::{Scenario, Target};
use switchboard::store::ledger::Payment;
use switchboard::store::resource::{Actor, Within};
use switchboard::store::{resources as res, Store, TenantId};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

const ACME: &str = "acme.switchboard.test";

/// The demo, seeded here rather than by `serve --demo` so Acme can be made prepaid with a
/// rate (every call metered) and room for `calls` at once before the server opens it.
fn seed(dir: &std::path::Path, calls: usize, queue: bool, hold: Duration) {
    let store = Store::open(&dir.join("switchboard.db")).unwrap();
    // Nobody signs in: a cheap stand-in for argon2.
    assert!(switchboard::store::seed::demo(&store, &|p: &str| format!("unused:{p}")).unwrap());
    let admin = Actor { user_id: 0, admin: true, enforce_packages: false };
    let rates = json!([{ "direction": "internal", "prefix": "", "per_minute": 3_000, "first_increment": 60, "next_increment": 60 }]);
    let plan =
        store.create(&res::RATE_PLANS, None, &admin, &obj(json!({ "name": "Between phones", "rates": rates }))).unwrap()["id"].as_i64().unwrap();
    let acme = TenantId(store.tenant_by_domain(ACME).unwrap().expect("the demo's Acme").id);
    let change = json!({ "credit_policy": "prepaid", "rate_plan_id": plan, "max_concurrent_calls": calls + 1000 });
    store.update(&res::TENANTS, Within::Everything, None, acme.0, &obj(change)).unwrap();
    let payment = Payment { amount: 1_000_000_000_000, payment_type: "cash".into(), date: String::new(), note: String::new(), user_id: None };
    store.pay(acme, &payment).unwrap();
    if queue {
        let agent = store.extension_by_number(acme, "1002").unwrap().and_then(|e| e.user_id).expect("the demo's agent at 1002");
        store.set_agent_status(acme, agent, "on_break").unwrap();
        let q = json!({ "name": "Waiting", "number": "7000", "max_wait": hold.as_secs() + 600, "agents": [{ "user_id": agent, "tier": 1 }] });
        store.create(&res::CALL_QUEUES, Some(acme), &admin, &obj(q)).unwrap();
    }
}

/// `switchboard serve` over `dir`, FreeSWITCH's inbound socket nowhere (the calls need none:
/// everything a call does goes over its own outbound socket); its outbound and HTTP listeners.
fn serve(dir: &std::path::Path) -> (Child, SocketAddr, SocketAddr) {
    let mut cmd = match std::env::var("BENCH_WRAP") {
        Ok(w) => {
            let mut c = Command::new(w);
            c.arg(env!("CARGO_BIN_EXE_switchboard"));
            c
        }
        Err(_) => Command::new(env!("CARGO_BIN_EXE_switchboard")),
    };
    let mut child = cmd
        .arg("serve")
        .env("SWITCHBOARD_DATA_DIR", dir)
        .env("SWITCHBOARD_HTTP_LISTEN", "127.0.0.1:0")
        .env("SWITCHBOARD_OUTBOUND_LISTEN", "127.0.0.1:0")
        .env("SWITCHBOARD_FREESWITCH_ESL", "127.0.0.1:9")
        .env("SWITCHBOARD_LOG_FORMAT", "json")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    // Reads the log to its end (a full pipe would stall the server), keeping only the
    // listeners' line.
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str::<Value>(&line) {
                if v["message"] == "switchboard is up" {
                    let addr = |k: &str| v[k].as_str().unwrap_or_default().parse::<SocketAddr>().unwrap();
                    let _ = tx.send((addr("outbound"), addr("http")));
                }
            }
        }
    });
    let (outbound, http) = rx.recv_timeout(Duration::from_secs(60)).expect("the server logged its listeners");
    (child, outbound, http)
}

/// The switchboard process: `child` itself, or under BENCH_WRAP the descendant that runs it.
fn server_pid(child: u32) -> u32 {
    let comm = |pid: u32| std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut pid = child;
    while comm(pid).trim_end() != "switchboard" && Instant::now() < deadline {
        let kids = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
        match kids.split_whitespace().next_back().and_then(|k| k.parse().ok()) {
            Some(k) => pid = k,
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    pid
}

/// A number field of `pid`'s /proc status (VmRSS is in KiB).
fn status_field(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let value = status.lines().find_map(|l| l.strip_prefix(field)?.strip_prefix(':'));
    value.and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok()).unwrap_or(0)
}

/// VmRSS of `pid`, in KiB.
fn rss_kib(pid: u32) -> u64 {
    status_field(pid, "VmRSS")
}

/// The server's live calls, from its /health.
fn live_calls(http: SocketAddr) -> usize {
    let get = || -> std::io::Result<usize> {
        let mut s = TcpStream::connect_timeout(&http, Duration::from_secs(2))?;
        s.set_read_timeout(Some(Duration::from_secs(5)))?;
        s.write_all(b"GET /health HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")?;
        let mut text = String::new();
        s.read_to_string(&mut text)?;
        let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
        Ok(serde_json::from_str::<Value>(body).ok().and_then(|v| v["live_calls"].as_u64()).unwrap_or(0) as usize)
    };
    get().unwrap_or(0)
}

fn main() {
    let calls = env("BENCH_CALLS", 10_000);
    let rate = env("BENCH_RATE", 400) as f64;
    let hold = Duration::from_secs(env("BENCH_HOLD_SECS", 45) as u64);
    let dir = std::env::temp_dir().join(format!("sb-bench-memory-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let queue = std::env::var("BENCH_TO").is_ok_and(|v| v == "queue");
    seed(&dir, calls, queue, hold);
    let (mut child, outbound, http) = serve(&dir);
    let pid = server_pid(child.id());

    let scenario = Scenario {
        caller_id_number: "1001".into(),
        caller_id_name: "Reception".into(),
        destination: if queue { "7000" } else { "1003" }.into(),
        context: ACME.into(),
        domain: ACME.into(),
        playback_ms: 0,
        default_target: Target::Answer { after_ms: 0, talk_ms: Some(hold.as_millis() as u64) },
        // In line, the caller is the one who ends the call.
        hangup_after_ms: queue.then_some(hold.as_millis() as u64),
        ..Scenario::default()
    };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    // A first call warms the server (its SQLite pool, the lazily built parts) so the idle
    // figure is a served process's, not a fresh one's.
    let warm = rt.block_on(run(
        outbound,
        1,
        0.0,
        1,
        Scenario { default_target: Target::Answer { after_ms: 0, talk_ms: Some(0) }, hangup_after_ms: queue.then_some(200), ..scenario.clone() },
    ));
    assert_eq!(warm.errors, 0, "the warm-up call failed: {:?}", warm.error_samples);
    std::thread::sleep(Duration::from_millis(500));
    let idle = rss_kib(pid);
    println!("server idle after one call: RSS {:.1} MiB", idle as f64 / 1024.0);

    let t0 = Instant::now();
    let load = rt.spawn(run(outbound, calls, rate, calls + 1000, scenario));
    // Every call up: the server says so. Then a few samples a second apart, the largest kept.
    let deadline = t0 + Duration::from_secs_f64(calls as f64 / rate.max(1.0)) + hold;
    let mut peak_live = 0;
    while Instant::now() < deadline {
        peak_live = peak_live.max(live_calls(http));
        if peak_live >= calls {
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    let (mut held, mut threads) = (0, 0);
    for _ in 0..3 {
        held = held.max(rss_kib(pid));
        threads = threads.max(status_field(pid, "Threads"));
        peak_live = peak_live.max(live_calls(http));
        std::thread::sleep(Duration::from_secs(1));
    }
    let up = t0.elapsed();
    let report = rt.block_on(load).unwrap();
    let per_call = (held.saturating_sub(idle)) as f64 * 1024.0 / 1000.0 / peak_live.max(1) as f64;
    println!(
        "server with {peak_live} live calls{} (of {calls}, {:.0} s in): RSS {:.1} MiB, {per_call:.1} KB a call above idle ({threads} threads)",
        if queue { " waiting in a queue" } else { "" },
        up.as_secs_f64(),
        held as f64 / 1024.0
    );
    println!("calls completed {} errors {} (placed at {rate:.0}/s, each held {} s)", report.completed, report.errors, hold.as_secs());
    for e in &report.error_samples {
        println!("    error: {e}");
    }
    // SIGTERM, so a profiler wrapping the server writes its data out.
    // SAFETY: kill(2) on a process this bench started.
    unsafe { libc::kill(pid as i32, libc::SIGTERM) };
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}
