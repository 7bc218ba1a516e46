//! The demo installation behind a live router, and the simulated calls the routing and
//! money tests place through it (Acme: DID +12125550100 → business hours → IVR 5000 → 1:
//! ring group 6000 → voicemail).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{json, Map, Value};
use switchboard::call::route::Router;
use switchboard::sim::{CallReport, Scenario, Switch, Target};
use switchboard::store::resource::{Actor, ListQuery, Within};
use switchboard::store::{resources as res, Store, TenantId};

pub const ACME: &str = "acme.switchboard.test";
pub const ADMIN: Actor = Actor { user_id: 0, admin: true, enforce_packages: false };

pub struct Pbx {
    pub store: Store,
    pub srv: super::Server,
    pub acme: TenantId,
    /// Where received faxes are kept.
    pub fax_dir: std::path::PathBuf,
}

/// The demo installation with the clock at `at` (UTC).
pub async fn pbx(at: &str) -> Pbx {
    pbx_timed(at, std::time::Duration::from_secs(1)).await
}

/// The same, metering calls in seconds of `second` (to match a scenario's second_ms).
pub async fn pbx_timed(at: &str, second: std::time::Duration) -> Pbx {
    pbx_with_queues(at, second, switchboard::acd::Acd::default()).await
}

/// The same, its call queues run on `acd` (a test reads the queues' figures from it).
pub async fn pbx_with_queues(at: &str, second: std::time::Duration, acd: switchboard::acd::Acd) -> Pbx {
    let dir = super::api::temp_dir();
    let store = Store::open(&dir.join("t.db")).unwrap();
    switchboard::store::seed::demo(&store, &|p| format!("plain:{p}")).unwrap();
    pbx_on(store, at, second, acd).await
}

/// Calls routed over `store` (the demo installation, seeded), e.g. an API server's.
pub async fn pbx_on(store: Store, at: &str, second: std::time::Duration, acd: switchboard::acd::Acd) -> Pbx {
    pbx_keeping_faxes(store, at, second, acd, super::api::temp_dir().join("fax")).await
}

/// The same, received faxes kept in `fax_dir` (an API server's data directory's `fax/`).
pub async fn pbx_keeping_faxes(store: Store, at: &str, second: std::time::Duration, acd: switchboard::acd::Acd, fax_dir: std::path::PathBuf) -> Pbx {
    let t: jiff::Timestamp = at.parse().unwrap();
    let router = Router::with_clock(store.clone(), "ivr/unroutable.wav".into(), Arc::new(move || t))
        .with_second(second)
        .with_acd(acd)
        .with_fax_dir(fax_dir.clone());
    let srv = super::start(Arc::new(router)).await;
    let acme = TenantId(find(&store, &res::TENANTS, Within::Everything, "sip_domain", ACME)["id"].as_i64().unwrap());
    Pbx { store, srv, acme, fax_dir }
}

pub fn find(store: &Store, r: &switchboard::store::Resource, within: Within, key: &str, value: &str) -> Value {
    let q = ListQuery { page: 1, per_page: 500, ..Default::default() };
    store.list(r, within, None, &q).unwrap().items.into_iter().find(|v| v[key] == value).unwrap_or_else(|| panic!("no {key}={value}"))
}

