//! Call queues at scale: 1,000 callers waiting across 100 queues of 5 agents each (500
//! agents), every agent on a break. Then, one at a time, an agent becomes available; the
//! figure is the time from that moment to the bridge the simulated switch receives for the
//! next caller in that agent's queue (the music stopped first, as a real call has it). The
//! baseline, in the same run and at the same pace: a caller dialing a ring group of the
//! same five agents, from the call's arrival to its bridge.
//!
//! `cargo bench --bench queues` (env BENCH_QUEUES, default 100; BENCH_AGENTS_PER_QUEUE, 5;
//! BENCH_CALLERS_PER_QUEUE, 10). Memory per waiting caller: `BENCH_TO=queue cargo bench
//! --bench memory`. Prints figures; asserts nothing about time.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};
use switchboard::access::Role;
use switchboard::acd::{Acd, Status};
use switchboard::call::route::Router;
use switchboard::sim::{Scenario, Switch, Target};
use switchboard::store::accounts::NewUser;
use switchboard::store::resource::{Actor, Within};
use switchboard::store::{resources as res, Store, TenantId};

#[path = "common.rs"]
#[allow(dead_code)] // the call benches' helpers; this one needs two of them
mod common;
use common::{runtimes, server};

const ACME: &str = "acme.switchboard.test";

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

/// The demo installation with `queues` queues (7000…) and as many ring groups (8000…) over
/// the same agents (extensions 3000…), every agent on a break. The agents' user ids by queue.
fn seed(store: &Store, queues: usize, per_queue: usize) -> Vec<Vec<i64>> {
    switchboard::store::seed::demo(store, &|p: &str| format!("unused:{p}")).unwrap();
    let admin = Actor { user_id: 0, admin: true, enforce_packages: false };
    let acme = TenantId(store.tenant_by_domain(ACME).unwrap().expect("the demo's Acme").id);
    let change = json!({ "max_concurrent_calls": 100_000 });
    store.update(&res::TENANTS, Within::Everything, None, acme.0, &obj(change)).unwrap();
    let mut by_queue = Vec::new();
    for q in 0..queues {
        let mut agents = Vec::new();
        let mut extensions = Vec::new();
        for a in 0..per_queue {
            let n = q * per_queue + a;
            let u = store
                .create_user(
                    &NewUser {
                        tenant: Some(acme),
                        email: format!("agent{n}@acme.test"),
                        name: format!("Agent {n}"),
                        role: Role::Agent,
                        password_hash: "unused".into(),
                        permissions: Default::default(),
                        fax_email: String::new(),
                    },
                    &BTreeMap::new(),
                )
                .unwrap();
            let e = store
                .create(
                    &res::EXTENSIONS,
                    Some(acme),
                    &admin,
                    &obj(json!({ "number": format!("{}", 3000 + n), "display_name": format!("Agent {n}"), "user_id": u.id })),
                )
                .unwrap();
            store.set_agent_status(acme, u.id, "on_break").unwrap();
            agents.push(u.id);
            extensions.push(e["id"].as_i64().unwrap());
        }
        let queue = json!({
            "name": format!("Queue {q}"), "number": format!("{}", 7000 + q), "strategy": "longest_idle", "max_wait": 3600,
            "agent_timeout": 60, "wrap_up": 0, "max_no_answer": 0,
            "agents": agents.iter().map(|u| json!({ "user_id": u, "tier": 1 })).collect::<Vec<_>>(),
        });
        store.create(&res::CALL_QUEUES, Some(acme), &admin, &obj(queue)).unwrap();
        let group = json!({ "name": format!("Group {q}"), "number": format!("{}", 8000 + q), "strategy": "simultaneous", "timeout": 60,
            "members": extensions.iter().map(|e| json!({ "extension_id": e })).collect::<Vec<_>>() });
        store.create(&res::RING_GROUPS, Some(acme), &admin, &obj(group)).unwrap();
        by_queue.push(agents);
    }
    by_queue
}

fn caller(dialed: String) -> Scenario {
    Scenario {
        caller_id_number: "1004".into(),
        caller_id_name: "Warehouse".into(),
        destination: dialed,
        context: ACME.into(),
        domain: ACME.into(),
        profile: "internal".into(),
        playback_ms: 0,
        // The agents answer at once and talk until the bench ends.
        default_target: Target::Answer { after_ms: 0, talk_ms: None },
        ..Scenario::default()
    }
}

