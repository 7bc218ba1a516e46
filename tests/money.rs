//! Money and limits through live calls: concurrency caps, prepaid metering, the flag
//! policy, trunk caps, transaction limits, the low-credit mail, churn and crashes.

mod common;

use std::collections::BTreeMap;

use common::pbx::*;
use serde_json::{json, Value};
use switchboard::sim::{Scenario, Switch, Target};
use switchboard::store::resource::Within;
use switchboard::store::resources as res;

/// N+1 calls with a cap of N: the last is refused busy, with the announcement, before
/// anything rings; once the others end a new call passes.
#[tokio::test]
async fn the_tenant_cap_refuses_the_call_over_it() {
    let p = pbx(OPEN).await;
    set_tenant(&p, json!({ "max_concurrent_calls": 2 }));
    let sw = Switch::default();
    let talking = |ms| {
        let mut s = from_phone(ACME, "1001", "1003");
        s.targets = BTreeMap::from([(format!("user/1003@{ACME}"), answers(ms))]);
        s
    };
    let (a, b, c) = tokio::join!(call_on(&sw, &p, talking(600)), call_on(&sw, &p, talking(600)), async {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        call_on(&sw, &p, talking(100)).await
    });
    assert_eq!((a.0.bridges.len(), b.0.bridges.len()), (1, 1));
    let (refused, cdr) = c;
    assert!(refused.bridges.is_empty(), "nothing rang: {:?}", apps(&refused));
    assert_eq!(refused.hangup_cause.as_deref(), Some("USER_BUSY"));
    assert!(apps(&refused).contains(&"playback ivr/unroutable.wav".to_string()), "{:?}", apps(&refused));
    assert_eq!(cdr["route"], "over the concurrent call cap");
    let (r, _) = call_on(&sw, &p, talking(50)).await;
    assert_eq!(r.bridges.len(), 1, "the slots came back when the calls ended");
}

/// At zero the call is refused before anything rings. With 150 seconds of credit one call
/// is held a window ahead, extended while it talks (the switch's sched_hangup re-armed each
/// time), warned when the money will not cover another window, and cut by the switch at
/// the end of what it could pay; it is charged once, and nothing stays held.
#[tokio::test]
async fn a_prepaid_call_is_cut_when_its_money_runs_out() {
    let (p, s) = prepaid_pbx().await;
    let (r, cdr) = call(&p, s.clone()).await;
    assert!(r.bridges.is_empty(), "refused at zero before anything rang: {:?}", apps(&r));
    assert_eq!(r.hangup_cause.as_deref(), Some("OUTGOING_CALL_BARRED"));
    assert_eq!((cdr["disposition"].as_str(), cdr["charge"].as_i64()), (Some("failed"), Some(0)));

    pay(&p, 150 * PER_SECOND);
    let (r, cdr) = call(&p, s).await;
    let api = api_lines(&r);
    assert_eq!(r.hangup_cause.as_deref(), Some("ALLOTTED_TIMEOUT"), "{api:?}");
    assert_eq!(r.hangup_by.as_deref(), Some("switch"), "the switch's own sched_hangup ended it");
    let arms: Vec<_> = api.iter().filter(|l| l.starts_with("api sched_hangup +") && l.ends_with(&format!("{} ALLOTTED_TIMEOUT", r.uuid))).collect();
    assert!(arms.len() >= 3, "armed before ringing, at the answer, after each extension: {api:?}");
    assert!(api.iter().any(|l| *l == format!("api sched_del {}", r.uuid)), "{api:?}");
    assert!(r.broadcasts.iter().any(|b| b.contains(switchboard::call::meter::WARNING)), "the warning played: {:?}", r.broadcasts);
    let billsec = cdr["billsec"].as_i64().unwrap();
    assert!((150..=152).contains(&billsec), "cut at the 150 seconds it could pay for: {billsec}");
    assert_eq!(cdr["charge"].as_i64(), Some(billsec * PER_SECOND));
    let credit = p.store.credit(p.acme).unwrap();
    assert_eq!((credit.held, credit.balance), (0, 150 * PER_SECOND - billsec * PER_SECOND));
    assert_eq!(p.store.ledger(Some(p.acme), Some("charge"), 1, 10).unwrap().total, 1, "one charge");
}

