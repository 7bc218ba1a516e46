//! Live routing through the simulator over real sockets, on the demo installation
//! (Acme: DID +12125550100 → business hours → IVR 5000 → 1: ring group 6000 → voicemail).

mod common;

use std::collections::BTreeMap;

use common::pbx::*;
use serde_json::{json, Value};
use switchboard::sim::scenario::{Party, Press};
use switchboard::sim::{Scenario, Switch, Target};
use switchboard::store::resource::{ListQuery, Within};
use switchboard::store::{resources as res, Store, TenantId};

#[tokio::test]
async fn extension_to_extension() {
    let p = pbx(OPEN).await;
    let mut s = from_phone(ACME, "1001", "1003");
    s.targets = BTreeMap::from([(format!("user/1003@{ACME}"), answers(100))]);
    let (r, cdr) = call(&p, s).await;
    assert_eq!(r.bridges.len(), 1, "{:?}", apps(&r));
    assert_eq!(r.bridges[0].dialstring, format!("user/1003@{ACME}"));
    assert_eq!(r.bridges[0].answered_by.as_deref(), Some(format!("user/1003@{ACME}").as_str()));
    assert_eq!(r.bridges[0].caller_id_name.as_deref(), Some("Ext 1001"));
    assert_eq!((cdr["direction"].as_str(), cdr["disposition"].as_str()), (Some("internal"), Some("answered")), "{cdr}");
    assert_eq!(cdr["tenant_id"], p.acme.0);
}

#[tokio::test]
async fn did_to_ivr_to_ring_group_to_voicemail() {
    let p = pbx(OPEN).await;
    let mut s = from_trunk("12125550100", "+15557654321");
    s.dtmf = vec![switchboard::sim::scenario::Dtmf { digits: "1".into(), after_ms: 30 }];
    // Nobody in the ring group answers.
    s.default_target = Target::Fail { cause: "NO_ANSWER".into(), after_ms: 30 };
    let (r, cdr) = call(&p, s).await;
    let a = apps(&r);
    assert!(a.iter().any(|x| x.starts_with("play_and_get_digits")), "{a:?}");
    assert_eq!(r.bridges.len(), 1, "{a:?}");
    assert_eq!(r.bridges[0].dialstring, format!("user/1001@{ACME},user/1002@{ACME}"), "simultaneous: every member at once");
    assert_eq!(a.last().unwrap(), &format!("voicemail default {ACME} 1001"), "no answer → the group's voicemail");
    assert_eq!(cdr["did"], "+12125550100");
    assert_eq!(cdr["disposition"], "voicemail");
    assert!(cdr["route"].as_str().unwrap().starts_with("time_conditions/"), "{cdr}");
}

/// An IVR as the guide describes it, through the socket: a wrong key is answered with the
/// invalid-entry prompt and asked again, up to the menu's tries, then the invalid
/// destination; silence goes to the timeout destination; the last try decides which;
/// `*` is a key like any other; a key can open a second menu; with direct dialing on, an
/// extension's number rings it.
#[tokio::test]
async fn ivr_retries_then_its_invalid_or_timeout_destination_and_nests() {
    use switchboard::sim::scenario::Dtmf;
    let p = pbx(OPEN).await;
    let id = |n: &str| ext(&p, n)["id"].clone();
    let vm = find(&p.store, &res::VOICEMAIL_BOXES, Within::Tenant(p.acme), "number", "1001")["id"].clone();
    let menu = |v: Value| p.store.create(&res::IVR_MENUS, Some(p.acme), &ADMIN, &obj(v)).unwrap()["id"].clone();
    let billing = menu(json!({ "name": "Billing", "greeting": "ivr/billing.wav", "timeout": 1, "inter_digit_timeout": 1, "max_failures": 1,
        "invalid_destination": { "type": "hangup" }, "timeout_destination": { "type": "hangup" },
        "options": [{ "digit": "2", "destination": { "type": "extension", "id": id("1004") } }] }));
    menu(json!({ "name": "Support", "number": "5100", "greeting": "ivr/support.wav", "timeout": 1, "inter_digit_timeout": 1, "max_failures": 2,
        "invalid_destination": { "type": "voicemail", "id": vm }, "timeout_destination": { "type": "extension", "id": id("1003") },
        "direct_dial": true,
        "options": [
            { "digit": "1", "destination": { "type": "ivr", "id": billing } },
            { "digit": "*", "destination": { "type": "extension", "id": id("1002") } } ] }));
    let keys = |entries: &[&str]| Scenario {
        dtmf: entries.iter().map(|d| Dtmf { digits: d.to_string(), after_ms: 20 }).collect(),
        ..from_phone(ACME, "1001", "5100")
    };
    let count = |r: &switchboard::sim::CallReport, prefix: &str| apps(r).iter().filter(|a| a.starts_with(prefix)).count();
    let invalid = "playback ivr/ivr-that_was_an_invalid_entry.wav";
    let rang = |r: &switchboard::sim::CallReport| r.bridges.iter().map(|b| b.dialstring.clone()).collect::<Vec<_>>();

    // Each menu waits out its timeouts: the calls run side by side.
    let (wrong, silent, wrong_then_silent, star, nested, direct) = tokio::join!(
        call(&p, keys(&["7", "8"])),
        call(&p, keys(&[])),
        call(&p, keys(&["7"])),
        call(&p, keys(&["*"])),
        call(&p, keys(&["1", "2"])),
        call(&p, keys(&["1003"])),
    );
    // Two wrong keys: the prompt twice, each followed by the invalid-entry announcement.
    let (r, cdr) = wrong;
    assert_eq!((count(&r, "play_and_get_digits"), count(&r, invalid)), (2, 2), "{:?}", apps(&r));
    assert!(apps(&r).iter().all(|a| !a.starts_with("play_and_get_digits") || a.contains("ivr/support.wav")), "{:?}", apps(&r));
    assert_eq!(apps(&r).last().unwrap(), &format!("voicemail default {ACME} 1001"));
    assert!(r.bridges.is_empty());
    assert_eq!(cdr["disposition"], "voicemail");
    // Silence: asked twice, no invalid-entry announcement, then the timeout destination.
    let (r, _) = silent;
    assert_eq!((count(&r, "play_and_get_digits"), count(&r, invalid)), (2, 0), "{:?}", apps(&r));
    assert_eq!(rang(&r), [format!("user/1003@{ACME}")]);
    // A wrong key, then silence: the last try decides.
    let (r, _) = wrong_then_silent;
    assert_eq!((count(&r, invalid), rang(&r)), (1, vec![format!("user/1003@{ACME}")]));
    // `*`, a second menu, and an extension dialed directly.
    let (r, _) = star;
    assert_eq!(rang(&r), [format!("user/1002@{ACME}")]);
    let (r, cdr) = nested;
    assert!(apps(&r).iter().any(|a| a.starts_with("play_and_get_digits") && a.contains("ivr/billing.wav")), "{:?}", apps(&r));
    assert_eq!(rang(&r), [format!("user/1004@{ACME}")]);
    assert_eq!(cdr["route"].as_str().unwrap().matches("ivr_menus/").count(), 2, "{cdr}");
    let (r, _) = direct;
    assert_eq!((count(&r, invalid), rang(&r)), (0, vec![format!("user/1003@{ACME}")]));
}