/// Waits for the next bridge the switch runs; the time it arrived.
async fn next_bridge(bus: &mut tokio::sync::broadcast::Receiver<Arc<switchboard::sim::event::SimEvent>>) -> Instant {
    loop {
        match bus.recv().await {
            Ok(ev) if ev.get("Event-Name") == Some("CHANNEL_EXECUTE") && ev.get("Application") == Some("bridge") => return Instant::now(),
            Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
            Err(e) => panic!("the switch's bus: {e}"),
        }
    }
}

fn percentiles(label: &str, mut v: Vec<Duration>) -> Duration {
    v.sort_unstable();
    let at = |p: f64| v[((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1];
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!("{label:<58} p50 {:.3} ms  p99 {:.3} ms  max {:.3} ms  ({} samples)", ms(at(0.5)), ms(at(0.99)), ms(at(1.0)), v.len());
    at(0.99)
}

fn main() {
    let queues = env("BENCH_QUEUES", 100);
    let per_queue = env("BENCH_AGENTS_PER_QUEUE", 5);
    let callers_per_queue = env("BENCH_CALLERS_PER_QUEUE", 10);
    let dir = std::env::temp_dir().join(format!("sb-bench-queues-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = Store::open(&dir.join("switchboard.db")).unwrap();
    let t0 = Instant::now();
    let agents = seed(&store, queues, per_queue);
    println!("seeded {queues} queues and ring groups over {} agents in {:.1} s", queues * per_queue, t0.elapsed().as_secs_f64());

    let (rt, servers) = runtimes();
    let acd = Acd::default();
    let router = Router::new(store.clone(), "ivr/ivr-not_available.wav".into()).with_acd(acd.clone());
    let (addr, _) = server(&servers, Arc::new(router));
    let sw = Switch::default();
    let mut bus = sw.subscribe();
    rt.block_on(async {
        // Everyone in line: callers_per_queue callers per queue, arriving one every 2 ms.
        let t0 = Instant::now();
        for k in 0..callers_per_queue {
            for q in 0..queues {
                let (sw, s) = (sw.clone(), Arc::new(caller(format!("{}", 7000 + q))));
                tokio::spawn(async move { sw.call(addr, s).await });
                if (k * queues + q) % 2 == 1 {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
            }
        }
        let waiting = || (0..queues).map(|q| acd.waiting(q as i64 + 1).len()).sum::<usize>();
        while waiting() < queues * callers_per_queue && t0.elapsed() < Duration::from_secs(120) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        println!("{} callers waiting in {queues} queues after {:.1} s", waiting(), t0.elapsed().as_secs_f64());
        tokio::time::sleep(Duration::from_millis(500)).await;

        // One agent at a time becomes available; the next caller of its queue is bridged to it.
        let mut to_bridge = Vec::new();
        for a in 0..per_queue {
            for q in &agents {
                bus = bus.resubscribe();
                let t = Instant::now();
                acd.set_status(q[a], Status::Available);
                let at = tokio::time::timeout(Duration::from_secs(10), next_bridge(&mut bus)).await.expect("a bridge for the waiting caller");
                to_bridge.push(at - t);
                // The same pace for both: one every 5 ms.
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        // The baseline: a new caller to a ring group of the same agents, arrival to bridge.
        let mut group = Vec::new();
        for _ in 0..per_queue {
            for q in 0..queues {
                bus = bus.resubscribe();
                let t = Instant::now();
                let (sw, s) = (sw.clone(), Arc::new(caller(format!("{}", 8000 + q))));
                tokio::spawn(async move { sw.call(addr, s).await });
                let at = tokio::time::timeout(Duration::from_secs(10), next_bridge(&mut bus)).await.expect("a bridge for the ring group's caller");
                group.push(at - t);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        let q99 = percentiles("queue: agent available → bridge for the next caller", to_bridge);
        let g99 = percentiles("ring group (baseline): caller arrives → bridge", group);
        println!("queue p99 / ring group p99: {:.2}", q99.as_secs_f64() / g99.as_secs_f64());
    });
    let _ = std::fs::remove_dir_all(&dir);
    // The callers still talking are left to the process's end.
    std::process::exit(0);
}