/// Fifty calls racing 2,000 seconds of credit: together they never hold more than the
/// balance, so the calls it cannot cover are refused before anything rings and the others
/// are cut by the switch at their maximum (the failsafe armed on each);
/// what was charged is the balance, to the switch's whole-second cut per call, once per call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepaid_calls_racing_one_balance_never_spend_more_than_it() {
    let (p, s) = prepaid_pbx_timed(80).await;
    set_tenant(&p, json!({ "max_concurrent_calls": 0 }));
    let trunk = find(&p.store, &res::TRUNKS, Within::Everything, "name", "DemoCarrier")["id"].as_i64().unwrap();
    p.store.update(&res::TRUNKS, Within::Everything, None, trunk, &obj(json!({ "max_channels": 0 }))).unwrap();
    let balance = 2_000 * PER_SECOND;
    pay(&p, balance);
    let sw = Switch::default();
    let done = futures_util::future::join_all((0..50).map(|_| call_on(&sw, &p, s.clone()))).await;
    let mut charged = 0;
    let mut cut = 0;
    for (r, cdr) in &done {
        match r.hangup_cause.as_deref() {
            Some("ALLOTTED_TIMEOUT") => {
                cut += 1;
                assert_eq!(r.hangup_by.as_deref(), Some("switch"), "the switch's own sched_hangup cut it");
                assert!(api_lines(r).iter().any(|c| c.starts_with("api sched_hangup +")), "the failsafe was armed: {:?}", api_lines(r));
            }
            Some("OUTGOING_CALL_BARRED") => assert!(r.bridges.is_empty()),
            other => panic!("{other:?}: {:?}", api_lines(r)),
        }
        charged += cdr["charge"].as_i64().unwrap();
    }
    assert!(cut >= 20, "{cut} calls connected");
    assert!(cut < 50, "the credit could not cover every call");
    assert!(charged <= balance + cut * PER_SECOND, "charged {charged} of {balance}");
    assert!(charged >= balance - PER_SECOND * switchboard::call::meter::LEAD, "the credit was used: {charged}");
    let credit = p.store.credit(p.acme).unwrap();
    assert_eq!((credit.held, credit.balance), (0, balance - charged));
    assert_eq!(p.store.ledger(Some(p.acme), Some("charge"), 1, 100).unwrap().total, cut, "one charge per connected call");
}

/// The free tier first: a call within the package's minutes costs no credit. Then the flag
/// policy: the call goes through at zero balance and is charged; the record is flagged for
/// review and the balance goes negative.
#[tokio::test]
async fn flag_policy_charges_and_flags_a_call_on_no_credit() {
    let p = pbx(OPEN).await;
    let plan = p
        .store
        .create(
            &res::RATE_PLANS,
            None,
            &ADMIN,
            &obj(json!({ "name": "Retail", "rates": [{ "direction": "outbound", "prefix": "", "per_minute": 60_000, "connection_charge": 5_000, "first_increment": 60, "next_increment": 60 }] })),
        )
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    set_tenant(&p, json!({ "credit_policy": "flag", "rate_plan_id": plan }));
    free_minutes(&p, 1);
    let t1 = find(&p.store, &res::TRUNKS, Within::Everything, "name", "DemoCarrier")["id"].as_i64().unwrap();
    let number = "+12125550199";
    let mut s = from_phone(ACME, "1001", number);
    s.targets = BTreeMap::from([(format!("sofia/gateway/trunk{t1}/{number}"), answers(1100))]);
    let (_, cdr) = call(&p, s.clone()).await;
    assert_eq!((cdr["charge"].as_i64(), cdr["free_seconds"].as_i64(), cdr["flagged"].as_i64()), (Some(0), Some(60), Some(0)), "{cdr}");
    let quota = p.store.quota(p.acme).unwrap();
    let voice = quota.usage.iter().find(|u| u.kind == "voice_minutes").unwrap();
    assert_eq!((voice.allocated, voice.used), (1, 1), "the free minute is used");
    let (r, cdr) = call(&p, s).await;
    assert_eq!(r.bridges.len(), 1);
    assert!(!api_lines(&r).iter().any(|l| l.contains("sched_hangup")), "no cut-off under the flag policy");
    // One second of talk: the first 60-second increment and the connection charge.
    assert_eq!((cdr["charge"].as_i64(), cdr["flagged"].as_i64()), (Some(65_000), Some(1)), "{cdr}");
    assert_eq!(p.store.credit(p.acme).unwrap().balance, -65_000);
    let f = switchboard::store::cdr::CdrFilter { flagged: true, page: 1, per_page: 10, ..Default::default() };
    let flagged = p.store.cdrs(Within::Tenant(p.acme), &f).unwrap();
    assert_eq!(flagged.total, 1, "only the call on no credit: {:?}", flagged.items);
    assert_eq!(flagged.items[0]["uuid"], r.uuid.as_str());
}

