//! Every step's branches on the scripted fake channel, against the demo PBX in a temporary
//! store: the commands each branch sends, where it leaves the call and what the record says.

use std::sync::Arc;

use serde_json::json;

use crate::call::drive::HOP_LIMIT;
use crate::call::fake::{event, Fake, UUID};
use crate::call::state::{Call, Caller, Env, Next};
use crate::pbx::destination::Destination;
use crate::store::cdr::Cdr;
use crate::store::resource::{Actor, Within};
use crate::store::{resources as res, Store, TenantId};

/// Wednesday 18 November 2026, 10:00 in New York: inside the demo's business hours.
const OPEN: &str = "2026-11-18T15:00:00Z";
/// The same day at 20:00 in New York.
const CLOSED: &str = "2026-11-19T01:00:00Z";
const DOMAIN: &str = "acme.switchboard.test";

struct Pbx {
    store: Store,
    acme: TenantId,
    _dir: std::path::PathBuf,
}

fn pbx() -> Pbx {
    let (store, dir) = crate::store::temp_store();
    crate::store::seed::demo(&store, &|p| format!("hash:{p}")).unwrap();
    let acme = TenantId(store.tenant_by_domain(DOMAIN).unwrap().unwrap().id);
    Pbx { store, acme, _dir: dir }
}

impl Pbx {
    fn env(&self, at: &str) -> Env {
        let at: jiff::Timestamp = at.parse().unwrap();
        Env::new(self.store.clone(), "ivr/ivr-not_available.wav".into(), Arc::new(move || at))
    }

    /// The id of the tenant's row of `r` whose `field` is `value`.
    fn id(&self, r: &crate::store::Resource, field: &str, value: &str) -> i64 {
        let q = crate::store::ListQuery { page: 1, per_page: 100, ..Default::default() };
        let rows = self.store.list(r, Within::Tenant(self.acme), None, &q).unwrap().items;
        rows.iter().find(|x| x[field] == value).unwrap_or_else(|| panic!("{field}={value}"))["id"].as_i64().unwrap()
    }

    fn change(&self, r: &crate::store::Resource, id: i64, body: serde_json::Value) {
        self.store.update(r, Within::Tenant(self.acme), None, id, body.as_object().unwrap()).unwrap();
    }

    fn create(&self, r: &crate::store::Resource, body: serde_json::Value) -> i64 {
        let admin = Actor { user_id: 0, admin: true, enforce_packages: false };
        self.store.create(r, Some(self.acme), &admin, body.as_object().unwrap()).unwrap()["id"].as_i64().unwrap()
    }

    fn call<'a>(&self, fake: &'a Fake, env: &'a Env) -> Call<'a, Fake> {
        let tenant = self.store.routing_tenant(self.acme).unwrap();
        let caller = Caller { number: "+15551230000".into(), name: "Pat Caller".into(), from_phone: false };
        let cdr = Cdr { uuid: UUID.into(), direction: "inbound", tenant: Some(self.acme), ..Default::default() };
        Call::new(fake, env, tenant, caller, cdr)
    }
}

/// Runs one step; where it leaves the call, and the commands it sent.
async fn step(p: &Pbx, fake: Fake, at: &str, d: Destination) -> (Next, Vec<String>, Cdr) {
    let env = p.env(at);
    let mut call = p.call(&fake, &env);
    let next = super::run(&mut call, d).await.unwrap();
    let cdr = call.cdr.clone();
    drop(call);
    (next, fake.log(), cdr)
}

fn sent(log: &[String], prefix: &str) -> Vec<String> {
    log.iter().filter(|l| l.starts_with(prefix)).cloned().collect()
}

#[tokio::test]
async fn an_extension_rings_its_phone_and_an_answer_ends_the_chain() {
    let p = pbx();
    let id = p.id(&res::EXTENSIONS, "number", "1003");
    let (next, log, cdr) = step(&p, Fake::new().bridges(&["SUCCESS"]), OPEN, Destination::Extension { id }).await;
    assert_eq!(next, Next::Done);
    assert_eq!(sent(&log, "bridge"), [format!("bridge user/1003@{DOMAIN}")]);
    let set = &sent(&log, "multiset")[0];
    for var in ["effective_caller_id_name=Pat Caller", "effective_caller_id_number=+15551230000", "call_timeout=30", "hangup_after_bridge=true"] {
        assert!(set.contains(var), "{set}");
    }
    assert_eq!((cdr.disposition, cdr.extension.as_str()), ("answered", "1003"));
}

