//! Live routing at scale: 1,000 tenants, 10,000 DIDs and 50,000 extensions in SQLite, calls
//! from trunks to every DID (DID → tenant → inbound route → extension → bridge → CDR) through
//! the simulator, against the echo server in the same run; then the CDR list over 10,000,000
//! records.
//!
//! `cargo bench --bench routing` (env BENCH_TENANTS, BENCH_CALLS, BENCH_CDRS, BENCH_QUERIES,
//! BENCH_DB, BENCH_PROFILE).
//! Prints figures; asserts nothing about time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};
use switchboard::call::route::Router;
use switchboard::sim::load::{run, run_mix};
use switchboard::sim::{Scenario, Target};
use switchboard::store::cdr::{Cdr, CdrFilter};
use switchboard::store::resource::{Actor, Within};
use switchboard::store::{resources as res, Store, TenantId};

#[path = "common.rs"]
mod common;
use common::{against_echo, measured, print, runtimes, server, Echo};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap()
}

const EXT_PER_TENANT: usize = 50;
const DIDS_PER_TENANT: usize = 10;

/// Seeds through the same checked writes the API uses; returns the DIDs.
fn seed(store: &Store, tenants: usize) -> Vec<String> {
    let admin = Actor { user_id: 0, admin: true, enforce_packages: false };
    let trunk = id(&store.create(&res::TRUNKS, None, &admin, &obj(json!({ "name": "Carrier", "host": "sip.carrier.test" }))).unwrap());
    let mut dids = Vec::new();
    for t in 0..tenants {
        let tenant = store
            .create(
                &res::TENANTS,
                None,
                &admin,
                &obj(json!({ "company": format!("Tenant {t}"), "email": format!("ops@t{t}.test"), "sip_domain": format!("t{t}.bench.test"),
                             "timezone": "America/New_York" })),
            )
            .unwrap();
        let tid = TenantId(id(&tenant));
        let mut exts = Vec::new();
        for e in 0..EXT_PER_TENANT {
            let x = store
                .create(&res::EXTENSIONS, Some(tid), &admin, &obj(json!({ "number": format!("{}", 1000 + e), "display_name": format!("User {e}") })))
                .unwrap();
            exts.push(id(&x));
        }
        for d in 0..DIDS_PER_TENANT {
            let number = did_number(t, d);
            let did = store.create(&res::DIDS, None, &admin, &obj(json!({ "number": number, "trunk_id": trunk, "tenant_id": tid.0 }))).unwrap();
            store
                .create(
                    &res::INBOUND_ROUTES,
                    Some(tid),
                    &admin,
                    &obj(json!({ "did_id": id(&did), "name": format!("DID {d}"), "destination": { "type": "extension", "id": exts[d * 5] } })),
                )
                .unwrap();
            dids.push(number);
        }
    }
    dids
}

fn from_trunk(did: &str) -> Arc<Scenario> {
    Arc::new(Scenario {
        caller_id_number: "+15557654321".into(),
        caller_id_name: "Caller".into(),
        destination: did.trim_start_matches('+').into(),
        context: "public".into(),
        domain: "203.0.113.10".into(),
        profile: "external".into(),
        playback_ms: 0,
        // Every extension answers at once and hangs up at once: the figure is routing work.
        default_target: Target::Answer { after_ms: 0, talk_ms: Some(0) },
        ..Scenario::default()
    })
}

fn cdr_history(store: &Store, tenants: usize, rows: usize) {
    let t0 = Instant::now();
    let start = jiff::Timestamp::from_second(1_767_225_600).unwrap(); // 2026-01-01
    let batch = 20_000;
    let mut written = 0;
    while written < rows {
        let n = batch.min(rows - written);
        let cdrs: Vec<Cdr> = (written..written + n)
            .map(|i| {
                // One year of calls, evenly spread.
                let at = start + jiff::SignedDuration::from_millis((i as u128 * 31_536_000_000 / rows as u128) as i64);
                let answered = i % 4 != 0;
                // The tenant's own call number: each of its extensions makes or takes a
                // fair share of its calls (≈ 400 a year of its 10,000).
                let j = i / tenants;
                Cdr {
                    uuid: format!("00000000-0000-4000-8000-{i:012}"),
                    tenant: Some(TenantId(1 + (i % tenants) as i64)),
                    direction: ["inbound", "outbound", "internal"][i % 3],
                    caller_number: format!("+1555{:07}", i % 10_000_000),
                    caller_name: "Caller".into(),
                    callee: format!("{}", 1000 + (j * 7 + 3) % EXT_PER_TENANT),
                    did: String::new(),
                    extension: format!("{}", 1000 + j % EXT_PER_TENANT),
                    trunk_id: None,
                    started_at: at.to_string(),
                    answered_at: answered.then(|| at.to_string()),
                    ended_at: (at + jiff::SignedDuration::from_secs(60)).to_string(),
                    duration: 60,
                    billsec: if answered { 55 } else { 0 },
                    hangup_cause: "NORMAL_CLEARING".into(),
                    disposition: if answered { "answered" } else { "no_answer" },
                    recording_path: String::new(),
                    route: String::new(),
                    conference: false,
                    queue_visits: Vec::new(),
                }
            })
            .collect();
        store.write_cdrs(&cdrs).unwrap();
        written += n;
    }
    println!("CDR history: {rows} records written in {:.1} s", t0.elapsed().as_secs_f64());
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1].as_secs_f64() * 1e3
}