/// A trunk at its channel cap is skipped like a failed one; with every trunk of the route
/// full the caller hears why and gets congestion, before anything rings.
#[tokio::test]
async fn a_full_trunk_is_skipped_and_a_full_route_is_congestion() {
    let p = pbx(OPEN).await;
    let t1 = find(&p.store, &res::TRUNKS, Within::Everything, "name", "DemoCarrier")["id"].as_i64().unwrap();
    p.store.update(&res::TRUNKS, Within::Everything, None, t1, &obj(json!({ "max_channels": 1 }))).unwrap();
    let t2 =
        p.store.create(&res::TRUNKS, None, &ADMIN, &obj(json!({ "name": "Backup", "host": "sip.backup.test" }))).unwrap()["id"].as_i64().unwrap();
    let route = find(&p.store, &res::OUTBOUND_ROUTES, Within::Tenant(p.acme), "name", "North America")["id"].as_i64().unwrap();
    let set_trunks =
        |trunks: Value| p.store.update(&res::OUTBOUND_ROUTES, Within::Tenant(p.acme), None, route, &obj(json!({ "trunks": trunks }))).unwrap();
    set_trunks(json!([{ "trunk_id": t1 }, { "trunk_id": t2 }]));
    let number = "+12125550199";
    let mut s = from_phone(ACME, "1001", number);
    s.targets =
        BTreeMap::from([(format!("sofia/gateway/trunk{t1}/{number}"), answers(700)), (format!("sofia/gateway/trunk{t2}/{number}"), answers(100))]);
    let sw = Switch::default();
    let late = |s: Scenario| async move {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        s
    };
    let (first, (second, cdr)) = tokio::join!(call_on(&sw, &p, s.clone()), async { call_on(&sw, &p, late(s.clone()).await).await });
    // (DemoCarrier presents its own caller ID.)
    assert_eq!(
        first.0.bridges[0].dialstring,
        format!("[origination_caller_id_number=+12125550100,absolute_codec_string='PCMU,PCMA']sofia/gateway/trunk{t1}/{number}")
    );
    assert_eq!(second.bridges.len(), 1, "{:?}", apps(&second));
    assert_eq!(second.bridges[0].dialstring, format!("sofia/gateway/trunk{t2}/{number}"), "the full trunk was not dialed");
    assert_eq!(cdr["trunk_id"].as_i64(), Some(t2));

    set_trunks(json!([{ "trunk_id": t1 }]));
    let (_, (refused, _)) = tokio::join!(call_on(&sw, &p, s.clone()), async { call_on(&sw, &p, late(s.clone()).await).await });
    assert!(refused.bridges.is_empty(), "{:?}", apps(&refused));
    assert_eq!(refused.hangup_cause.as_deref(), Some("NORMAL_CIRCUIT_CONGESTION"));
    assert!(apps(&refused).contains(&"playback ivr/ivr-not_available.wav".to_string()), "{:?}", apps(&refused));
}

/// Acme on the flag policy at 1.00 a minute (whole minutes) to every number.
fn per_minute_plan(p: &Pbx) {
    let rates = json!([{ "direction": "outbound", "prefix": "", "per_minute": 1_000_000, "first_increment": 60, "next_increment": 60 }]);
    let plan = p.store.create(&res::RATE_PLANS, None, &ADMIN, &obj(json!({ "name": "Minutes", "rates": rates }))).unwrap()["id"].as_i64().unwrap();
    set_tenant(p, json!({ "credit_policy": "flag", "rate_plan_id": plan, "low_credit_threshold": 5_000_000 }));
    free_minutes(p, 0);
}

fn outbound_call(p: &Pbx, number: &str) -> Scenario {
    let t1 = find(&p.store, &res::TRUNKS, Within::Everything, "name", "DemoCarrier")["id"].as_i64().unwrap();
    let mut s = from_phone(ACME, "1001", number);
    s.targets = BTreeMap::from([(format!("sofia/gateway/trunk{t1}/{number}"), answers(1100))]);
    s
}