#[tokio::test]
async fn an_unanswered_extension_goes_to_its_voicemail_answered_first() {
    let p = pbx();
    let id = p.id(&res::EXTENSIONS, "number", "1003");
    let (next, log, cdr) = step(&p, Fake::new().bridges(&["NO_ANSWER"]), OPEN, Destination::Extension { id }).await;
    assert_eq!(next, Next::Done);
    let after_bridge: Vec<&String> = log.iter().skip_while(|l| !l.starts_with("bridge")).skip(1).collect();
    assert_eq!(after_bridge, [&"answer".to_string(), &format!("voicemail default {DOMAIN} 1003"), &"hangup NORMAL_CLEARING".to_string()]);
    assert_eq!((cdr.disposition, cdr.extension.as_str()), ("voicemail", "1003"));
}

#[tokio::test]
async fn do_not_disturb_is_busy_and_forwards_go_on_without_ringing() {
    let p = pbx();
    let id = p.id(&res::EXTENSIONS, "number", "1004");
    p.change(&res::EXTENSIONS, id, json!({ "dnd": true, "voicemail_enabled": false }));
    let (next, log, cdr) = step(&p, Fake::new(), OPEN, Destination::Extension { id }).await;
    assert_eq!((next, log.as_slice(), cdr.disposition), (Next::Done, ["hangup USER_BUSY".to_string()].as_slice(), "busy"));

    // Busy with a forward for busy: the forward, to the tenant's own number.
    p.change(&res::EXTENSIONS, id, json!({ "forward_busy": "6000" }));
    let (next, log, _) = step(&p, Fake::new(), OPEN, Destination::Extension { id }).await;
    assert_eq!(next, Next::Go(Destination::RingGroup { id: p.id(&res::RING_GROUPS, "number", "6000") }));
    assert!(log.is_empty(), "{log:?}");

    // Forward always wins over DND, to a number outside.
    p.change(&res::EXTENSIONS, id, json!({ "forward_always": "+12125550142" }));
    let (next, log, _) = step(&p, Fake::new(), OPEN, Destination::Extension { id }).await;
    assert_eq!(next, Next::Go(Destination::External { number: "+12125550142".into() }));
    assert!(log.is_empty(), "{log:?}");
}

#[tokio::test]
async fn a_ring_group_rings_its_members_then_its_no_answer_destination() {
    let p = pbx();
    let id = p.id(&res::RING_GROUPS, "number", "6000");
    let vm = Destination::Voicemail { id: p.id(&res::VOICEMAIL_BOXES, "number", "1001") };
    let (next, log, _) = step(&p, Fake::new(), OPEN, Destination::RingGroup { id }).await;
    assert_eq!(next, Next::Go(vm.clone()));
    assert_eq!(sent(&log, "bridge"), [format!("bridge user/1001@{DOMAIN},user/1002@{DOMAIN}")]);
    assert!(sent(&log, "multiset")[0].contains("call_timeout=25"));

    // In turn, each for the group's time; a member on DND is left out.
    p.change(&res::RING_GROUPS, id, json!({ "strategy": "sequential" }));
    p.change(&res::EXTENSIONS, p.id(&res::EXTENSIONS, "number", "1001"), json!({ "dnd": true }));
    let (_, log, _) = step(&p, Fake::new(), OPEN, Destination::RingGroup { id }).await;
    assert_eq!(sent(&log, "bridge"), [format!("bridge [leg_timeout=25]user/1002@{DOMAIN}")]);

    // Nobody left to ring: straight on, nothing sent.
    p.change(&res::EXTENSIONS, p.id(&res::EXTENSIONS, "number", "1002"), json!({ "dnd": true }));
    let (next, log, _) = step(&p, Fake::new(), OPEN, Destination::RingGroup { id }).await;
    assert_eq!((next, log.len()), (Next::Go(vm), 0));
}

#[tokio::test]
async fn a_caller_who_gives_up_while_it_rings_ends_the_call_unanswered() {
    let p = pbx();
    let id = p.id(&res::RING_GROUPS, "number", "6000");
    let (next, log, cdr) = step(&p, Fake::new().hangs_up_on_bridge(0), OPEN, Destination::RingGroup { id }).await;
    assert_eq!((next, cdr.disposition), (Next::Done, "no_answer"));
    assert!(log.last().unwrap().starts_with("bridge"), "nothing after the bridge: {log:?}");
}