fn main() {
    let tenants = env("BENCH_TENANTS", 1000);
    let calls = env("BENCH_CALLS", 20_000);
    let cdr_rows = env("BENCH_CDRS", 10_000_000);
    let queries = env("BENCH_QUERIES", 500);
    // BENCH_DB=<file> keeps the seeded database (and its CDR history) for the next run, which
    // reuses it as it is: seeding 10,000,000 records takes minutes, a query change seconds.
    let kept = std::env::var_os("BENCH_DB").map(std::path::PathBuf::from);
    let reuse = kept.as_ref().is_some_and(|p| p.exists());
    let dir = std::env::temp_dir().join(format!("sb-bench-routing-{}", uuid::Uuid::new_v4()));
    let path = kept.clone().unwrap_or_else(|| dir.join("switchboard.db"));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let t0 = Instant::now();
    let store = Store::open(&path).unwrap();
    println!("opened {} (migrations applied) in {:.1} s", path.display(), t0.elapsed().as_secs_f64());
    let t0 = Instant::now();
    let dids = if reuse { (0..tenants).flat_map(|t| (0..DIDS_PER_TENANT).map(move |d| did_number(t, d))).collect() } else { seed(&store, tenants) };
    println!("seeded {tenants} tenants, {} extensions, {} DIDs in {:.1} s", tenants * EXT_PER_TENANT, dids.len(), t0.elapsed().as_secs_f64());
    let scenarios: Vec<Arc<Scenario>> = dids.iter().map(|d| from_trunk(d)).collect();

    let (rt, servers) = runtimes();
    if calls > 0 {
        let (sb, sb_stats) = server(&servers, Arc::new(Router::new(store.clone(), "ivr/ivr-not_available.wav".into())));
        let (echo, echo_stats) = server(&servers, Arc::new(Echo));
        rt.block_on(async {
            let plain = Scenario { playback_ms: 0, ..Scenario::default() };
            // BENCH_PROFILE=<n>: only n routed calls and nothing else, for a profiler.
            if let Some(n) = std::env::var("BENCH_PROFILE").ok().and_then(|v| v.parse().ok()) {
                print("routed DID → extension (profile)", &run_mix(sb, n, 0.0, 200, &scenarios).await);
                return;
            }
            let e = async |n| run(echo, n, 0.0, 200, plain.clone()).await;
            let s = async |n| run_mix(sb, n, 0.0, 200, &scenarios).await;
            against_echo("routed DID → extension", e, s, calls).await;
            // Below saturation the latencies are the routing's own, not the queue's.
            measured("echo paced at 500 calls/s", &echo_stats, run(echo, 5000, 500.0, 1000, plain.clone())).await;
            measured("routed paced at 500 calls/s", &sb_stats, run_mix(sb, 5000, 500.0, 1000, &scenarios)).await;
        });
    }

    if cdr_rows > 0 {
        if !reuse {
            cdr_history(&store, tenants, cdr_rows);
        }
        cdr_queries(&store, tenants, cdr_rows, queries);
    }
    if kept.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// The CDR list, timed, one kind of page after another (a kind's reads warm the page cache
/// for the next, so each runs on its own): a tenant admin's month and one direction; one
/// extension's page 2; the super admin's one day across tenants. Queries spread over
/// tenants, months and extensions.
fn cdr_queries(store: &Store, tenants: usize, cdr_rows: usize, queries: usize) {
    let tenant = |q: usize| TenantId(1 + (q * 7919 % tenants) as i64);
    let month = |q: usize| 1 + q % 12;
    let timed = |name: &str, query: &dyn Fn(usize) -> (Within, CdrFilter)| {
        let mut lat: Vec<Duration> = (0..queries)
            .map(|q| {
                let (within, f) = query(q);
                let t = Instant::now();
                let page = store.cdrs(within, &f).unwrap();
                let took = t.elapsed();
                assert_eq!(page.items.len(), 50, "{name}: a full page");
                took
            })
            .collect();
        lat.sort();
        println!("{name:<36} over {cdr_rows} records: p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms", pct(&lat, 0.5), pct(&lat, 0.99), pct(&lat, 1.0));
    };
    timed("CDR page: month + direction", &|q| {
        let m = month(q);
        let (from, to) = (format!("2026-{m:02}-01T00:00:00Z"), format!("2026-{m:02}-28T00:00:00Z"));
        (
            Within::Tenant(tenant(q)),
            CdrFilter { from: Some(from), to: Some(to), direction: Some("inbound".into()), page: 1, per_page: 50, ..Default::default() },
        )
    });
    timed("CDR page: one extension, page 2", &|q| {
        (
            Within::Tenant(tenant(q)),
            CdrFilter { extension: Some(format!("{}", 1000 + q % EXT_PER_TENANT)), page: 2, per_page: 50, ..Default::default() },
        )
    });
    timed("CDR page: all tenants, one day", &|q| {
        let (m, d) = (month(q), 1 + q % 27);
        (
            Within::Everything,
            CdrFilter {
                from: Some(format!("2026-{m:02}-{d:02}")),
                to: Some(format!("2026-{m:02}-{:02}", d + 1)),
                page: 1,
                per_page: 50,
                ..Default::default()
            },
        )
    });
}

/// The `d`th DID of tenant `t` (0-based), as [`seed`] creates it; a kept database's DIDs.
fn did_number(t: usize, d: usize) -> String {
    format!("+1212{:03}{:04}", t % 1000, d + 10 * (t / 1000))
}