/// Calls that take the balance below the threshold queue one mail per crossing; it reaches
/// a local SMTP sink once (a relay that is down delays it, loses nothing); staying below
/// sends nothing more, and a payment re-arms the alert for the next crossing.
#[tokio::test]
async fn the_low_credit_mail_goes_out_once_per_crossing() {
    let p = pbx(OPEN).await;
    per_minute_plan(&p);
    pay(&p, 6_000_000);
    let s = outbound_call(&p, "+12125550199");
    let sink = common::smtp::Sink::start().await;
    let smtp =
        switchboard::config::Smtp { relay: "127.0.0.1".into(), port: sink.addr.port(), from: "billing@pbx.example".into(), ..Default::default() };
    let now = jiff::Timestamp::now;
    // 6.00 → 5.00: not below 5.00.
    call(&p, s.clone()).await;
    assert!(!p.store.credit(p.acme).unwrap().low_credit);
    assert_eq!(switchboard::alerts::once(&p.store, &smtp, now()).await, Ok(0));
    // 5.00 → 4.00: crossed. The relay is down first: the mail waits for its retry.
    call(&p, s.clone()).await;
    assert!(p.store.credit(p.acme).unwrap().low_credit, "the flag the UI shows");
    let down = switchboard::config::Smtp { port: 9, ..smtp.clone() };
    assert_eq!(switchboard::alerts::once(&p.store, &down, now()).await, Ok(0));
    assert!(p.store.due_alerts(&now().to_string(), 10).unwrap().is_empty(), "the retry is later");
    let later = now() + jiff::SignedDuration::from_mins(2);
    assert_eq!(switchboard::alerts::once(&p.store, &smtp, later).await, Ok(1));
    assert_eq!(switchboard::alerts::once(&p.store, &smtp, later).await, Ok(0), "sent once");
    // 4.00 → 3.00: still below, no second mail.
    call(&p, s.clone()).await;
    assert_eq!(switchboard::alerts::once(&p.store, &smtp, later).await, Ok(0));
    let mails = sink.mails();
    assert_eq!(mails.len(), 1, "{mails:?}");
    let acme = p.store.get(&res::TENANTS, Within::Everything, None, p.acme.0).unwrap();
    assert!(mails[0].to[0].contains(acme["email"].as_str().unwrap()), "{:?}", mails[0].to);
    assert!(mails[0].from.contains("billing@pbx.example"));
    assert!(mails[0].data.contains("Subject: Low credit: "), "{}", mails[0].data);
    assert!(mails[0].data.contains("4.00") && mails[0].data.contains("5.00"), "{}", mails[0].data);
    // A payment lifts it above (flag cleared); the next crossing mails again.
    pay(&p, 2_500_000);
    assert!(!p.store.credit(p.acme).unwrap().low_credit, "5.50");
    call(&p, s).await;
    assert_eq!(switchboard::alerts::once(&p.store, &smtp, now()).await, Ok(1));
    assert_eq!(sink.mails().len(), 2);
}

/// A daily limit of two: the third call out that day is refused before anything rings (the
/// refused call is not counted); calls between phones are not transactions.
#[tokio::test]
async fn the_daily_transaction_limit_refuses_the_call_over_it() {
    let p = pbx(OPEN).await;
    set_tenant(&p, json!({ "daily_limit": 2, "monthly_limit": 100 }));
    let s = outbound_call(&p, "+12125550199");
    for _ in 0..2 {
        let (r, _) = call(&p, s.clone()).await;
        assert_eq!(r.bridges.len(), 1);
    }
    let (r, cdr) = call(&p, s.clone()).await;
    assert!(r.bridges.is_empty(), "nothing rang: {:?}", apps(&r));
    assert_eq!(r.hangup_cause.as_deref(), Some("OUTGOING_CALL_BARRED"));
    assert!(cdr["route"].as_str().unwrap().ends_with("refused: daily transaction limit"), "{cdr}");
    let mut internal = from_phone(ACME, "1001", "1003");
    internal.targets = BTreeMap::from([(format!("user/1003@{ACME}"), answers(50))]);
    assert_eq!(call(&p, internal).await.0.bridges.len(), 1, "internal calls are not limited");
    let at: jiff::Timestamp = OPEN.parse().unwrap();
    assert_eq!(p.store.transactions(p.acme, "America/New_York", at).unwrap(), (2, 2));
    set_tenant(&p, json!({ "daily_limit": -1 }));
    assert_eq!(call(&p, s).await.0.bridges.len(), 1, "-1 is unlimited");
}