#[tokio::test]
async fn an_ivr_takes_a_choice_a_direct_dial_or_gives_up() {
    let p = pbx();
    let id = p.id(&res::IVR_MENUS, "number", "5000");
    let reception = Destination::Extension { id: p.id(&res::EXTENSIONS, "number", "1001") };
    let (next, log, _) = step(&p, Fake::new().digits(&["1"]), OPEN, Destination::Ivr { id }).await;
    assert_eq!(next, Next::Go(Destination::RingGroup { id: p.id(&res::RING_GROUPS, "number", "6000") }));
    assert_eq!(log, ["answer", "play_and_get_digits 1 6 ivr/ivr-welcome_to_freeswitch.wav"]);

    let (next, _, _) = step(&p, Fake::new().digits(&["1003"]), OPEN, Destination::Ivr { id }).await;
    assert_eq!(next, Next::Go(Destination::Extension { id: p.id(&res::EXTENSIONS, "number", "1003") }), "direct dial");

    // Three wrong entries: each is told invalid, then the invalid destination.
    let (next, log, _) = step(&p, Fake::new().digits(&["7", "8", "6000"]), OPEN, Destination::Ivr { id }).await;
    assert_eq!(next, Next::Go(reception.clone()));
    assert_eq!(sent(&log, "playback"), vec!["playback ivr/ivr-that_was_an_invalid_entry.wav"; 3], "6000 is no extension: invalid");

    // Silence every time: the timeout destination.
    p.change(&res::IVR_MENUS, id, json!({ "timeout_destination": { "type": "hangup", "cause": "NO_ANSWER" } }));
    let (next, log, _) = step(&p, Fake::new(), OPEN, Destination::Ivr { id }).await;
    assert_eq!(next, Next::Go(Destination::Hangup { cause: Some("NO_ANSWER".into()) }));
    assert_eq!(sent(&log, "play_and_get_digits").len(), 3);
}

#[tokio::test]
async fn time_conditions_and_call_flows_choose_by_clock_and_mode() {
    let p = pbx();
    let id = p.id(&res::TIME_CONDITIONS, "name", "Business hours");
    let ivr = Destination::Ivr { id: p.id(&res::IVR_MENUS, "number", "5000") };
    let vm = Destination::Voicemail { id: p.id(&res::VOICEMAIL_BOXES, "number", "1001") };
    assert_eq!(step(&p, Fake::new(), OPEN, Destination::TimeCondition { id }).await.0, Next::Go(ivr.clone()));
    assert_eq!(step(&p, Fake::new(), CLOSED, Destination::TimeCondition { id }).await.0, Next::Go(vm.clone()));

    let flow = p.create(
        &res::CALL_FLOWS,
        json!({ "name": "Office", "feature_code": "30", "day_destination": ivr, "night_destination": { "type": "hangup", "cause": "USER_BUSY" } }),
    );
    assert_eq!(step(&p, Fake::new(), OPEN, Destination::CallFlow { id: flow }).await.0, Next::Go(ivr));
    p.change(&res::CALL_FLOWS, flow, json!({ "state": "night" }));
    let (next, log, _) = step(&p, Fake::new(), OPEN, Destination::CallFlow { id: flow }).await;
    assert_eq!((next, log.len()), (Next::Go(Destination::Hangup { cause: Some("USER_BUSY".into()) }), 0));
    let (next, log, _) = step(&p, Fake::new(), OPEN, Destination::Hangup { cause: Some("USER_BUSY".into()) }).await;
    assert_eq!((next, log), (Next::Done, vec!["hangup USER_BUSY".to_string()]));
}