pub fn obj(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

/// A call from a trunk to `did`.
pub fn from_trunk(did: &str, caller: &str) -> Scenario {
    Scenario {
        caller_id_number: caller.into(),
        caller_id_name: "Outside Caller".into(),
        destination: did.into(),
        context: "public".into(),
        domain: "203.0.113.10".into(),
        profile: "external".into(),
        playback_ms: 10,
        voicemail_ms: Some(50),
        ..Scenario::default()
    }
}

/// A call from a registered phone of `domain`.
pub fn from_phone(domain: &str, ext: &str, dialed: &str) -> Scenario {
    Scenario {
        caller_id_number: ext.into(),
        caller_id_name: format!("Ext {ext}"),
        destination: dialed.into(),
        context: domain.into(),
        domain: domain.into(),
        profile: "internal".into(),
        playback_ms: 10,
        voicemail_ms: Some(50),
        ..Scenario::default()
    }
}

pub fn answers(talk_ms: u64) -> Target {
    Target::Answer { after_ms: 20, talk_ms: Some(talk_ms) }
}

pub async fn call(p: &Pbx, s: Scenario) -> (CallReport, Value) {
    call_on(&Switch::default(), p, s).await
}

/// A call on a given switch (calls that must meet, as in a pickup, share one).
pub async fn call_on(sw: &Switch, p: &Pbx, s: Scenario) -> (CallReport, Value) {
    let r = sw.call(p.srv.addr, Arc::new(s)).await;
    // The CDR is written after the hangup; give the handler a moment.
    let mut cdr = Value::Null;
    for _ in 0..100 {
        if let Some(c) = p.store.cdr(&r.uuid).unwrap() {
            cdr = c;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    (r, cdr)
}

pub fn apps(r: &CallReport) -> Vec<String> {
    r.apps.iter().map(|a| format!("{} {}", a.app, a.arg)).collect()
}

// Wednesday 2026-11-18 10:00 in New York (15:00 UTC): open.
pub const OPEN: &str = "2026-11-18T15:00:00Z";
// Saturday 2026-11-21 10:00 in New York: closed.
pub const CLOSED: &str = "2026-11-21T15:00:00Z";

pub fn api_lines(r: &CallReport) -> Vec<&str> {
    r.commands.iter().filter(|c| c.starts_with("api ")).map(String::as_str).collect()
}

pub fn set_tenant(p: &Pbx, change: Value) {
    p.store.update(&res::TENANTS, Within::Everything, None, p.acme.0, &obj(change)).unwrap();
}

/// Moves Acme to a package with `minutes` free voice minutes a period.
pub fn free_minutes(p: &Pbx, minutes: i64) {
    let name = format!("Voice {minutes}");
    let pkg = p.store.create(&res::PACKAGES, None, &ADMIN, &obj(json!({ "name": name, "voice_minutes": minutes }))).unwrap()["id"].as_i64().unwrap();
    p.store.subscribe(p.acme, pkg).unwrap();
}

pub const SECOND_MS: u64 = 20;
/// 100,000 micro-units a second, billed by the second.
pub const PER_SECOND: i64 = 100_000;

/// A prepaid Acme with a per-second rate to +1, and a call to +1 212 whose far end talks
/// until something else ends the call.
pub async fn prepaid_pbx() -> (Pbx, Scenario) {
    prepaid_pbx_timed(SECOND_MS).await
}

/// The same with a second of `second_ms` (longer where many calls load the machine: the
/// switch's cut is late by however long an event takes to arrive, in simulated seconds).
pub async fn prepaid_pbx_timed(second_ms: u64) -> (Pbx, Scenario) {
    let p = pbx_timed(OPEN, std::time::Duration::from_millis(second_ms)).await;
    let rates = json!([{ "direction": "outbound", "prefix": "1", "per_minute": PER_SECOND * 60, "first_increment": 1, "next_increment": 1 }]);
    let plan = p.store.create(&res::RATE_PLANS, None, &ADMIN, &obj(json!({ "name": "Retail", "rates": rates }))).unwrap()["id"].as_i64().unwrap();
    set_tenant(&p, json!({ "credit_policy": "prepaid", "rate_plan_id": plan }));
    free_minutes(&p, 0);
    let t1 = find(&p.store, &res::TRUNKS, Within::Everything, "name", "DemoCarrier")["id"].as_i64().unwrap();
    let number = "+12125550199";
    let mut s = from_phone(ACME, "1001", number);
    s.second_ms = second_ms;
    s.targets = BTreeMap::from([(format!("sofia/gateway/trunk{t1}/{number}"), Target::Answer { after_ms: 10, talk_ms: None })]);
    (p, s)
}

pub fn pay(p: &Pbx, amount: i64) {
    let payment =
        switchboard::store::ledger::Payment { amount, payment_type: "cash".into(), date: String::new(), note: String::new(), user_id: None };
    p.store.pay(p.acme, &payment).unwrap();
}
