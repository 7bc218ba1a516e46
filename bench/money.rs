//! The money path of a rated call, on its own: the credit held when it starts (`hold`) and
//! its record, charge and ledger entry when it ends (`settle`), one transaction each, as the
//! call's meter runs them on the blocking pool.
//!
//! `cargo bench --bench money` (env BENCH_CALLS). Prints figures; asserts nothing about time.

use std::time::Instant;

use serde_json::json;
use switchboard::billing::rating::Rate;
use switchboard::store::cdr::Cdr;
use switchboard::store::ledger::Payment;
use switchboard::store::resource::Actor;
use switchboard::store::{resources as res, Store, TenantId};

fn main() {
    let calls: usize = std::env::var("BENCH_CALLS").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    let dir = std::env::temp_dir().join(format!("sb-bench-money-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = Store::open(&dir.join("switchboard.db")).unwrap();
    let admin = Actor { user_id: 0, admin: true, enforce_packages: false };
    let tenant = json!({ "company": "Metered", "email": "ops@metered.test", "sip_domain": "metered.test", "timezone": "America/New_York" });
    let t = store.create(&res::TENANTS, None, &admin, tenant.as_object().unwrap()).unwrap();
    let tenant = TenantId(t["id"].as_i64().unwrap());
    let credit = Payment { amount: 1_000_000_000_000, payment_type: "cash".into(), date: String::new(), note: String::new(), user_id: None };
    store.pay(tenant, &credit).unwrap();
    let rate = Rate { per_minute: 10_000, connection_charge: 0, first_increment: 60, next_increment: 6 };
    let (mut hold, mut settle) = (Vec::with_capacity(calls), Vec::with_capacity(calls));
    for i in 0..calls {
        let uuid = format!("00000000-0000-4000-8000-{i:012}");
        let t = Instant::now();
        store.hold(tenant, &uuid, &rate, 600).unwrap();
        hold.push(t.elapsed());
        let cdr = Cdr {
            uuid,
            tenant: Some(tenant),
            direction: "outbound",
            caller_number: "1001".into(),
            caller_name: "Alice".into(),
            callee: "+12125550100".into(),
            did: String::new(),
            extension: "1001".into(),
            trunk_id: None,
            started_at: "2026-11-23T10:00:00Z".into(),
            answered_at: Some("2026-11-23T10:00:05Z".into()),
            ended_at: "2026-11-23T10:01:05Z".into(),
            duration: 65,
            billsec: 60,
            hangup_cause: "NORMAL_CLEARING".into(),
            disposition: "answered",
            recording_path: String::new(),
            route: String::new(),
            conference: false,
            queue_visits: Vec::new(),
        };
        let t = Instant::now();
        let settled = store.settle(&cdr, Some(&rate)).unwrap();
        settle.push(t.elapsed());
        assert!(settled.new && settled.charge > 0, "every call is recorded and charged once");
    }
    for (name, mut v) in [("hold (call start)", hold), ("settle (call end)", settle)] {
        v.sort();
        let us = |q: f64| v[((v.len() as f64 * q).ceil() as usize).clamp(1, v.len()) - 1].as_secs_f64() * 1e6;
        let mean = v.iter().map(|d| d.as_secs_f64()).sum::<f64>() / v.len() as f64 * 1e6;
        println!("{name:<18} {calls} rated calls: mean {mean:.1} µs  p50 {:.1} µs  p99 {:.1} µs  max {:.1} µs", us(0.5), us(0.99), us(1.0));
    }
    let _ = std::fs::remove_dir_all(&dir);
}