#[tokio::test]
async fn a_number_out_dials_the_route_s_trunks_with_failover_and_refuses_without_a_route() {
    let p = pbx();
    let trunk = {
        let q = crate::store::ListQuery { page: 1, per_page: 10, ..Default::default() };
        p.store.list(&res::TRUNKS, Within::Everything, None, &q).unwrap().items[0]["id"].as_i64().unwrap()
    };
    let (next, log, cdr) = step(&p, Fake::new().bridges(&["SUCCESS"]), OPEN, Destination::External { number: "+12125550199".into() }).await;
    assert_eq!(next, Next::Done);
    let bridge = &sent(&log, "bridge")[0];
    assert!(bridge.ends_with(&format!("sofia/gateway/trunk{trunk}/+12125550199")), "{bridge}");
    assert!(bridge.contains("absolute_codec_string='PCMU,PCMA'"), "the trunk's codecs: {bridge}");
    assert_eq!((cdr.disposition, cdr.trunk_id), ("answered", Some(trunk)));

    // A callee's busy is not a failover cause: the call ends with it.
    let (_, log, cdr) = step(&p, Fake::new().bridges(&["USER_BUSY"]), OPEN, Destination::External { number: "+12125550199".into() }).await;
    assert_eq!((log.last().unwrap().as_str(), cdr.disposition), ("hangup USER_BUSY", "failed"));

    // No route for the number: announced in early media, then NO_ROUTE_DESTINATION.
    let (next, log, cdr) = step(&p, Fake::new(), OPEN, Destination::External { number: "+4420794600".into() }).await;
    assert_eq!(next, Next::Done);
    assert_eq!(log, ["pre_answer", "playback ivr/ivr-that_was_an_invalid_entry.wav", "hangup NO_ROUTE_DESTINATION"]);
    assert_eq!(cdr.disposition, "failed");
}

#[tokio::test]
async fn a_conference_sets_its_limit_and_joins_the_tenant_s_room() {
    let p = pbx();
    let id = p.create(&res::CONFERENCES, json!({ "name": "Board", "number": "3000", "pin": "1234", "max_participants": 5 }));
    let (next, log, cdr) = step(&p, Fake::new(), OPEN, Destination::Conference { id }).await;
    assert_eq!(next, Next::Done);
    assert_eq!(log, ["multiset ^^|conference_max_members=5", "answer", &format!("conference 3000-{DOMAIN}@default+1234"), "hangup NORMAL_CLEARING"]);
    assert_eq!(cdr.disposition, "answered");
}

#[tokio::test]
async fn a_loop_of_destinations_ends_at_the_hop_limit() {
    let p = pbx();
    let flow = p.create(
        &res::CALL_FLOWS,
        json!({ "name": "Loop", "feature_code": "31", "day_destination": { "type": "hangup" }, "night_destination": { "type": "hangup" } }),
    );
    p.change(&res::CALL_FLOWS, flow, json!({ "day_destination": { "type": "call_flow", "id": flow } }));
    let (fake, env) = (Fake::new(), p.env(OPEN));
    let mut call = p.call(&fake, &env);
    call.drive(Destination::CallFlow { id: flow }).await.unwrap();
    assert_eq!(call.path.len(), HOP_LIMIT);
    drop(call);
    assert_eq!(fake.log(), ["hangup EXCHANGE_ROUTING_ERROR"]);
}

#[tokio::test]
async fn follow_me_rings_its_cascade_in_one_bridge_then_voicemail() {
    let p = pbx();
    let id = p.id(&res::EXTENSIONS, "number", "1003");
    let desk = p.id(&res::EXTENSIONS, "number", "1004");
    p.create(
        &res::FOLLOW_ME,
        json!({ "extension_id": id, "voicemail_last": true, "destinations": [
            { "number": "1004", "delay": 0, "timeout": 15 }, { "number": "+12125550142", "delay": 15, "timeout": 20 }, { "number": "6000", "delay": 0, "timeout": 10 } ] }),
    );
    let (next, log, cdr) = step(&p, Fake::new(), OPEN, Destination::Extension { id }).await;
    assert_eq!(next, Next::Done);
    let bridge = &sent(&log, "bridge")[0];
    let desk_leg = format!("bridge [leg_delay_start=0,leg_timeout=15]user/1004@{DOMAIN},[leg_delay_start=15,leg_timeout=35,");
    assert!(bridge.starts_with(&desk_leg) && bridge.ends_with("/+12125550142"), "the ring group step is left out: {bridge}");
    assert!(sent(&log, "multiset")[0].contains("call_timeout=35"), "until the last leg gives up");
    assert_eq!((cdr.disposition, log.last().unwrap().as_str()), ("voicemail", "hangup NORMAL_CLEARING"));

    // A phone on do-not-disturb is skipped, the rest still rings.
    p.change(&res::EXTENSIONS, desk, json!({ "dnd": true }));
    let (_, log, _) = step(&p, Fake::new(), OPEN, Destination::Extension { id }).await;
    assert!(!sent(&log, "bridge")[0].contains("user/1004"), "{log:?}");
}