/// Ring group strategies through the socket: simultaneous rings every member at once;
/// sequential one after the other, each for the group's time; round-robin starts each call
/// one member further on, remembering where it stopped across calls; random rings each
/// member once in an order that changes; a member on DND is left out.
#[tokio::test]
async fn ring_group_strategies_ring_in_their_own_order() {
    let p = pbx(OPEN).await;
    let members = json!(["1001", "1002", "1003"].map(|n| json!({ "extension_id": ext(&p, n)["id"] })));
    let group = p
        .store
        .create(
            &res::RING_GROUPS,
            Some(p.acme),
            &ADMIN,
            &obj(json!({ "name": "Support line", "number": "6100", "strategy": "sequential", "timeout": 7,
                         "no_answer_destination": { "type": "hangup" }, "members": members })),
        )
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let strategy = |s: &str| {
        p.store.update(&res::RING_GROUPS, Within::Tenant(p.acme), None, group, &obj(json!({ "strategy": s }))).unwrap();
    };
    // The endpoints of each call's one bridge, and how they were joined.
    let rung = |r: &switchboard::sim::CallReport| -> String {
        assert_eq!(r.bridges.len(), 1, "{:?}", apps(r));
        r.bridges[0].dialstring.replace(&format!("@{ACME}"), "").replace("user/", "")
    };
    let ring = || call(&p, from_phone(ACME, "1004", "6100"));

    assert_eq!(rung(&ring().await.0), "[leg_timeout=7]1001|[leg_timeout=7]1002|[leg_timeout=7]1003");
    strategy("simultaneous");
    assert_eq!(rung(&ring().await.0), "1001,1002,1003");
    // Answered by 1002: the record is 1002's, as a call to 1002 alone would be.
    let mut s = from_phone(ACME, "1004", "6100");
    s.targets = BTreeMap::from([(format!("user/1002@{ACME}"), answers(50))]);
    let (_, cdr) = call(&p, s).await;
    assert_eq!((cdr["disposition"].as_str(), cdr["extension"].as_str()), (Some("answered"), Some("1002")), "{cdr}");
    strategy("round_robin");
    let mut firsts = Vec::new();
    for _ in 0..4 {
        firsts.push(rung(&ring().await.0)[15..19].to_string());
    }
    assert_eq!(firsts, ["1001", "1002", "1003", "1001"]);
    p.store.update(&res::EXTENSIONS, Within::Tenant(p.acme), None, ext(&p, "1002")["id"].as_i64().unwrap(), &obj(json!({ "dnd": true }))).unwrap();
    let r = rung(&ring().await.0);
    assert!(!r.contains("1002") && r.matches("leg_timeout").count() == 2, "DND is left out: {r}");
    strategy("random");
    let mut orders = std::collections::BTreeSet::new();
    for _ in 0..20 {
        let r = rung(&ring().await.0);
        let mut legs: Vec<&str> = r.split('|').collect();
        orders.insert(r.clone());
        legs.sort();
        assert_eq!(legs, ["[leg_timeout=7]1001", "[leg_timeout=7]1003"], "each member once");
    }
    assert_eq!(orders.len(), 2, "both orders of two members turn up in 20 calls (all alike: 1 in 500,000): {orders:?}");
}

#[tokio::test]
async fn closed_hours_go_to_voicemail_and_the_boundary_is_exact() {
    let p = pbx(CLOSED).await;
    let (r, _) = call(&p, from_trunk("+12125550100", "+15557654321")).await;
    assert_eq!(apps(&r).last().unwrap(), &format!("voicemail default {ACME} 1001"));
    assert!(r.bridges.is_empty());
    assert_eq!(r.hangup_by.as_deref(), Some("caller"));
    // mod_voicemail does not answer (the switch only pre-answers for it): the caller is
    // answered first, or would leave the message in early media, never billed.
    assert!(r.answered, "the voicemail call is answered: {:?}", r.commands);
    let var = |r: &switchboard::sim::CallReport, k: &str| r.variables.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    assert_eq!(var(&r, "voicemail_greeting_path"), None, "no greeting of its own: the box's recorded one");
    // The box's own greeting (the guide: blank for the default, or a WAV file).
    let vm = find(&p.store, &res::VOICEMAIL_BOXES, Within::Tenant(p.acme), "number", "1001")["id"].as_i64().unwrap();
    p.store.update(&res::VOICEMAIL_BOXES, Within::Tenant(p.acme), None, vm, &obj(json!({ "greeting": "greetings/after-hours.wav" }))).unwrap();
    let (r, _) = call(&p, from_trunk("+12125550100", "+15557654321")).await;
    assert_eq!(var(&r, "voicemail_greeting_path").as_deref(), Some("${sound_prefix}/greetings/after-hours.wav"));
    assert_eq!(apps(&r).last().unwrap(), &format!("voicemail default {ACME} 1001"));
    // A greeting edited by hand past the API's checks never reaches the argument; the
    // caller still reaches the box.
    p.store.write(|tx| Ok(tx.execute("UPDATE voicemail_boxes SET greeting = 'x.wav|hangup_after_bridge=false' WHERE id = ?1", [vm])?)).unwrap();
    let (r, _) = call(&p, from_trunk("+12125550100", "+15557654321")).await;
    assert_eq!(var(&r, "voicemail_greeting_path"), None);
    assert!(apps(&r).iter().all(|a| !a.contains("x.wav")), "{:?}", apps(&r));
    assert_eq!(apps(&r).last().unwrap(), &format!("voicemail default {ACME} 1001"));
    // A caller who ends the message with a key hears mod_voicemail's goodbye and is hung up
    // then, not left in silence until the socket closes.
    let (r, cdr) = call(&p, Scenario { voicemail_key_ends: true, ..from_trunk("+12125550100", "+15557654321") }).await;
    assert_eq!((r.hangup_by.as_deref(), r.hangup_cause.as_deref()), (Some("switchboard"), Some("NORMAL_CLEARING")));
    assert_eq!(cdr["disposition"], "voicemail");
    // 08:59 closed, 09:00 open in New York, on both sides of a daylight-saving change: in
    // winter (EST, UTC-5) 09:00 is 14:00 UTC; on Monday 2026-03-09, the day after clocks went
    // forward (EDT, UTC-4), it is 13:00 UTC — an hour that a fixed offset would call 08:00.
    for (at, open) in [
        ("2026-11-18T13:59:00Z", false),
        ("2026-11-18T14:00:00Z", true),
        ("2026-03-06T13:59:00Z", false),
        ("2026-03-06T14:00:00Z", true),
        ("2026-03-09T12:59:00Z", false),
        ("2026-03-09T13:00:00Z", true),
    ] {
        let p = pbx(at).await;
        // The caller hangs up while the menu waits for a digit.
        let s = Scenario { hangup_after_ms: Some(300), ..from_trunk("+12125550100", "+15557654321") };
        let (r, _) = call(&p, s).await;
        let ivr = apps(&r).iter().any(|a| a.starts_with("play_and_get_digits"));
        assert_eq!(ivr, open, "{at}");
    }
}

#[tokio::test]
async fn unknown_did_is_announced_and_refused() {
    let p = pbx(OPEN).await;
    let (r, cdr) = call(&p, from_trunk("+19995550000", "+15557654321")).await;
    assert_eq!(r.hangup_cause.as_deref(), Some("UNALLOCATED_NUMBER"));
    assert!(apps(&r).contains(&"playback ivr/unroutable.wav".to_string()), "{:?}", apps(&r));
    assert!(r.bridges.is_empty());
    assert_eq!((cdr["disposition"].as_str(), cdr["route"].as_str()), (Some("failed"), Some("unknown DID")));
}

/// A DID routed straight to a phone: the phone is read with the tenant, and that copy is
/// the call's own — the next call sees a change; a route naming a phone that is gone (a
/// restored backup, a row removed by hand) ends the call at once with a proper cause, and
/// the record has it.
#[tokio::test]
async fn a_did_routed_to_a_phone_reads_it_fresh_for_every_call() {
    let p = pbx(OPEN).await;
    let e1003 = find(&p.store, &res::EXTENSIONS, Within::Tenant(p.acme), "number", "1003")["id"].as_i64().unwrap();
    let did = find(&p.store, &res::DIDS, Within::Everything, "number", "+12125550100")["id"].as_i64().unwrap();
    let q = ListQuery { page: 1, per_page: 500, filters: vec![("did_id".into(), did.to_string())], ..Default::default() };
    let route = p.store.list(&res::INBOUND_ROUTES, Within::Tenant(p.acme), None, &q).unwrap().items[0]["id"].as_i64().unwrap();
    p.store
        .update(&res::INBOUND_ROUTES, Within::Tenant(p.acme), None, route, &obj(json!({ "destination": { "type": "extension", "id": e1003 } })))
        .unwrap();
    let s = Scenario { default_target: answers(20), ..from_trunk("+12125550100", "+15557654321") };
    let (r, _) = call(&p, s.clone()).await;
    assert_eq!(r.bridges.iter().map(|b| b.dialstring.as_str()).collect::<Vec<_>>(), vec![format!("user/1003@{ACME}")], "{:?}", apps(&r));
    p.store.update(&res::EXTENSIONS, Within::Tenant(p.acme), None, e1003, &obj(json!({ "dnd": true }))).unwrap();
    let (r, _) = call(&p, s.clone()).await;
    assert!(r.bridges.is_empty(), "DND saved between two calls: nothing rings: {:?}", apps(&r));
    p.store
        .conn()
        .unwrap()
        .execute("UPDATE inbound_routes SET destination = '{\"type\":\"extension\",\"id\":987654}' WHERE id = ?1", [route])
        .unwrap();
    let (r, cdr) = call(&p, s.clone()).await;
    assert!(r.bridges.is_empty(), "{:?}", apps(&r));
    assert_eq!(r.hangup_cause.as_deref(), Some("SERVICE_UNAVAILABLE"), "{:?}", apps(&r));
    assert_eq!(
        (cdr["hangup_cause"].as_str(), cdr["disposition"].as_str()),
        (Some("SERVICE_UNAVAILABLE"), Some("failed")),
        "the record has the cause: {cdr}"
    );
}

