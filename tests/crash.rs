//! Killing switchboard (a real process, SIGKILL) with prepaid calls up, then starting it
//! again: the switch keeps the calls (the bridge outlives the socket) and its sched_hangup
//! still guards them; the new process counts them against the caps, settles them once they
//! are gone, once, on what the switch says they talked, and leaves nothing held.

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use switchboard::sim::{Scenario, Switch, Target};
use switchboard::store::resource::{Actor, ListQuery, Within};
use switchboard::store::{ledger::Payment, resources as res, Store, TenantId};

const ACME: &str = "acme.switchboard.test";
const PASSWORD: &str = "crash-test";

fn serve(dir: &std::path::Path, esl: SocketAddr) -> (common::process::Served, SocketAddr) {
    let s = common::process::serve(dir, esl, PASSWORD, &[]);
    let addr = s.outbound;
    (s, addr)
}

fn obj(v: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    v.as_object().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_switchboard_charges_nothing_twice_and_its_caps_match_the_switch() {
    let dir = common::api::temp_dir();
    let store = Store::open(&dir.join("switchboard.db")).unwrap();
    switchboard::store::seed::demo(&store, &|p| format!("plain:{p}")).unwrap();
    let admin = Actor { user_id: 0, admin: true, enforce_packages: false };
    let q = ListQuery { page: 1, per_page: 100, ..Default::default() };
    let acme = store.list(&res::TENANTS, Within::Everything, None, &q).unwrap().items.into_iter().find(|t| t["sip_domain"] == ACME).unwrap();
    let acme = TenantId(acme["id"].as_i64().unwrap());
    // 1.00 a minute by the second; 10.00 of credit: each call holds its first 60 s window.
    let rates = json!([{ "direction": "outbound", "prefix": "1", "per_minute": 1_000_000, "first_increment": 1, "next_increment": 1 }]);
    let plan = store.create(&res::RATE_PLANS, None, &admin, &obj(json!({ "name": "Retail", "rates": rates }))).unwrap()["id"].as_i64().unwrap();
    store
        .update(
            &res::TENANTS,
            Within::Everything,
            None,
            acme.0,
            &obj(json!({ "credit_policy": "prepaid", "rate_plan_id": plan, "max_concurrent_calls": 2 })),
        )
        .unwrap();
    let pkg = store.create(&res::PACKAGES, None, &admin, &obj(json!({ "name": "No minutes" }))).unwrap()["id"].as_i64().unwrap();
    store.subscribe(acme, pkg).unwrap();
    let opening = 10_000_000;
    store.pay(acme, &Payment { amount: opening, payment_type: "cash".into(), date: String::new(), note: String::new(), user_id: None }).unwrap();
    let trunk = store.list(&res::TRUNKS, Within::Everything, None, &q).unwrap().items[0]["id"].as_i64().unwrap();

    let switch = Switch::default();
    let (esl, _h) = switchboard::sim::inbound::serve(switch.clone(), "127.0.0.1:0".parse().unwrap(), PASSWORD.into()).await.unwrap();
    let number = "+12125550199";
    let scenario = |hangup_ms: u64| {
        Arc::new(Scenario {
            caller_id_number: "1001".into(),
            destination: number.into(),
            context: ACME.into(),
            domain: ACME.into(),
            profile: "internal".into(),
            playback_ms: 10,
            hangup_after_ms: Some(hangup_ms),
            targets: BTreeMap::from([(format!("sofia/gateway/trunk{trunk}/{number}"), Target::Answer { after_ms: 10, talk_ms: None })]),
            ..Scenario::default()
        })
    };

    let (mut first, addr) = serve(&dir, esl);
    // Two calls that talk until their callers hang up, 16 s in.
    let calls: Vec<_> = (0..2).map(|_| tokio::spawn(switch.call(addr, scenario(16_000)))).collect();
    let mut held = Vec::new();
    for _ in 0..200 {
        held = store.reservations().unwrap();
        if held.len() == 2 && switch.live().len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(held.len(), 2, "both calls hold credit");
    tokio::time::sleep(Duration::from_millis(300)).await;
    first.child.kill().unwrap();
    first.child.wait().unwrap();

    let (second, addr) = serve(&dir, esl);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(switch.live().len(), 2, "the switch kept both calls when switchboard died");
    // Once the calls are older than reconciliation's grace the new process counts them: a
    // third call is over the cap of two.
    tokio::time::sleep(Duration::from_secs(11)).await;
    let third = switch.call(addr, scenario(1_000)).await;
    assert_eq!(third.hangup_cause.as_deref(), Some("USER_BUSY"), "the adopted calls fill the cap: {:?}", third.commands);
    let mut talked = BTreeMap::new();
    for c in calls {
        let r = c.await.unwrap();
        assert_eq!(r.hangup_by.as_deref(), Some("caller"), "{:?}", r.hangup_cause);
        let billsec: i64 = r.variables.iter().find(|(k, _)| k == "billsec").map(|(_, v)| v.parse().unwrap()).unwrap();
        talked.insert(r.uuid.clone(), billsec);
    }
    // The next pass frees their slots and settles their reservations.
    let mut left = held.len();
    for _ in 0..100 {
        left = store.reservations().unwrap().len();
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(left, 0, "nothing stays held");
    let fourth = switch.call(addr, scenario(500)).await;
    assert_eq!(fourth.bridges.len(), 1, "the slots came back: {:?}", fourth.hangup_cause);
    // Each crashed call is charged, once, for what it talked as the switch reported it when
    // it ended (the live model saw its CHANNEL_HANGUP_COMPLETE), not the whole window it held.
    let charges = store.ledger(Some(acme), Some("charge"), 1, 50).unwrap();
    let crashed: Vec<_> = charges.items.iter().filter(|c| held.iter().any(|h| c["call_uuid"] == h.call_uuid.as_str())).collect();
    assert_eq!(crashed.len(), 2, "one charge per crashed call: {charges:?}");
    for c in crashed {
        let uuid = c["call_uuid"].as_str().unwrap();
        let billsec = talked[uuid];
        assert!((10..=17).contains(&billsec), "{billsec}");
        let held = held.iter().find(|h| h.call_uuid == uuid).unwrap().amount;
        // 1.00 a minute by the second, rounded up to the micro-unit.
        assert_eq!(-c["amount"].as_i64().unwrap(), (1_000_000 * billsec + 59) / 60, "{c}");
        assert!(-c["amount"].as_i64().unwrap() < held, "less than the {held} held");
    }
    let all: i64 = charges.items.iter().map(|c| c["amount"].as_i64().unwrap()).sum();
    let credit = store.credit(acme).unwrap();
    assert_eq!((credit.balance, credit.held), (opening + all, 0), "the balance is the ledger's");
    drop(second);
}