#[tokio::test]
async fn an_extension_that_records_asks_the_switch_where_and_records_the_whole_call() {
    let p = pbx();
    let id = p.id(&res::EXTENSIONS, "number", "1003");
    p.change(&res::EXTENSIONS, id, json!({ "record_calls": true }));
    let fake = Fake::new().bridges(&["SUCCESS"]).recordings_dir("/var/lib/freeswitch/recordings/");
    let (_, log, cdr) = step(&p, fake, OPEN, Destination::Extension { id }).await;
    let path = format!("/var/lib/freeswitch/recordings/{DOMAIN}/{UUID}.wav");
    assert!(log.contains(&"api global_getvar recordings_dir".to_string()), "{log:?}");
    assert!(log.contains(&format!("record_session {path}")), "{log:?}");
    assert_eq!(cdr.recording_path, path);

    // A switch that names no plain absolute directory: no recording, the call still rings.
    let fake = Fake::new().bridges(&["SUCCESS"]).recordings_dir("../etc");
    let (_, log, cdr) = step(&p, fake, OPEN, Destination::Extension { id }).await;
    assert!(sent(&log, "record_session").is_empty() && cdr.recording_path.is_empty(), "{log:?}");
    assert_eq!(sent(&log, "bridge").len(), 1);
}

#[tokio::test]
async fn star_codes_change_the_calling_extension_through_the_store() {
    let p = pbx();
    let id = p.id(&res::EXTENSIONS, "number", "1003");
    let (fake, env) = (Fake::new(), p.env(OPEN));
    let mut call = p.call(&fake, &env);
    call.caller.number = "1003".into();
    assert_eq!(crate::call::features::run(&mut call, "*78").await.unwrap(), None);
    drop(call);
    assert_eq!(fake.log(), ["answer", "playback ivr/ivr-thank_you.wav", "hangup NORMAL_CLEARING"]);
    assert!(p.store.extension(p.acme, id).unwrap().dnd, "DND is on");

    // *72 with no number asks for one; a number that is no number changes nothing.
    let (fake, env) = (Fake::new().digits(&["12x"]), p.env(OPEN));
    let mut call = p.call(&fake, &env);
    call.caller.number = "1003".into();
    crate::call::features::run(&mut call, "*72").await.unwrap();
    drop(call);
    assert!(fake.log().contains(&"playback ivr/ivr-that_was_an_invalid_entry.wav".to_string()));
    assert_eq!(p.store.extension(p.acme, id).unwrap().forward_always, "");
}

/// The bridged phone keys `*2 1003` and pauses (on tokio's paused clock: the two-second
/// pause passes at once): the caller is kept, its partner let go, and the caller routed on
/// to 1003.
#[tokio::test(start_paused = true)]
async fn a_blind_transfer_by_the_bridged_phone_sends_the_caller_on_after_the_pause() {
    let p = pbx();
    let callee = "00000000-0000-4000-8000-000000000002";
    let keys: Vec<_> = "*21003"
        .chars()
        .map(|k| {
            let k = k.to_string();
            event(&[("Event-Name", "DTMF"), ("Unique-ID", callee), ("Channel-Name", "sofia/internal/1002@10.0.0.2"), ("DTMF-Digit", &k)])
        })
        .collect();
    let fake = Fake::new().conversation(keys).bridges(&["SUCCESS"]);
    let env = p.env(OPEN);
    let mut call = p.call(&fake, &env);
    let started = tokio::time::Instant::now();
    call.drive(Destination::Extension { id: p.id(&res::EXTENSIONS, "number", "1002") }).await.unwrap();
    assert!(started.elapsed() >= crate::call::incall::PAUSE, "the code waited for its pause");
    assert_eq!(
        call.path,
        [
            "extensions/".to_string() + &p.id(&res::EXTENSIONS, "number", "1002").to_string(),
            "transferred".into(),
            format!("extensions/{}", p.id(&res::EXTENSIONS, "number", "1003"))
        ]
    );
    drop(call);
    let log = fake.log();
    let api = sent(&log, "api");
    assert_eq!(api, [format!("api uuid_setvar {UUID} hangup_after_bridge false"), format!("api uuid_kill {callee} NORMAL_CLEARING")]);
    assert_eq!(sent(&log, "bridge"), [format!("bridge user/1002@{DOMAIN}"), format!("bridge user/1003@{DOMAIN}")]);
}