#[tokio::test]
async fn dnd_and_busy_forwarding_and_the_next_call_sees_a_change() {
    let p = pbx(OPEN).await;
    let e1003 = find(&p.store, &res::EXTENSIONS, Within::Tenant(p.acme), "number", "1003")["id"].as_i64().unwrap();
    let mut s = from_phone(ACME, "1001", "1003");
    s.targets = BTreeMap::from([(format!("user/1003@{ACME}"), Target::Busy { after_ms: 20 })]);
    let (r, _) = call(&p, s.clone()).await;
    assert_eq!(apps(&r).last().unwrap(), &format!("voicemail default {ACME} 1003"), "busy → voicemail");
    // Saved in the store, applied to the very next call: DND skips ringing.
    p.store.update(&res::EXTENSIONS, Within::Tenant(p.acme), None, e1003, &obj(json!({ "dnd": true }))).unwrap();
    let (r, _) = call(&p, s.clone()).await;
    assert!(r.bridges.is_empty(), "DND: nothing rings");
    assert_eq!(apps(&r).last().unwrap(), &format!("voicemail default {ACME} 1003"));
    // Forward on busy to another extension.
    p.store
        .update(
            &res::EXTENSIONS,
            Within::Tenant(p.acme),
            None,
            e1003,
            &obj(json!({ "dnd": false, "forward_busy": "1004", "voicemail_enabled": false })),
        )
        .unwrap();
    let (r, _) = call(&p, s).await;
    let dials: Vec<&str> = r.bridges.iter().map(|b| b.dialstring.as_str()).collect();
    assert_eq!(dials, vec![format!("user/1003@{ACME}"), format!("user/1004@{ACME}")]);
}

/// An extension nobody answers: its voicemail, or its no-answer forward when it has one
/// (an outside number goes out through the tenant's trunk); an extension that asks for
/// recording is recorded, and the record names the file.
#[tokio::test]
async fn no_answer_forwarding_voicemail_and_recording_on_request() {
    let p = pbx(OPEN).await;
    let e1003 = ext(&p, "1003")["id"].as_i64().unwrap();
    let change = |v: Value| p.store.update(&res::EXTENSIONS, Within::Tenant(p.acme), None, e1003, &obj(v)).unwrap();
    let trunk = find(&p.store, &res::TRUNKS, Within::Everything, "name", "DemoCarrier")["id"].as_i64().unwrap();
    let mut s = from_phone(ACME, "1001", "1003");
    s.targets = BTreeMap::from([(format!("user/1003@{ACME}"), Target::Fail { cause: "NO_ANSWER".into(), after_ms: 20 })]);
    let dials = |r: &switchboard::sim::CallReport| r.bridges.iter().map(|b| b.dialstring.clone()).collect::<Vec<_>>();

    let (r, cdr) = call(&p, s.clone()).await;
    assert_eq!(apps(&r).last().unwrap(), &format!("voicemail default {ACME} 1003"), "no answer → voicemail");
    assert_eq!((cdr["disposition"].as_str(), cdr["recording_path"].as_str()), (Some("voicemail"), Some("")));
    assert!(r.recordings.is_empty());

    change(json!({ "forward_no_answer": "+12125550199" }));
    s.targets.insert(format!("sofia/gateway/trunk{trunk}/+12125550199"), answers(50));
    let (r, cdr) = call(&p, s.clone()).await;
    let out = format!("[origination_caller_id_number=+12125550100,absolute_codec_string='PCMU,PCMA']sofia/gateway/trunk{trunk}/+12125550199");
    assert_eq!(dials(&r), [format!("user/1003@{ACME}"), out], "the carrier sees DemoCarrier's caller ID, not extension 1001");
    assert_eq!((cdr["disposition"].as_str(), cdr["trunk_id"].as_i64()), (Some("answered"), Some(trunk)));

    change(json!({ "forward_no_answer": "", "record_calls": true }));
    s.targets.insert(format!("user/1003@{ACME}"), answers(50));
    let (r, cdr) = call(&p, s).await;
    let file = format!("{}/{ACME}/{}.wav", switchboard::sim::RECORDINGS_DIR, r.uuid);
    assert_eq!(r.recordings, [file.clone()]);
    assert!(apps(&r).iter().position(|a| a.starts_with("record_session")) < apps(&r).iter().position(|a| a.starts_with("bridge")));
    assert_eq!((cdr["disposition"].as_str(), cdr["recording_path"].as_str()), (Some("answered"), Some(file.as_str())));
}

/// Outbound routes by priority, each rewriting the number (strip, then prepend); the
/// caller ID the carrier sees is the route's, else the trunk's (the guide: "Outbound caller
/// ID presented to PSTN"), else the phone's own.
#[tokio::test]
async fn outbound_routes_by_priority_rewrite_the_number_and_choose_the_caller_id() {
    let p = pbx(OPEN).await;
    let demo = find(&p.store, &res::TRUNKS, Within::Everything, "name", "DemoCarrier")["id"].as_i64().unwrap();
    let plain =
        p.store.create(&res::TRUNKS, None, &ADMIN, &obj(json!({ "name": "Plain", "host": "sip.plain.test" }))).unwrap()["id"].as_i64().unwrap();
    let route = |v: Value| p.store.create(&res::OUTBOUND_ROUTES, Some(p.acme), &ADMIN, &obj(v)).unwrap();
    route(json!({ "name": "Anywhere", "pattern": "+X.", "priority": 50, "caller_id": "+12125550111", "trunks": [{ "trunk_id": demo }] }));
    route(json!({ "name": "UK", "pattern": "+44X.", "priority": 5, "strip_digits": 3, "prepend": "0",
                  "caller_id": "+442079460000", "trunks": [{ "trunk_id": demo }] }));
    route(json!({ "name": "Germany", "pattern": "+49X.", "priority": 6, "trunks": [{ "trunk_id": plain }] }));
    let out = |number: &str| {
        let mut s = from_phone(ACME, "1001", number);
        s.default_target = answers(30);
        call(&p, s)
    };
    let dialed = |r: &switchboard::sim::CallReport| (r.bridges[0].dialstring.clone(), r.bridges[0].caller_id_number.clone().unwrap_or_default());

    let (r, cdr) = out("+442079460199").await;
    assert_eq!(r.bridges.len(), 1);
    let by_route = format!("[origination_caller_id_number=+442079460000,absolute_codec_string='PCMU,PCMA']sofia/gateway/trunk{demo}/02079460199");
    assert_eq!(dialed(&r), (by_route, "+442079460000".into()), "the route's caller ID before the trunk's");
    assert_eq!((cdr["callee"].as_str(), cdr["direction"].as_str()), (Some("+442079460199"), Some("outbound")));
    let (r, _) = out("+33142680000").await;
    assert_eq!(dialed(&r).1, "+12125550111");
    // The demo's North America route (priority 10, no caller ID) comes before Anywhere.
    let (r, _) = out("+12125550199").await;
    let by_trunk = format!("[origination_caller_id_number=+12125550100,absolute_codec_string='PCMU,PCMA']sofia/gateway/trunk{demo}/+12125550199");
    assert_eq!(dialed(&r), (by_trunk, "+12125550100".into()), "the trunk's own");
    let (r, _) = out("+4930123456").await;
    assert_eq!(dialed(&r), (format!("sofia/gateway/trunk{plain}/+4930123456"), "1001".into()), "neither: the phone's own");
    let t = switchboard::call::explain::explain(&p.store, Some(p.acme), "+12125550199", None, OPEN.parse().unwrap()).unwrap();
    assert!(t.steps.last().unwrap().decision.contains(&format!("trunk{demo} (caller ID +12125550100)")), "{:?}", t.steps);
}