/// An outbound route naming its own plan rates its calls with it, not the tenant's.
#[tokio::test]
async fn a_route_s_own_rate_plan_wins_over_the_tenant_s() {
    let p = pbx(OPEN).await;
    per_minute_plan(&p);
    let rates = json!([{ "direction": "outbound", "prefix": "1212", "per_minute": 3_000_000, "first_increment": 60, "next_increment": 60 }]);
    let premium = p.store.create(&res::RATE_PLANS, None, &ADMIN, &obj(json!({ "name": "Premium", "rates": rates }))).unwrap()["id"].as_i64().unwrap();
    let s = outbound_call(&p, "+12125550199");
    let (_, cdr) = call(&p, s.clone()).await;
    assert_eq!(cdr["charge"].as_i64(), Some(1_000_000), "the tenant's plan: {cdr}");
    let routes = p.store.outbound_routes(p.acme).unwrap();
    for r in &routes {
        p.store.update(&res::OUTBOUND_ROUTES, Within::Everything, None, r.id, &obj(json!({ "rate_plan_id": premium }))).unwrap();
    }
    let (_, cdr) = call(&p, s).await;
    assert_eq!(cdr["charge"].as_i64(), Some(3_000_000), "the route's plan: {cdr}");
}

/// 1,000 calls with random talk times and callers who hang up at random moments (many in
/// the middle of a command: while the announcement plays, while the trunk rings, before the
/// first reply), prepaid calls out and post-paid calls between phones, the free tier, the
/// cap, and a payment while calls are up: every call has one record and at most one charge,
/// the ledger and the records agree, nothing stays held, and the balance is exactly the
/// opening balance plus the payments minus the charges.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_calls_of_churn_leave_the_books_exact() {
    use futures_util::StreamExt;
    const CALLS: usize = 1_000;
    const SECOND: u64 = 5;
    if std::env::var("CHURN_DEBUG").is_ok() {
        let _ = tracing_subscriber::fmt().with_env_filter("warn").with_test_writer().try_init();
    }
    let p = pbx_timed(OPEN, std::time::Duration::from_millis(SECOND)).await;
    let rates = json!([
        { "direction": "outbound", "prefix": "1", "per_minute": 6_000, "connection_charge": 700, "first_increment": 6, "next_increment": 1 },
        { "direction": "internal", "prefix": "", "per_minute": 3_000, "first_increment": 60, "next_increment": 60 }
    ]);
    let plan = p.store.create(&res::RATE_PLANS, None, &ADMIN, &obj(json!({ "name": "Churn", "rates": rates }))).unwrap()["id"].as_i64().unwrap();
    set_tenant(&p, json!({ "credit_policy": "prepaid", "rate_plan_id": plan, "max_concurrent_calls": 29 }));
    free_minutes(&p, 5);
    let opening = 1_000_000;
    pay(&p, opening);
    let trunk = find(&p.store, &res::TRUNKS, Within::Everything, "name", "DemoCarrier")["id"].as_i64().unwrap();
    let seed = std::env::var("CHURN_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0xC4A2_2026u64);
    let mut rng = fastrand::Rng::with_seed(seed);
    let scenarios: Vec<Scenario> = (0..CALLS)
        .map(|i| {
            let outbound = rng.u8(0..10) < 7;
            let number = if outbound { format!("+1212555{:04}", rng.u16(0..10_000)) } else { "1003".to_string() };
            let mut s = from_phone(ACME, "1001", &number);
            s.second_ms = SECOND;
            s.playback_ms = rng.u64(0..15);
            // A third hang up within the first commands; the rest talk a while.
            s.hangup_after_ms = Some(if i % 3 == 0 { rng.u64(0..40) } else { rng.u64(40..900) });
            let leg = if outbound { format!("sofia/gateway/trunk{trunk}/{number}") } else { format!("user/1003@{ACME}") };
            let talk = if rng.bool() { None } else { Some(rng.u64(0..600)) };
            s.targets = BTreeMap::from([(leg, Target::Answer { after_ms: rng.u64(0..60), talk_ms: talk })]);
            s
        })
        .collect();
    let sw = Switch::default();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let paid = 1_500_000;
    let payment = async {
        while done.load(std::sync::atomic::Ordering::Relaxed) < CALLS / 2 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        pay(&p, paid);
    };
    let calls = futures_util::stream::iter(scenarios)
        .map(|s| {
            let (sw, p, done) = (&sw, &p, &done);
            async move {
                let r = sw.call(p.srv.addr, std::sync::Arc::new(s)).await;
                done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if std::env::var("CHURN_DEBUG").is_ok() {
                    eprintln!("CALL {} {:?} {:?} {:?}", r.uuid, r.ended, r.hangup_cause, r.commands);
                }
                r.uuid
            }
        })
        .buffer_unordered(30)
        .collect::<Vec<String>>();
    let (uuids, ()) = tokio::join!(calls, payment);
    assert_eq!(uuids.len(), CALLS);
    // Every record written (the last ones land just after their hangups).
    let mut cdrs = Vec::new();
    for _ in 0..250 {
        cdrs = uuids.iter().filter_map(|u| p.store.cdr(u).unwrap()).collect::<Vec<_>>();
        if cdrs.len() == CALLS {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    if cdrs.len() != CALLS && std::env::var("CHURN_DEBUG").is_ok() {
        for u in uuids.iter().filter(|u| p.store.cdr(u).unwrap().is_none()) {
            eprintln!("MISSING {u}");
        }
    }
    assert_eq!(cdrs.len(), CALLS, "one record per call (seed {seed})");
    let charged: i64 = cdrs.iter().map(|c| c["charge"].as_i64().unwrap()).sum();
    let free: i64 = cdrs.iter().map(|c| c["free_seconds"].as_i64().unwrap()).sum();
    let ledger = p.store.ledger(Some(p.acme), Some("charge"), 1, 2_000).unwrap();
    let ledger_charged: i64 = ledger.items.iter().map(|e| -e["amount"].as_i64().unwrap()).sum();
    let with_charge = cdrs.iter().filter(|c| c["charge"].as_i64().unwrap() > 0).count();
    assert_eq!(ledger.total as usize, with_charge, "one ledger charge per charged call (seed {seed})");
    assert_eq!(ledger_charged, charged, "the ledger and the records agree (seed {seed})");
    let credit = p.store.credit(p.acme).unwrap();
    assert_eq!(credit.held, 0, "nothing stays held");
    assert!(p.store.reservations().unwrap().is_empty());
    assert_eq!(credit.balance, opening + paid - charged, "exact to the micro-unit (seed {seed})");
    // Prepaid: a call may overrun what it held by the switch's whole-second cut, one
    // increment at most (1 s out, a minute between phones); without metering the internal
    // calls alone would take the balance millions below zero.
    let slack: i64 = cdrs.iter().filter(|c| c["charge"].as_i64().unwrap() > 0).map(|c| if c["direction"] == "outbound" { 100 } else { 3_000 }).sum();
    assert!(credit.balance >= -slack, "prepaid stops at zero, to one increment a call: {} (slack {slack})", credit.balance);
    let quota = p.store.quota(p.acme).unwrap();
    let voice = quota.usage.iter().find(|u| u.kind == "voice_minutes").unwrap();
    assert_eq!(voice.used, (free + 59) / 60, "free seconds counted once (seed {seed})");
    // The churn did what it claims: answered, refused and early-abandoned calls all happened.
    let count = |f: &dyn Fn(&serde_json::Value) -> bool| cdrs.iter().filter(|c| f(c)).count();
    eprintln!(
        "churn (seed {seed}): {} answered, {} charged, {} refused for credit, {} over the cap, {} never talked; charged {charged} of {}; balance {}",
        count(&|c| c["disposition"] == "answered"),
        count(&|c| c["charge"].as_i64().unwrap() > 0),
        count(&|c| c["hangup_cause"] == "OUTGOING_CALL_BARRED"),
        count(&|c| c["hangup_cause"] == "USER_BUSY"),
        count(&|c| c["billsec"] == 0),
        opening + paid,
        credit.balance
    );
    assert!(count(&|c| c["disposition"] == "answered") > 200, "answered calls");
    assert!(count(&|c| c["charge"].as_i64().unwrap() > 0) > 100, "charged calls");
    assert!(count(&|c| c["billsec"] == 0) > 100, "calls that never talked");
    assert!(count(&|c| c["hangup_cause"] == "OUTGOING_CALL_BARRED") > 10, "the credit ran out and calls were refused");
    assert!(count(&|c| c["hangup_cause"] == "USER_BUSY") > 10, "the cap refused calls");
}