/// What the outbound routes make of a number, as the call and route explain both read it:
/// no route, a rewrite that leaves nothing dialable, a route with no trunk, a number to dial.
#[test]
fn the_outbound_plan_names_each_way_a_number_out_can_end() {
    use super::external::{decide, Plan};
    use crate::pbx::config::{OutboundRoute, RouteTrunk};
    let route = |strip: i64, trunks: Vec<RouteTrunk>| OutboundRoute {
        id: 1,
        name: "r".into(),
        pattern: "+1NXXNXXXXXX".into(),
        strip_digits: strip,
        prepend: String::new(),
        caller_id: String::new(),
        failover_causes: vec![],
        trunks,
        rate_plan_id: None,
    };
    let trunk = RouteTrunk { trunk_id: 3, max_channels: 0, caller_id: String::new(), codecs: vec![] };
    assert!(matches!(decide(vec![route(0, vec![trunk.clone()])], "+4420794600"), Plan::NoRoute));
    assert!(matches!(decide(vec![route(12, vec![trunk.clone()])], "+12125550199"), Plan::NotDialable(_)), "stripped to nothing");
    assert!(matches!(decide(vec![route(0, vec![])], "+12125550199"), Plan::NoTrunk(_)));
    match decide(vec![route(2, vec![trunk])], "+12125550199") {
        Plan::Dial(r, out) => assert_eq!((r.id, out.as_str()), (1, "2125550199")),
        other => panic!("{other:?}"),
    }
}

/// A queue agent who answers as the caller hangs up is still the agent who answered: the
/// leg's answer, queued before the bridge's end (here the caller's hangup, in the same
/// instant), is read before the bridge reports back.
#[tokio::test]
async fn an_answer_in_the_instant_the_caller_hangs_up_is_still_seen() {
    let p = pbx();
    let answer = event(&[
        ("Event-Name", "CHANNEL_ANSWER"),
        ("Unique-ID", "00000000-0000-4000-8000-0000000000b2"),
        ("variable_sb_queue_agent", "7"),
        ("variable_dialed_user", "1002"),
    ]);
    let fake = Fake::new().hangs_up_as_answered(vec![answer]);
    let env = p.env(OPEN);
    let mut call = p.call(&fake, &env);
    let told = Arc::new(std::sync::Mutex::new(None));
    let t = told.clone();
    call.in_call.on_answer = Some(Box::new(move |agent| *t.lock().unwrap() = Some(agent)));
    call.in_call.members_ringing = vec!["1002".into()];
    assert!(call.bridge(&format!("[sb_queue_agent=7]user/1002@{DOMAIN}"), false).await.is_err(), "the caller is gone");
    assert_eq!(*told.lock().unwrap(), Some(7), "the agent's answer was seen");
    assert_eq!(call.cdr.extension, "1002", "the member who answered is the record's");
}

/// A greeting uploaded as a system recording (`sound:<id>`) is played from its file under
/// the data directory; another tenant's recording cannot be named at all.
#[tokio::test]
async fn an_uploaded_greeting_is_played_from_the_data_directory() {
    let p = pbx();
    let s = p.store.add_sound(p.acme, "welcome.wav", "sounds/1/welcome.wav", 1000, Some(1.0)).unwrap();
    let id = p.id(&res::IVR_MENUS, "number", "5000");
    p.change(&res::IVR_MENUS, id, json!({ "greeting": format!("sound:{}", s.id) }));
    let mut env = p.env(OPEN);
    env.data_dir = Some("/var/lib/switchboard".into());
    let fake = Fake::new().digits(&[""]);
    let mut call = p.call(&fake, &env);
    let _ = super::run(&mut call, Destination::Ivr { id }).await.unwrap();
    drop(call);
    assert_eq!(sent(&fake.log(), "play_and_get_digits")[0], "play_and_get_digits 1 6 /var/lib/switchboard/sounds/1/welcome.wav");
    let other = crate::store::TenantId(p.store.tenant_by_domain("globex.switchboard.test").unwrap().unwrap().id);
    let theirs = p.store.add_sound(other, "theirs.wav", "sounds/2/theirs.wav", 1000, None).unwrap();
    let refused =
        p.store.update(&res::IVR_MENUS, Within::Tenant(p.acme), None, id, json!({ "greeting": format!("sound:{}", theirs.id) }).as_object().unwrap());
    assert!(refused.is_err(), "another tenant's recording is no greeting here");
}