#[tokio::test]
async fn outbound_fails_over_on_trunk_causes_only() {
    let p = pbx(OPEN).await;
    let t1 = find(&p.store, &res::TRUNKS, Within::Everything, "name", "DemoCarrier")["id"].as_i64().unwrap();
    let t2 =
        p.store.create(&res::TRUNKS, None, &ADMIN, &obj(json!({ "name": "Backup", "host": "sip.backup.test" }))).unwrap()["id"].as_i64().unwrap();
    let route = find(&p.store, &res::OUTBOUND_ROUTES, Within::Tenant(p.acme), "name", "North America")["id"].as_i64().unwrap();
    p.store
        .update(&res::OUTBOUND_ROUTES, Within::Tenant(p.acme), None, route, &obj(json!({ "trunks": [{ "trunk_id": t1 }, { "trunk_id": t2 }] })))
        .unwrap();
    let number = "+12125550199";
    let mut s = from_phone(ACME, "1001", number);
    s.targets = BTreeMap::from([
        (format!("sofia/gateway/trunk{t1}/{number}"), Target::Fail { cause: "GATEWAY_DOWN".into(), after_ms: 10 }),
        (format!("sofia/gateway/trunk{t2}/{number}"), answers(50)),
    ]);
    let (r, cdr) = call(&p, s.clone()).await;
    assert_eq!(r.bridges.len(), 2, "{:?}", apps(&r));
    assert_eq!(r.bridges[1].answered_by.as_deref(), Some(format!("sofia/gateway/trunk{t2}/{number}").as_str()));
    assert_eq!((cdr["direction"].as_str(), cdr["trunk_id"].as_i64()), (Some("outbound"), Some(t2)));
    // A busy callee is an answer, not a trunk failure: no second trunk.
    s.targets.insert(format!("sofia/gateway/trunk{t1}/{number}"), Target::Busy { after_ms: 10 });
    let (r, _) = call(&p, s.clone()).await;
    assert_eq!(r.bridges.len(), 1);
    assert_eq!(r.hangup_cause.as_deref(), Some("USER_BUSY"));
    // No route for the number: refused before anything rings.
    let (r, _) = call(&p, from_phone(ACME, "1001", "0044207946")).await;
    assert!(r.bridges.is_empty());
    assert_eq!(r.hangup_cause.as_deref(), Some("NO_ROUTE_DESTINATION"));
    // A trunk switched off is not a gateway FreeSWITCH has: it is not dialed at all.
    let switch_off = |t: i64| p.store.update(&res::TRUNKS, Within::Everything, None, t, &obj(json!({ "active": false }))).unwrap();
    switch_off(t1);
    let (r, cdr) = call(&p, s.clone()).await;
    assert_eq!(r.bridges.iter().map(|b| b.dialstring.as_str()).collect::<Vec<_>>(), [format!("sofia/gateway/trunk{t2}/{number}")]);
    assert_eq!(cdr["trunk_id"].as_i64(), Some(t2));
    switch_off(t2);
    let (r, cdr) = call(&p, s).await;
    assert!(r.bridges.is_empty());
    assert!(apps(&r).contains(&"playback ivr/ivr-not_available.wav".to_string()), "{:?}", apps(&r));
    assert_eq!((r.hangup_cause.as_deref(), cdr["disposition"].as_str()), (Some("NO_ROUTE_DESTINATION"), Some("failed")));
    let t = switchboard::call::explain::explain(&p.store, Some(p.acme), number, None, OPEN.parse().unwrap()).unwrap();
    assert!(t.steps.last().unwrap().decision.ends_with("no active trunk: NO_ROUTE_DESTINATION"), "{:?}", t.steps);
}

#[tokio::test]
async fn call_block_stops_the_call_before_anything_rings() {
    let p = pbx(OPEN).await;
    p.store
        .create(
            &res::CALL_BLOCKS,
            Some(p.acme),
            &ADMIN,
            &obj(json!({ "match": "pattern", "value": "+1555X.", "direction": "inbound", "action": "busy" })),
        )
        .unwrap();
    let (r, cdr) = call(&p, from_trunk("+12125550101", "+15557654321")).await;
    assert!(r.bridges.is_empty());
    assert_eq!(r.hangup_cause.as_deref(), Some("USER_BUSY"));
    assert_eq!(cdr["disposition"], "blocked");
    let (r, _) = call(&p, from_trunk("+12125550101", "+14445550000")).await;
    assert_eq!(r.bridges.len(), 1, "another caller gets through");
    // A "voicemail" entry sends the blocked caller of an extension to its mailbox.
    p.store.create(&res::CALL_BLOCKS, Some(p.acme), &ADMIN, &obj(json!({ "value": "1004", "direction": "inbound", "action": "voicemail" }))).unwrap();
    let (r, cdr) = call(&p, from_phone(ACME, "1004", "1003")).await;
    assert!(r.bridges.is_empty());
    assert_eq!(apps(&r).last().unwrap(), &format!("voicemail default {ACME} 1003"));
    assert_eq!(cdr["disposition"], "blocked");
}

/// A conference with a PIN, room for two and recording on, as mod_conference runs it: a
/// caller who gets the PIN wrong three times is turned away and hung up at once (not left
/// in silence); two who know it are in; a third is turned away from the full room; both
/// members' records name the room's one recording; the emptied room opens afresh.
#[tokio::test]
async fn conference_asks_for_its_pin_and_turns_away_a_caller_over_its_limit() {
    use switchboard::sim::scenario::Dtmf;
    let p = pbx(OPEN).await;
    let conference = |v: Value| p.store.create(&res::CONFERENCES, Some(p.acme), &ADMIN, &obj(v));
    conference(json!({ "name": "Standup", "number": "3000", "pin": "4321", "max_participants": 2, "record": true })).unwrap();
    // FreeSWITCH ignores a limit of one: it is refused rather than saved and not applied.
    let e = conference(json!({ "name": "Solo", "number": "3001", "max_participants": 1 })).unwrap_err();
    assert!(matches!(&e, switchboard::store::StoreError::Fields(f) if f[0].0 == "max_participants" && f[0].1.contains("0 (no limit)")), "{e:?}");
    let why = switchboard::call::explain::explain(&p.store, Some(p.acme), "3000", None, OPEN.parse().unwrap()).unwrap();
    assert_eq!(why.steps.last().unwrap().decision, "joins the room after the PIN while fewer than 2 are in it");
    let sw = Switch::default();
    let room = format!("3000-{ACME}");
    let keyed = |entries: &[&str], ext: &str| Scenario {
        dtmf: entries.iter().map(|d| Dtmf { digits: d.to_string(), after_ms: 10 }).collect(),
        second_ms: 10, // a switch second is 10 ms here: the 10 s PIN wait too
        ..from_phone(ACME, ext, "3000")
    };

    let (r, cdr) = call_on(&sw, &p, keyed(&["1111#", "2222#", "9999#"], "1001")).await;
    assert_eq!(apps(&r).iter().filter(|a| a.starts_with("conference ")).collect::<Vec<_>>(), [&format!("conference {room}@default+4321")]);
    let c = &r.conferences[0];
    assert_eq!((c.room.as_str(), c.pin_prompts, c.outcome.as_str()), (room.as_str(), 3, "bad pin"));
    assert_eq!((r.hangup_by.as_deref(), r.hangup_cause.as_deref()), (Some("switchboard"), Some("NORMAL_CLEARING")));
    assert_eq!(cdr["recording_path"], "", "never in the room");
    // A caller who hangs up while asked for the PIN: never in the room either.
    let (r, _) = call_on(&sw, &p, Scenario { hangup_after_ms: Some(40), ..keyed(&[], "1001") }).await;
    assert_eq!(r.conferences[0].outcome, "hung up");
    assert_eq!(r.hangup_by.as_deref(), Some("caller"));

    let member = |ext: &str, stay_ms: u64| Scenario { hangup_after_ms: Some(stay_ms), ..keyed(&["4321"], ext) };
    let first = call_on(&sw, &p, member("1002", 900));
    let second = async {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        call_on(&sw, &p, member("1003", 900)).await
    };
    let third = async {
        tokio::time::sleep(std::time::Duration::from_millis(450)).await;
        // (Its own hangup only ends the test should the limit fail.)
        // Told the room is full for 70 switch seconds: time that must not count as in a room.
        let files = BTreeMap::from([("conference/conf-locked.wav".to_string(), 700)]);
        call_on(&sw, &p, Scenario { hangup_after_ms: Some(1500), files, ..keyed(&["4321#"], "1004") }).await
    };
    let ((a, a_cdr), (b, b_cdr), (c, c_cdr)) = tokio::join!(first, second, third);
    let got = |r: &switchboard::sim::CallReport| (r.conferences[0].outcome.clone(), r.conferences[0].members);
    // (Which of the two got in first is the machine's business, not the test's.)
    let mut members = [got(&a), got(&b)];
    members.sort();
    assert_eq!((members, got(&c)), ([("joined".into(), 1), ("joined".into(), 2)], ("full".into(), 0)));
    let opener = if got(&a).1 == 1 { &a } else { &b };
    assert_eq!((c.hangup_by.as_deref(), c.hangup_cause.as_deref()), (Some("switchboard"), Some("NORMAL_CLEARING")));
    assert_eq!(a.hangup_by.as_deref(), Some("caller"), "a member stays until they hang up");
    // Every caller sets the limit and the recording; the room took those of its first.
    let var = |r: &switchboard::sim::CallReport, k: &str| r.variables.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    assert_eq!(var(&c, "conference_max_members").as_deref(), Some("2"));
    let file = format!("{}/{ACME}/conference-3000-{}.wav", switchboard::sim::RECORDINGS_DIR, opener.uuid);
    assert_eq!((a_cdr["recording_path"].as_str(), b_cdr["recording_path"].as_str()), (Some(file.as_str()), Some(file.as_str())));
    assert_eq!((a_cdr["disposition"].as_str(), c_cdr["recording_path"].as_str()), (Some("answered"), Some("")));

    let (again, again_cdr) = call_on(&sw, &p, Scenario { hangup_after_ms: Some(200), ..keyed(&["4321"], "1004") }).await;
    assert_eq!(got(&again), ("joined".into(), 1), "the emptied room was closed");

    // Time in a room counts toward the package's conference minutes; the callers turned
    // away were answered too, and their time does not.
    let secs = |c: &Value| c["billsec"].as_i64().unwrap();
    assert!(secs(&c_cdr) >= 60, "{c_cdr}");
    let in_rooms = secs(&a_cdr) + secs(&b_cdr) + secs(&again_cdr);
    let quota = p.store.quota(p.acme).unwrap();
    let used = quota.usage.iter().find(|u| u.kind == "conference_minutes").map(|u| u.used);
    assert_eq!(used, Some((in_rooms + 59) / 60), "{in_rooms} s in rooms: {:?}", quota.usage);
}

#[tokio::test]
async fn tenants_never_reach_each_other() {
    let p = pbx(OPEN).await;
    // Globex has no extension 1001 and no outbound route: the number is not Acme's 1001.
    let (r, _) = call(&p, from_phone("globex.switchboard.test", "2001", "1001")).await;
    assert!(r.bridges.iter().all(|b| !b.dialstring.contains(ACME)), "{:?}", r.bridges);
    assert_eq!(r.hangup_cause.as_deref(), Some("NO_ROUTE_DESTINATION"));
    // An unknown domain is refused.
    let (r, _) = call(&p, from_phone("evil.test", "1001", "1002")).await;
    assert_eq!(r.hangup_cause.as_deref(), Some("CALL_REJECTED"));
}

#[tokio::test]
async fn hostile_values_cannot_add_legs_or_variables() {
    let p = pbx(OPEN).await;
    let mut s = from_phone(ACME, "1001", "1003");
    s.caller_id_name = "${system(reboot)},user/9999|{x=y}[z]^^;'\r\n".into();
    s.targets = BTreeMap::from([(format!("user/1003@{ACME}"), answers(20))]);
    let (r, _) = call(&p, s).await;
    assert_eq!(r.bridges.len(), 1);
    let name = r.bridges[0].caller_id_name.clone().unwrap_or_default();
    assert!(!name.contains(['$', '{', '}', ',', '|', '[', ']', '^', ';', '\'']), "{name:?}");
    assert_eq!(r.bridges[0].legs.len(), 1, "one leg, whatever the name said");
    let ms = r.apps.iter().find(|a| a.app == "multiset").expect("multiset");
    assert_eq!(ms.arg.matches('|').count(), 7, "the separator and six between seven variables, no more: {}", ms.arg);
    for dialed in ["1003,user/9999", "1003|sofia/gateway/x/1", "${x}", "1003'"] {
        let (r, _) = call(&p, from_phone(ACME, "1001", dialed)).await;
        assert!(r.bridges.is_empty(), "{dialed}");
        assert_eq!(r.hangup_cause.as_deref(), Some("INVALID_NUMBER_FORMAT"), "{dialed}");
    }
}

#[tokio::test]
async fn a_destination_loop_ends_at_the_hop_limit() {
    let p = pbx(OPEN).await;
    // Two call flows pointing at each other.
    let a = p
        .store
        .create(
            &res::CALL_FLOWS,
            Some(p.acme),
            &ADMIN,
            &obj(json!({ "name": "a", "feature_code": "31", "day_destination": { "type": "hangup" }, "night_destination": { "type": "hangup" } })),
        )
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let b = p
        .store
        .create(&res::CALL_FLOWS, Some(p.acme), &ADMIN, &obj(json!({ "name": "b", "feature_code": "32", "day_destination": { "type": "call_flow", "id": a }, "night_destination": { "type": "hangup" } })))
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    p.store.update(&res::CALL_FLOWS, Within::Tenant(p.acme), None, a, &obj(json!({ "day_destination": { "type": "call_flow", "id": b } }))).unwrap();
    let did = find(&p.store, &res::DIDS, Within::Everything, "number", "+12125550101")["id"].as_i64().unwrap();
    let rid = p
        .store
        .list(&res::INBOUND_ROUTES, Within::Tenant(p.acme), None, &ListQuery { page: 1, per_page: 50, ..Default::default() })
        .unwrap()
        .items
        .into_iter()
        .find(|r| r["did_id"] == did)
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    p.store
        .update(&res::INBOUND_ROUTES, Within::Tenant(p.acme), None, rid, &obj(json!({ "destination": { "type": "call_flow", "id": a } })))
        .unwrap();
    let (r, cdr) = call(&p, from_trunk("+12125550101", "+15557654321")).await;
    assert_eq!(r.hangup_cause.as_deref(), Some("EXCHANGE_ROUTING_ERROR"));
    assert_eq!(cdr["route"].as_str().unwrap().matches("call_flows/").count(), switchboard::call::route::HOP_LIMIT);
}

fn ext(p: &Pbx, number: &str) -> Value {
    find(&p.store, &res::EXTENSIONS, Within::Tenant(p.acme), "number", number)
}

#[tokio::test]
async fn feature_codes_change_the_extension_at_once() {
    let p = pbx(OPEN).await;
    let (r, _) = call(&p, from_phone(ACME, "1003", "*78")).await;
    assert_eq!(r.hangup_cause.as_deref(), Some("NORMAL_CLEARING"));
    assert_eq!(ext(&p, "1003")["dnd"], true, "*78: DND on");
    // The very next call to 1003 does not ring it.
    let (r, _) = call(&p, from_phone(ACME, "1001", "1003")).await;
    assert!(r.bridges.is_empty());
    call(&p, from_phone(ACME, "1003", "*79")).await;
    assert_eq!(ext(&p, "1003")["dnd"], false, "*79: DND off");
    call(&p, from_phone(ACME, "1003", "*72+15551230000")).await;
    assert_eq!(ext(&p, "1003")["forward_always"], "+15551230000", "*72<number>");
    let mut s = from_phone(ACME, "1003", "*72");
    s.dtmf = vec![switchboard::sim::scenario::Dtmf { digits: "1004#".into(), after_ms: 20 }];
    call(&p, s).await;
    assert_eq!(ext(&p, "1003")["forward_always"], "1004", "*72 then the number");
    let mut s = from_phone(ACME, "1001", "1003");
    s.targets = BTreeMap::from([(format!("user/1004@{ACME}"), answers(20))]);
    let (r, _) = call(&p, s).await;
    assert_eq!(r.bridges[0].dialstring, format!("user/1004@{ACME}"), "forwarded, without ringing 1003");
    call(&p, from_phone(ACME, "1003", "*73")).await;
    assert_eq!(ext(&p, "1003")["forward_always"], "", "*73: forward off");
    let (r, _) = call(&p, Scenario { voicemail_key_ends: true, ..from_phone(ACME, "1003", "*98") }).await;
    assert!(apps(&r).contains(&format!("voicemail check default {ACME}")), "the box and its PIN asked by mod_voicemail: {:?}", apps(&r));
    assert_eq!((r.hangup_by.as_deref(), r.hangup_cause.as_deref()), (Some("switchboard"), Some("NORMAL_CLEARING")), "*98: done listening");
    let (r, _) = call(&p, from_phone(ACME, "1003", "*555")).await;
    assert!(apps(&r).contains(&"playback ivr/ivr-that_was_an_invalid_entry.wav".to_string()), "unknown code: {:?}", apps(&r));
}

#[tokio::test]
async fn call_flow_toggled_by_its_feature_code_with_pin() {
    let p = pbx(OPEN).await;
    let flow = p
        .store
        .create(
            &res::CALL_FLOWS,
            Some(p.acme),
            &ADMIN,
            &obj(json!({ "name": "office", "feature_code": "30", "pin": "2468", "day_destination": { "type": "hangup" }, "night_destination": { "type": "hangup", "cause": "USER_BUSY" } })),
        )
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let state = || p.store.get(&res::CALL_FLOWS, Within::Tenant(p.acme), None, flow).unwrap()["state"].clone();
    let mut s = from_phone(ACME, "1001", "*30");
    s.dtmf = vec![switchboard::sim::scenario::Dtmf { digits: "1111#".into(), after_ms: 20 }];
    call(&p, s.clone()).await;
    assert_eq!(state(), "day", "a wrong PIN changes nothing");
    s.dtmf = vec![switchboard::sim::scenario::Dtmf { digits: "2468#".into(), after_ms: 20 }];
    call(&p, s.clone()).await;
    assert_eq!(state(), "night");
    // Routed through the flow now: the night branch.
    let rid =
        p.store.list(&res::INBOUND_ROUTES, Within::Tenant(p.acme), None, &ListQuery { page: 1, per_page: 50, ..Default::default() }).unwrap().items
            [1]["id"]
            .as_i64()
            .unwrap();
    p.store
        .update(&res::INBOUND_ROUTES, Within::Tenant(p.acme), None, rid, &obj(json!({ "destination": { "type": "call_flow", "id": flow } })))
        .unwrap();
    let (r, _) = call(&p, from_trunk("+12125550101", "+15557654321")).await;
    assert_eq!(r.hangup_cause.as_deref(), Some("USER_BUSY"));
    call(&p, s).await;
    assert_eq!(state(), "day", "and back");
}

#[tokio::test]
async fn route_explain_tells_the_path_without_a_call() {
    use switchboard::call::explain::explain;
    let p = pbx(OPEN).await;
    let texts = |e: &switchboard::call::explain::Explanation| e.steps.iter().map(|s| format!("{}: {}", s.at, s.decision)).collect::<Vec<_>>();
    let open = explain(&p.store, None, "+12125550100", None, OPEN.parse().unwrap()).unwrap();
    let t = texts(&open);
    assert_eq!(open.tenant_id, p.acme.0);
    assert!(t[0].starts_with("DID +12125550100"), "{t:?}");
    assert!(t[1].contains("time condition \"Business hours\": matched at Wed 2026-11-18 10:00 EST"), "{t:?}");
    assert!(t[2].contains("IVR \"Main menu\"") && t[2].contains("1 → ring_groups/"), "{t:?}");
    let closed = explain(&p.store, None, "+12125550100", None, CLOSED.parse().unwrap()).unwrap();
    let t = texts(&closed);
    assert!(t[1].contains("not matched"), "{t:?}");
    assert!(t.last().unwrap().starts_with("voicemail 1001"), "{t:?}");
    // A feature code is the feature the router runs, never a number dialed out.
    let vm = explain(&p.store, Some(p.acme), "*98", None, OPEN.parse().unwrap()).unwrap();
    assert_eq!(texts(&vm), ["feature code *98: check voicemail: mod_voicemail asks for the box and its PIN"]);
    let none = explain(&p.store, Some(p.acme), "*55", None, OPEN.parse().unwrap()).unwrap();
    assert!(texts(&none)[0].contains("no such feature code"), "{:?}", texts(&none));
    // Objects are named as the record's route names them (it said "voicemail_boxe/1").
    assert!(texts(&open)[2].contains("9 → voicemail_boxes/"), "{:?}", texts(&open));
    // From a phone: an extension with its fallbacks; an external number and its trunks.
    let t = texts(&explain(&p.store, Some(p.acme), "1003", None, OPEN.parse().unwrap()).unwrap());
    assert!(t.iter().any(|s| s.contains("rings user/1003@acme.switchboard.test")), "{t:?}");
    assert!(t.iter().any(|s| s.contains("no answer → voicemail 1003")), "{t:?}");
    let t = texts(&explain(&p.store, Some(p.acme), "+12125550199", None, OPEN.parse().unwrap()).unwrap());
    assert!(t.iter().any(|s| s.contains("outbound route \"North America\"") && s.contains("via trunk")), "{t:?}");
    // The block list is explained too.
    p.store.create(&res::CALL_BLOCKS, Some(p.acme), &ADMIN, &obj(json!({ "value": "+15550001111" }))).unwrap();
    let t = texts(&explain(&p.store, None, "+12125550100", Some("+15550001111"), OPEN.parse().unwrap()).unwrap());
    assert!(t.last().unwrap().starts_with("call block"), "{t:?}");
    // Another tenant's DID explains as an outside number, not as that tenant's route.
    let globex = TenantId(find(&p.store, &res::TENANTS, Within::Everything, "sip_domain", "globex.switchboard.test")["id"].as_i64().unwrap());
    let e = explain(&p.store, Some(globex), "+12125550100", None, OPEN.parse().unwrap()).unwrap();
    assert_eq!(e.tenant_id, globex.0);
    assert!(texts(&e).iter().all(|s| !s.contains("IVR")), "{:?}", texts(&e));
}

#[tokio::test]
async fn follow_me_cascades_with_each_step_s_delay_and_timeout_then_voicemail() {
    let p = pbx(OPEN).await;
    let e1003 = find(&p.store, &res::EXTENSIONS, Within::Tenant(p.acme), "number", "1003");
    let trunk = find(&p.store, &res::TRUNKS, Within::Everything, "name", "DemoCarrier")["id"].as_i64().unwrap();
    let mobile = "+12125550142";
    // The guide's cascade: the desk phone (1004) at once for 15 s, the mobile from 15 s for 20 s.
    let fm = p
        .store
        .create(
            &res::FOLLOW_ME,
            Some(p.acme),
            &ADMIN,
            &obj(json!({ "extension_id": e1003["id"], "destinations": [
                { "number": "1004", "delay": 0, "timeout": 15 },
                { "number": mobile, "delay": 15, "timeout": 20 },
            ] })),
        )
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let desk = format!("user/1004@{ACME}");
    let cell = format!("sofia/gateway/trunk{trunk}/{mobile}");
    let mut s = from_phone(ACME, "1001", "1003");
    s.second_ms = 10; // one switch second = 10 ms here
    s.default_target = Target::NoAnswer;
    let (r, cdr) = call(&p, s.clone()).await;
    assert_eq!(r.bridges.len(), 1, "{:?}", apps(&r));
    let b = &r.bridges[0];
    // The mobile is reached through DemoCarrier, with the caller ID that trunk presents.
    let cid = "origination_caller_id_number=+12125550100,absolute_codec_string='PCMU,PCMA'";
    assert_eq!(b.dialstring, format!("[leg_delay_start=0,leg_timeout=15]{desk},[leg_delay_start=15,leg_timeout=35,{cid}]{cell}"));
    let rang: Vec<(&str, u64, u64)> = b.rang.iter().map(|l| (l.endpoint.as_str(), l.from_ms, l.to_ms)).collect();
    let near = |got: u64, want: u64| got.abs_diff(want) <= 30;
    assert_eq!(rang.len(), 2, "{rang:?}");
    assert!(rang[0].0 == desk && near(rang[0].1, 0) && near(rang[0].2, 150), "desk 0–15 s: {rang:?}");
    assert!(rang[1].0 == cell && near(rang[1].1, 150) && near(rang[1].2, 350), "mobile 15–35 s: {rang:?}");
    assert!(apps(&r).iter().any(|a| a.starts_with("multiset ^^|") && a.contains("|call_timeout=35|")), "{:?}", apps(&r));
    assert_eq!(apps(&r).last().unwrap(), &format!("voicemail default {ACME} 1003"), "then voicemail");
    assert_eq!(cdr["disposition"], "voicemail");
    let why = switchboard::call::explain::explain(&p.store, Some(p.acme), "1003", None, OPEN.parse().unwrap()).unwrap();
    let why: Vec<String> = why.steps.iter().map(|s| format!("{}: {}", s.at, s.decision)).collect();
    assert!(why.iter().any(|w| w.contains(&format!("follow-me rings 1004 from 0 s to 15 s, {mobile} from 15 s to 35 s"))), "{why:?}");

    // The mobile answers 5 s after it starts ringing: bridged, no voicemail.
    s.targets = BTreeMap::from([(cell.clone(), Target::Answer { after_ms: 50, talk_ms: Some(20) })]);
    let (r, cdr) = call(&p, s.clone()).await;
    assert_eq!(r.bridges[0].answered_by.as_deref(), Some(cell.as_str()));
    assert!(near(r.bridges[0].rang[1].to_ms, 200), "{:?}", r.bridges[0].rang);
    assert!(!apps(&r).iter().any(|a| a.starts_with("voicemail")));
    assert_eq!(cdr["disposition"], "answered");

    // Switched off: the extension rings by itself again.
    p.store.update(&res::FOLLOW_ME, Within::Tenant(p.acme), None, fm, &obj(json!({ "enabled": false }))).unwrap();
    let (r, _) = call(&p, s).await;
    assert_eq!(r.bridges[0].dialstring, format!("user/1003@{ACME}"));
}

#[tokio::test]
async fn dial_by_name_directory_puts_the_caller_through_the_normal_routing() {
    use switchboard::sim::scenario::Dtmf;
    let p = pbx(OPEN).await;
    let mut s = from_phone(ACME, "1001", "*411");
    // J-A-N for "Jane User", then 1 to take that entry.
    s.dtmf = vec![Dtmf { digits: "526#".into(), after_ms: 20 }, Dtmf { digits: "1".into(), after_ms: 20 }];
    s.targets = BTreeMap::from([(format!("user/1003@{ACME}"), answers(30))]);
    let (r, cdr) = call(&p, s).await;
    let a = apps(&r);
    assert!(a.contains(&"say en name_spelled iterated Jane".to_string()), "{a:?}");
    assert!(a.contains(&"say en number iterated 1003".to_string()), "{a:?}");
    assert_eq!(r.bridges.len(), 1, "{a:?}");
    assert_eq!(r.bridges[0].answered_by.as_deref(), Some(format!("user/1003@{ACME}").as_str()));
    assert_eq!(cdr["disposition"], "answered");

    // Nobody by those letters, three times: goodbye, nothing rings.
    let mut s = from_phone(ACME, "1001", "*411");
    s.dtmf = (0..3).map(|_| Dtmf { digits: "999#".into(), after_ms: 10 }).collect();
    let (r, _) = call(&p, s).await;
    let a = apps(&r);
    assert_eq!(a.iter().filter(|x| x.starts_with("playback directory/dir-no_matching_results")).count(), 3, "{a:?}");
    assert!(r.bridges.is_empty());
    assert_eq!(r.hangup_cause.as_deref(), Some("NORMAL_CLEARING"));
}

#[tokio::test]
async fn follow_me_skips_what_it_cannot_ring_and_falls_through_to_voicemail() {
    let p = pbx(OPEN).await;
    let e1003 = find(&p.store, &res::EXTENSIONS, Within::Tenant(p.acme), "number", "1003");
    let e1004 = find(&p.store, &res::EXTENSIONS, Within::Tenant(p.acme), "number", "1004")["id"].as_i64().unwrap();
    p.store.update(&res::EXTENSIONS, Within::Tenant(p.acme), None, e1004, &obj(json!({ "dnd": true }))).unwrap();
    // A phone on DND, a number no outbound route dials, and a ring group (not a phone).
    p.store
        .create(
            &res::FOLLOW_ME,
            Some(p.acme),
            &ADMIN,
            &obj(json!({ "extension_id": e1003["id"], "destinations": [
                { "number": "1004", "delay": 0, "timeout": 10 },
                { "number": "+442079460199", "delay": 0, "timeout": 10 },
                { "number": "6000", "delay": 0, "timeout": 10 },
            ] })),
        )
        .unwrap();
    let (r, cdr) = call(&p, from_phone(ACME, "1001", "1003")).await;
    assert!(r.bridges.is_empty(), "nothing to ring: {:?}", apps(&r));
    assert_eq!(apps(&r).last().unwrap(), &format!("voicemail default {ACME} 1003"));
    assert_eq!(cdr["disposition"], "voicemail");
    assert!(cdr["route"].as_str().unwrap().contains("follow-me (0 legs)"), "{cdr}");
}

#[tokio::test]
async fn a_caller_who_hangs_up_while_it_rings_is_no_answer() {
    let p = pbx(OPEN).await;
    let mut s = from_phone(ACME, "1001", "1003");
    s.default_target = Target::NoAnswer;
    s.hangup_after_ms = Some(150);
    let (r, cdr) = call(&p, s).await;
    assert_eq!(r.bridges.len(), 1);
    assert_eq!(r.bridges[0].cause, "ORIGINATOR_CANCEL");
    assert_eq!(cdr["disposition"], "no_answer", "{cdr}");
    assert!(!apps(&r).iter().any(|a| a.starts_with("voicemail")), "the caller is gone: no voicemail");
}

#[test]
fn imported_cdrs_are_written_once() {
    use switchboard::store::cdr::Cdr;
    let dir = common::api::temp_dir();
    let store = Store::open(&dir.join("t.db")).unwrap();
    let rec = |uuid: &str| Cdr {
        uuid: uuid.into(),
        direction: "inbound",
        started_at: "2026-11-18T15:00:00Z".into(),
        ended_at: "2026-11-18T15:01:00Z".into(),
        ..Default::default()
    };
    assert_eq!(store.write_cdrs(&[rec("a"), rec("b")]).unwrap(), 2);
    assert_eq!(store.write_cdrs(&[rec("b"), rec("c")]).unwrap(), 1, "b is already there");
    assert!(store.cdr("c").unwrap().is_some());
}

fn press(by: Party, digits: &str, after_ms: u64) -> Press {
    Press { by, digits: digits.into(), after_ms }
}

#[tokio::test]
async fn star_1_records_the_call_and_a_second_star_1_stops_it() {
    let p = pbx(OPEN).await;
    let mut s = from_phone(ACME, "1001", "1003");
    s.targets = BTreeMap::from([(format!("user/1003@{ACME}"), answers(600))]);
    s.in_call = vec![press(Party::Caller, "*1", 50), press(Party::Callee, "*1", 250)];
    let (r, cdr) = call(&p, s).await;
    assert_eq!(r.recordings.len(), 1, "{:?}", api_lines(&r));
    assert_eq!(r.stopped_recordings, r.recordings, "the callee's *1 stops what the caller's started");
    assert_eq!(r.recordings[0], format!("{}/{ACME}/{}-1.wav", switchboard::sim::RECORDINGS_DIR, r.uuid));
    assert_eq!(cdr["recording_path"], r.recordings[0].as_str());
    assert_eq!(cdr["disposition"], "answered");
}

#[tokio::test]
async fn star_2_from_the_answering_phone_routes_the_caller_on() {
    let p = pbx(OPEN).await;
    let mut s = from_phone(ACME, "1001", "1003");
    s.targets = BTreeMap::from([(format!("user/1003@{ACME}"), answers(2000)), (format!("user/1004@{ACME}"), answers(100))]);
    s.in_call = vec![press(Party::Callee, "*21004#", 50)];
    let (r, cdr) = call(&p, s).await;
    assert_eq!(r.bridges.len(), 2, "{:?}", apps(&r));
    assert_eq!(r.bridges[0].answered_by.as_deref(), Some(format!("user/1003@{ACME}").as_str()));
    assert_eq!(r.bridges[1].answered_by.as_deref(), Some(format!("user/1004@{ACME}").as_str()), "the caller reached 1004 through the routing");
    let api = api_lines(&r);
    assert!(api.iter().any(|c| *c == format!("api uuid_setvar {} hangup_after_bridge false", r.uuid)), "{api:?}");
    assert!(api.iter().any(|c| c.starts_with("api uuid_kill ") && !c.contains(&r.uuid)), "the transferring phone leaves: {api:?}");
    assert!(cdr["route"].as_str().unwrap().contains("transferred"), "{cdr}");
    assert_eq!(cdr["extension"], "1004", "{:?}", apps(&r));
}

#[tokio::test]
async fn star_2_from_the_caller_sends_the_callee_into_the_tenant_dialplan() {
    let p = pbx(OPEN).await;
    let mut s = from_phone(ACME, "1001", "1003");
    s.targets = BTreeMap::from([(format!("user/1003@{ACME}"), answers(4000))]);
    // A pause ends the number as well as #.
    s.in_call = vec![press(Party::Caller, "*21004", 50)];
    let (r, _) = call(&p, s).await;
    assert_eq!(r.leg_transfers, vec![format!("1004 XML {ACME}")]);
    assert_eq!(r.hangup_cause.as_deref(), Some("NORMAL_CLEARING"));
    assert_eq!(r.hangup_by.as_deref(), Some("switch"), "hangup_after_bridge ends the caller's side");
    assert_eq!(r.bridges.len(), 1);
    // An outside party sent on by the phone that called it comes back on the external
    // profile in the tenant's context, and reaches the extension there.
    let mut s = from_phone(ACME, "1001", "+12125550199");
    s.default_target = answers(4000);
    s.in_call = vec![press(Party::Caller, "*21004#", 50)];
    let (r, _) = call(&p, s).await;
    assert_eq!(r.leg_transfers, vec![format!("1004 XML {ACME}")]);
    let mut back = from_trunk("1004", "+12125550199");
    back.context = ACME.into();
    back.targets = BTreeMap::from([(format!("user/1004@{ACME}"), answers(50))]);
    let (r, cdr) = call(&p, back).await;
    assert_eq!(r.bridges.first().and_then(|b| b.answered_by.clone()), Some(format!("user/1004@{ACME}")), "{:?}", apps(&r));
    assert_eq!(cdr["tenant_id"], p.acme.0);
}

#[tokio::test]
async fn outside_parties_cannot_use_in_call_codes() {
    let p = pbx(OPEN).await;
    // 1001 calls out; the far end presses *2 and a number, and *1.
    let mut s = from_phone(ACME, "1001", "+12125550199");
    s.default_target = answers(400);
    s.in_call = vec![press(Party::Callee, "*21004#", 50), press(Party::Callee, "*1", 150)];
    let (r, _) = call(&p, s).await;
    assert_eq!(r.bridges.len(), 1);
    assert!(api_lines(&r).is_empty(), "{:?}", api_lines(&r));
    assert!(r.recordings.is_empty());
    // A caller from a trunk pressing codes at the phone it reached: nothing either.
    let mut s = from_trunk("+12125550100", "+15557654321");
    s.dtmf = vec![switchboard::sim::scenario::Dtmf { digits: "1".into(), after_ms: 30 }];
    s.default_target = answers(400);
    s.in_call = vec![press(Party::Caller, "*21004#", 50)];
    let (r, _) = call(&p, s).await;
    assert_eq!(r.bridges.len(), 1, "{:?}", apps(&r));
    assert!(api_lines(&r).is_empty(), "{:?}", api_lines(&r));
}

#[tokio::test]
async fn star_4_consults_then_joins_and_held_parties_hear_the_tenant_s_music() {
    let p = pbx(OPEN).await;
    let class = p.store.create(&res::MOH_CLASSES, Some(p.acme), &ADMIN, &obj(json!({ "name": "default" }))).unwrap()["id"].as_i64().unwrap();
    let mut s = from_phone(ACME, "1001", "1003");
    s.targets = BTreeMap::from([(format!("user/1003@{ACME}"), answers(5000)), (format!("user/1004@{ACME}"), answers(300))]);
    s.in_call = vec![press(Party::Callee, "*41004#", 50)];
    s.consult_ms = 100;
    let (r, cdr) = call(&p, s).await;
    assert_eq!(r.att_xfers.len(), 1, "{:?}", api_lines(&r));
    let x = &r.att_xfers[0];
    assert_eq!((x.target.as_str(), x.outcome.as_str()), (format!("user/1004@{ACME}").as_str(), "joined"));
    assert_ne!(x.presser, r.uuid, "att_xfer runs on the phone that pressed");
    // 1004 hangs up 200 ms after joining; the caller's side ends with it.
    assert_eq!(r.hangup_by.as_deref(), Some("switch"));
    let var = |n: &str| r.variables.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    assert_eq!(var("hold_music"), Some(format!("local_stream://moh_t{}_c{class}", p.acme.0)));
    assert_eq!(var("export_vars").as_deref(), Some("media_mix_inbound_outbound_codecs,hold_music"));
    assert!(cdr["route"].as_str().unwrap().contains("attended transfer to 1004"), "{cdr}");
    // An unavailable target: the presser hears why, the call goes on.
    let e1004 = ext(&p, "1004")["id"].as_i64().unwrap();
    p.store.update(&res::EXTENSIONS, Within::Tenant(p.acme), None, e1004, &obj(json!({ "dnd": true }))).unwrap();
    let mut s = from_phone(ACME, "1001", "1003");
    s.targets = BTreeMap::from([(format!("user/1003@{ACME}"), answers(300))]);
    s.in_call = vec![press(Party::Callee, "*41004#", 50)];
    let (r, _) = call(&p, s).await;
    assert!(r.att_xfers.is_empty());
    assert_eq!(r.broadcasts, vec!["ivr/ivr-that_was_an_invalid_entry.wav aleg".to_string()]);
}

/// *8: another phone of the tenant takes the call that is ringing 1003. The ringing call's
/// bridge ends PICKED_OFF and goes nowhere else (no voicemail); both records say who took
/// what. With nothing ringing, *8 hears the invalid-entry prompt.
#[tokio::test]
async fn star_8_picks_up_the_call_ringing_another_phone() {
    let p = pbx(OPEN).await;
    let sw = Switch::default();
    let mut ringing = from_phone(ACME, "1001", "1003");
    ringing.default_target = Target::NoAnswer;
    let mut picker = from_phone(ACME, "1002", "*8");
    picker.hangup_after_ms = Some(300);
    let ((a, a_cdr), (b, b_cdr)) = tokio::join!(call_on(&sw, &p, ringing), async {
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        call_on(&sw, &p, picker).await
    });
    assert_eq!(a.bridges.len(), 1, "{:?}", apps(&a));
    assert_eq!(a.bridges[0].cause, "PICKED_OFF", "{:?}", a.bridges);
    assert_eq!(a.bridges[0].picked_by.as_deref(), Some(b.uuid.as_str()));
    assert!(!apps(&a).iter().any(|x| x.starts_with("voicemail")), "a picked call is over: {:?}", apps(&a));
    assert!(apps(&b).contains(&format!("intercept {}", a.uuid)), "{:?}", apps(&b));
    assert!(apps(&b).contains(&"set intercept_unanswered_only=true".to_string()), "{:?}", apps(&b));
    assert_eq!(b.picked_up.as_deref(), Some(a.uuid.as_str()));
    assert_eq!((a_cdr["disposition"].as_str(), a_cdr["extension"].as_str()), (Some("answered"), Some("1002")), "{a_cdr}");
    assert!(a_cdr["route"].as_str().unwrap().contains("picked up by 1002"), "{a_cdr}");
    assert_eq!(b_cdr["disposition"], "answered", "{b_cdr}");
    assert!(b_cdr["route"].as_str().unwrap().contains("picked up the call from 1001"), "{b_cdr}");

    // Nothing ringing now.
    let (c, c_cdr) = call_on(&sw, &p, from_phone(ACME, "1002", "*8")).await;
    assert_eq!(c.picked_up, None);
    assert!(!apps(&c).iter().any(|x| x.starts_with("intercept")), "{:?}", apps(&c));
    assert!(apps(&c).contains(&"playback ivr/ivr-that_was_an_invalid_entry.wav".to_string()), "{:?}", apps(&c));
    assert_eq!(c_cdr["disposition"], "failed");
}

/// A call ringing one tenant's phones is never offered to another tenant's *8.
#[tokio::test]
async fn star_8_never_crosses_tenants() {
    let p = pbx(OPEN).await;
    let sw = Switch::default();
    let mut ringing = from_phone(ACME, "1001", "1003");
    ringing.default_target = Target::NoAnswer;
    ringing.hangup_after_ms = Some(600);
    let ((a, _), (b, b_cdr)) = tokio::join!(call_on(&sw, &p, ringing), async {
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        call_on(&sw, &p, from_phone("globex.switchboard.test", "2001", "*8")).await
    });
    assert_eq!(b.picked_up, None, "{:?}", apps(&b));
    assert_eq!(b_cdr["disposition"], "failed", "{b_cdr}");
    assert_ne!(a.bridges[0].cause, "PICKED_OFF");
}

/// A G722 phone reaches a carrier that takes G.711 only, and a phone that takes PCMU only:
/// the trunk leg offers the trunk's codecs, a phone's leg the caller's codec then the
/// profile's list, and the switch transcodes (left alone, a leg offers only the caller's
/// codec: 488, INCOMPATIBLE_DESTINATION, which is no failover cause).
#[tokio::test]
async fn a_wideband_caller_reaches_narrowband_carriers_and_phones() {
    let p = pbx(OPEN).await;
    let demo = find(&p.store, &res::TRUNKS, Within::Everything, "name", "DemoCarrier")["id"].as_i64().unwrap();
    let carrier = format!("sofia/gateway/trunk{demo}/+12125550199");
    let mut s = from_phone(ACME, "1001", "+12125550199");
    s.caller_codec = "G722".into();
    s.targets = BTreeMap::from([(carrier.clone(), answers(30))]);
    s.target_codecs = BTreeMap::from([(carrier.clone(), vec!["PCMU".into(), "PCMA".into()])]);
    let (r, cdr) = call(&p, s).await;
    assert_eq!(r.bridges[0].answered_by.as_deref(), Some(carrier.as_str()), "{:?}", r.bridges);
    assert_eq!(cdr["disposition"], "answered", "{cdr}");

    let phone = format!("user/1003@{ACME}");
    let mut s = from_phone(ACME, "1001", "1003");
    s.caller_codec = "G722".into();
    s.targets = BTreeMap::from([(phone.clone(), answers(30))]);
    s.target_codecs = BTreeMap::from([(phone.clone(), vec!["PCMU".into()])]);
    let (r, cdr) = call(&p, s).await;
    assert_eq!(r.bridges[0].answered_by.as_deref(), Some(phone.as_str()), "{:?}", r.bridges);
    assert_eq!(cdr["disposition"], "answered", "{cdr}");
}
