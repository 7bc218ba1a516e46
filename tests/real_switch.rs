//! Real calls through a real FreeSWITCH 1.10.12 with real SIP phones (baresip), wired the
//! README's way to a real `switchboard serve --demo` (tests/common/switch.rs). Each test has
//! a lab of its own: its switch, its switchboard, its ports and data. Without a FreeSWITCH
//! installed the suite says so once and its tests return; under CI that fails the run.

mod common;

use std::time::Duration;

use common::switch::{wait_for, Lab};
use serde_json::json;

const RING: Duration = Duration::from_secs(15);

/// 1001 calls 1002 on the demo tenant: the call reaches switchboard, 1002 rings with the
/// extension's directory name, both hear each other, and the record says when it was
/// answered.
#[test]
fn an_extension_calls_another_and_both_hear_each_other() {
    let Some(lab) = Lab::start("ext") else { return };
    let mut a = lab.acme_phone("1001", 440);
    let mut b = lab.acme_phone("1002", 660);
    a.call_answered_by(&mut b);
    let legs = wait_for("two bridged legs", RING, || {
        let ch = lab.channels();
        (ch.len() == 2 && ch.iter().all(|c| c["callstate"] == "ACTIVE")).then_some(ch)
    });
    let b_leg = legs.iter().find(|c| c["direction"] == "outbound").unwrap();
    assert_eq!(b_leg["cid_num"], "1001", "{b_leg}");
    assert_eq!(b_leg["cid_name"], "Reception", "the directory's display name reaches the callee: {b_leg}");
    a.hears_for(2.0);
    b.hears_for(1.0);
    a.hangup();
    a.wait("CALL_CLOSED", RING);
    b.wait("CALL_CLOSED", RING);
    a.heard_tone_of(&b);
    b.heard_tone_of(&a);
    lab.idle();
    let cdr = lab.cdr_where("the call's record", |c| c["caller_number"] == "1001" && c["callee"] == "1002");
    assert_eq!(cdr["disposition"], "answered", "{cdr}");
    let answered: jiff::Timestamp = cdr["answered_at"].as_str().unwrap().parse().unwrap();
    let started: jiff::Timestamp = cdr["started_at"].as_str().unwrap().parse().unwrap();
    let ended: jiff::Timestamp = cdr["ended_at"].as_str().unwrap().parse().unwrap();
    assert!(started <= answered && answered < ended, "answered between start and end: {cdr}");
    assert!(cdr["billsec"].as_i64().unwrap() >= 1, "{cdr}");
    // The detailed record (agent guide 8.1): the codec the caller's leg spoke and its SIP
    // Call-ID, as the real switch reported them on the channel's last event.
    assert!(["PCMU", "PCMA", "G722", "opus", "OPUS"].contains(&cdr["codec"].as_str().unwrap_or("")), "{cdr}");
    assert!(cdr["sip_call_id"].as_str().is_some_and(|c| c.len() > 8), "{cdr}");
    let _ = json!({});
}

/// 1001 calls 1004, which has no phone: the call goes to 1004's voicemail, which answers
/// (a 200 OK, not early media), records what 1001 says, and 1001 then hears it back through
/// *98 with the box and its PIN.
#[test]
fn voicemail_answers_records_and_plays_back() {
    let Some(lab) = Lab::start("vm") else { return };
    let mut a = lab.acme_phone("1001", 440);
    a.dial("sip:1004@acme.switchboard.test");
    a.wait("CALL_ESTABLISHED", RING);
    // mod_voicemail creates the message file when it starts recording (after its greeting
    // and beep); four seconds of the caller's tone make a message (min-record-len is 3).
    let box_dir = lab.dir.join("fs/storage/voicemail/default/acme.switchboard.test/1004");
    wait_for("the message to be recorded for 4 s", Duration::from_secs(40), || {
        let f = std::fs::read_dir(&box_dir).ok()?.flatten().find(|e| e.file_name().to_string_lossy().starts_with("msg_"))?;
        (f.metadata().ok()?.len() > 8000 * 2 * 4).then_some(())
    });
    a.hangup();
    a.wait("CALL_CLOSED", RING);
    wait_for("one new message in 1004's box", Duration::from_secs(20), || {
        lab.fs_cli("vm_boxcount 1004@acme.switchboard.test|all").trim().starts_with("1:").then_some(())
    });
    let cdr = lab.cdr_where("the voicemail call's record", |c| c["callee"] == "1004" && c["caller_number"] == "1001");
    assert_eq!(cdr["disposition"], "voicemail", "{cdr}");
    assert!(cdr["billsec"].as_i64().unwrap() >= 4, "the caller was answered and billed: {cdr}");
    assert!(cdr["answered_at"].is_string(), "{cdr}");
    assert_eq!(cdr["extension"], "1004", "the record names the box's extension, not the caller: {cdr}");
    lab.idle();

    // *98: the box, its PIN, then 1 to listen; the message heard is marked read.
    a.clear();
    a.dial("sip:*98@acme.switchboard.test");
    a.wait("CALL_ESTABLISHED", RING);
    wait_for("mod_voicemail to ask for the box", RING, || lab.channels().iter().any(|c| c["application"] == "voicemail").then_some(()));
    a.keys("1004#");
    a.keys("4321#");
    wait_for("the box to be opened", Duration::from_secs(20), || lab.fs_log().contains("vm-you_have").then_some(()));
    a.keys("1");
    wait_for("the message to be heard (no new message left)", Duration::from_secs(40), || {
        lab.fs_cli("vm_boxcount 1004@acme.switchboard.test|all").trim().starts_with("0:1").then_some(())
    });
    a.hangup();
    a.wait("CALL_CLOSED", RING);
}

/// A trunk created over the API as the guide describes (section 3), with no registration.
fn trunk(lab: &Lab, name: &str, port: u16, caller_id: &str, codecs: &[&str]) -> i64 {
    let (st, v) = lab.request(
        "POST",
        "/api/v1/trunks",
        Some(&lab.root()),
        json!({ "name": name, "host": "127.0.0.1", "port": port, "register": false, "caller_id": caller_id, "codecs": codecs }),
    );
    assert_eq!(st, 201, "{v}");
    v["id"].as_i64().unwrap()
}

/// The gateway's state and status as switchboard reports them.
fn gateway(lab: &Lab, trunk: i64) -> (String, String) {
    let (st, v) = lab.request("GET", "/api/v1/gateways", Some(&lab.root()), serde_json::Value::Null);
    assert_eq!(st, 200, "{v}");
    let g = v["items"].as_array().unwrap().iter().find(|g| g["trunk_id"] == trunk).cloned().unwrap_or_default();
    (g["state"].as_str().unwrap_or("").to_string(), g["status"].as_str().unwrap_or("").to_string())
}

/// A carrier answering +13125550199 behind a G.711 trunk of its own (caller ID
/// +12125550100), which Acme's North America route then uses alone.
fn carrier_behind_the_route(lab: &Lab) -> common::phone::Phone {
    let carrier = lab.carrier("+13125550199", 880);
    let t = trunk(lab, "Carrier", carrier.sip_port, "+12125550100", &["PCMU", "PCMA"]);
    wait_for("the gateway on the switch", RING, || {
        lab.fs_cli(&format!("sofia xmlstatus gateway trunk{t}")).contains("<state>NOREG</state>").then_some(())
    });
    let route = lab.find(&switchboard::store::resources::OUTBOUND_ROUTES, "name", "North America")["id"].as_i64().unwrap();
    let (st, v) = lab.request("PATCH", &format!("/api/v1/outbound-routes/{route}"), Some(&lab.root()), json!({ "trunks": [{ "trunk_id": t }] }));
    assert_eq!(st, 200, "{v}");
    carrier
}

/// 1001 dials a US number: Acme's North America route tries a dead trunk first, fails over
/// to the live one, and the carrier sees the route's caller ID and hears 1001.
#[test]
fn an_outbound_call_fails_over_past_a_dead_trunk_with_the_routes_caller_id() {
    let Some(lab) = Lab::start("out") else { return };
    let mut carrier = lab.carrier("+13125550199", 880);
    let dead_port = common::switch::free_port();
    let dead = trunk(&lab, "Dead carrier", dead_port, "+12125550100", &["PCMU", "PCMA"]);
    let live = trunk(&lab, "Live carrier", carrier.sip_port, "+12125550100", &["PCMU", "PCMA"]);
    for t in [dead, live] {
        wait_for("the new gateway on the switch", RING, || {
            lab.fs_cli(&format!("sofia xmlstatus gateway trunk{t}")).contains("<state>NOREG</state>").then_some(())
        });
        wait_for("switchboard to report the gateway", RING, || (gateway(&lab, t).0 == "NOREG").then_some(()));
    }
    let route = lab.find(&switchboard::store::resources::OUTBOUND_ROUTES, "name", "North America")["id"].as_i64().unwrap();
    let tok = lab.login("tenant@acme.test", "Demo-Tenant-2026");
    let (st, v) = lab.request(
        "PATCH",
        &format!("/api/v1/outbound-routes/{route}"),
        Some(&tok),
        json!({ "caller_id": "+12125550101", "trunks": [{ "trunk_id": dead }, { "trunk_id": live }],
                "failover_causes": ["NORMAL_TEMPORARY_FAILURE", "NO_ROUTE_DESTINATION", "GATEWAY_DOWN", "DESTINATION_OUT_OF_ORDER", "RECOVERY_ON_TIMER_EXPIRE"] }),
    );
    assert_eq!(st, 200, "{v}");
    let mut a = lab.acme_phone("1001", 440);
    a.dial("sip:+13125550199@acme.switchboard.test");
    let inc = carrier.answer();
    assert_eq!(inc["peeruri"], "sip:+12125550101@127.0.0.1", "the carrier sees the route's caller ID: {inc}");
    a.wait("CALL_ESTABLISHED", RING);
    common::phone::talk_then_hang_up(&mut a, &mut carrier);
    let cdr = lab.cdr_where("the outbound record", |c| c["callee"] == "+13125550199");
    assert_eq!(cdr["trunk_id"], live, "{cdr}");
    assert_eq!(cdr["disposition"], "answered", "{cdr}");
    let tried = lab.fs_cli(&format!("sofia xmlstatus gateway trunk{dead}"));
    assert!(tried.contains("<failed-calls-out>1</failed-calls-out>"), "the dead trunk was tried first: {tried}");

    // A trunk edited in the API: its gateway is killed and read again, and switchboard
    // shows what sofia shows (it used to stay DOWN after the kill).
    let (st, v) = lab.request("PATCH", &format!("/api/v1/trunks/{live}"), Some(&lab.root()), json!({ "caller_id": "+12125550100" }));
    assert_eq!(st, 200, "{v}");
    wait_for("the edited gateway back on the switch", RING, || {
        let x = lab.fs_cli(&format!("sofia xmlstatus gateway trunk{live}"));
        (x.contains("<state>NOREG</state>") && x.contains("<status>UP</status>") && x.contains("+12125550100")).then_some(())
    });
    wait_for("switchboard to show it NOREG and UP", RING, || (gateway(&lab, live) == ("NOREG".into(), "UP".into())).then_some(()));

    // The dead trunk's OPTIONS ping (every 30 s, xml_curl.rs) goes unanswered: sofia marks it
    // DOWN and sends it no calls; switchboard says so too (it showed NOREG, as if fine).
    wait_for("the dead gateway DOWN on the switch", Duration::from_secs(75), || {
        lab.fs_cli(&format!("sofia xmlstatus gateway trunk{dead}")).contains("<status>DOWN</status>").then_some(())
    });
    wait_for("switchboard to show it DOWN", RING, || (gateway(&lab, dead) == ("NOREG".into(), "DOWN".into())).then_some(()));
}

/// A G722 desk phone calls a G.711-only carrier and a G.711-only phone: each leg is offered
/// what its far end takes (the trunk's codecs; the profile's list after the caller's), so
/// FreeSWITCH transcodes and both sides hear each other. (Offered the caller's G722 alone,
/// the carrier answered 488 and the caller heard nothing.)
#[test]
fn a_wideband_phone_reaches_narrowband_carriers_and_phones() {
    let Some(lab) = Lab::start("codec") else { return };
    let mut carrier = carrier_behind_the_route(&lab);
    let mut a = lab.phone(common::switch::ACME, "1001", 440, true);
    let mut b = lab.acme_phone("1002", 660);

    a.dial("sip:+13125550199@acme.switchboard.test");
    carrier.answer();
    a.wait("CALL_ESTABLISHED", RING);
    let legs = wait_for("both legs up", RING, || {
        let ch = lab.channels();
        (ch.len() == 2 && ch.iter().all(|c| c["callstate"] == "ACTIVE")).then_some(ch)
    });
    let caller = legs.iter().find(|c| c["direction"] == "inbound").expect("the caller's leg");
    let out = legs.iter().find(|c| c["direction"] == "outbound").expect("the carrier's leg");
    assert_eq!((caller["read_codec"].as_str(), out["read_codec"].as_str()), (Some("G722"), Some("PCMU")), "{legs:?}");
    a.hears_for(1.0);
    carrier.hears_for(1.0);
    a.hangup();
    carrier.wait("CALL_CLOSED", RING);
    carrier.heard_tone_of(&a);
    let (rms, _) = a.heard();
    assert!(rms > 0.05, "the G722 phone heard the carrier: rms {rms}");
    lab.idle();

    a.clear();
    a.call_answered_by(&mut b);
    b.hears_for(1.0);
    a.hears_for(1.0);
    a.hangup();
    b.wait("CALL_CLOSED", RING);
    b.heard_tone_of(&a);
}

/// From a carrier, as Appendix A's "auto-attendant" and "incoming call rings all team
/// members": Acme's main line reaches the IVR, 1 rings the Sales ring group (1001 and
/// 1002 at once), 1002 answers and the caller hears it; then, with today a holiday, the
/// business-hours condition sends the same line to the Reception voicemail.
#[test]
fn a_did_reaches_the_ivr_whose_option_rings_the_team_and_a_holiday_goes_to_voicemail() {
    let Some(lab) = Lab::start("did") else { return };
    let tok = lab.login("tenant@acme.test", "Demo-Tenant-2026");
    let hours = lab.find(&switchboard::store::resources::TIME_CONDITIONS, "name", "Business hours");
    let ivr = lab.find(&switchboard::store::resources::IVR_MENUS, "name", "Main menu")["id"].as_i64().unwrap();
    // Open all day every day (whatever the clock says when the test runs) into the IVR.
    let all_week = json!(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]);
    let (st, v) = lab.request(
        "PATCH",
        &format!("/api/v1/time-conditions/{}", hours["id"]),
        Some(&tok),
        json!({ "weekdays": all_week, "time_ranges": [{ "start": "00:00", "end": "23:59" }], "holidays": [] }),
    );
    assert_eq!(st, 200, "{v}");
    let mut outside = lab.carrier("+13125550111", 880);
    let mut a = lab.acme_phone("1001", 440);
    let mut b = lab.acme_phone("1002", 660);

    outside.dial(&lab.did_uri("+12125550100"));
    outside.wait("CALL_ESTABLISHED", RING);
    wait_for("the IVR's greeting", RING, || {
        lab.channels().iter().any(|c| c["application"] == "play_and_get_digits" || c["application"] == "playback").then_some(())
    });
    outside.keys("1");
    a.wait("CALL_INCOMING", RING);
    b.answer();
    a.wait("CALL_CLOSED", RING);
    b.hears_for(1.0);
    outside.hears_for(2.0);
    outside.hangup();
    b.wait("CALL_CLOSED", RING);
    b.heard_tone_of(&outside);
    let cdr = lab.cdr_where("the inbound record", |c| c["did"] == "+12125550100" && c["disposition"] == "answered");
    assert_eq!(cdr["direction"], "inbound", "{cdr}");
    assert!(cdr["route"].as_str().unwrap().ends_with(&format!("ivr_menus/{ivr} → ring_groups/1")), "{cdr}");
    assert_eq!(cdr["extension"], "1002", "the record is the member's that answered: {cdr}");
    lab.idle();

    // Today (in the tenant's time zone) a holiday: the unmatched destination, voicemail.
    let today = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::get("America/New_York").unwrap()).date().to_string();
    let (st, v) = lab.request(
        "PATCH",
        &format!("/api/v1/time-conditions/{}", hours["id"]),
        Some(&tok),
        json!({ "holidays": [{ "date": today, "name": "Test day" }] }),
    );
    assert_eq!(st, 200, "{v}");
    outside.clear();
    outside.dial(&lab.did_uri("+12125550100"));
    outside.wait("CALL_ESTABLISHED", RING);
    wait_for("the caller in voicemail", RING, || lab.channels().iter().any(|c| c["application"] == "voicemail").then_some(()));
    outside.hangup();
    let cdr = lab.cdr_where("the holiday record", |c| c["did"] == "+12125550100" && c["disposition"] == "voicemail");
    assert_eq!(cdr["extension"], "1001", "Reception's box: {cdr}");
}

/// Click-to-call as the agent's portal does it: 1001's phone rings first, showing the number
/// it is about to call; answered, the number is called out through the route, the carrier
/// sees the route's caller ID and Reception's name (not FreeSWITCH's "Outbound Call"), and
/// the record is 1001's call to that number.
#[test]
fn click_to_call_rings_the_phone_then_calls_out_as_the_extension() {
    let Some(lab) = Lab::start("c2c") else { return };
    let mut carrier = carrier_behind_the_route(&lab);
    let mut a = lab.acme_phone("1001", 440);
    wait_for("switchboard to see 1001 registered", RING, || {
        let (_, v) = lab.request("GET", "/api/v1/registrations", Some(&lab.root()), serde_json::Value::Null);
        v["items"].as_array()?.iter().any(|r| r["user"] == "1001").then_some(())
    });
    let tok = lab.login("tenant@acme.test", "Demo-Tenant-2026");
    let (st, v) = lab.request("POST", "/api/v1/click-to-call", Some(&tok), json!({ "extension": "1001", "number": "+13125550199" }));
    assert_eq!(st, 202, "{v}");
    let ringing = a.answer();
    assert_eq!(ringing["peeruri"].as_str().map(|u| u.starts_with("sip:+13125550199@")), Some(true), "the phone shows the number it calls: {ringing}");
    let inc = carrier.answer();
    assert_eq!(inc["peeruri"], "sip:+12125550100@127.0.0.1", "{inc}");
    assert_eq!(inc["peerdisplayname"], "Reception", "{inc}");
    a.hears_for(1.0);
    carrier.hears_for(1.0);
    carrier.hangup();
    a.wait("CALL_CLOSED", RING);
    a.heard_tone_of(&carrier);
    let cdr = lab.cdr_where("the click-to-call record", |c| c["callee"] == "+13125550199");
    assert_eq!((cdr["caller_number"].as_str(), cdr["caller_name"].as_str()), (Some("1001"), Some("Reception")), "{cdr}");
    assert_eq!((cdr["direction"].as_str(), cdr["disposition"].as_str()), (Some("outbound"), Some("answered")), "{cdr}");
}

/// In a call: *1 records it into the switch's recordings directory (the record names the
/// file, which holds audio), *1 again stops; then the callee's *2 1003 # hands the caller
/// to 1003, who hears them.
#[test]
fn in_call_codes_record_and_blind_transfer() {
    let Some(lab) = Lab::start("incall") else { return };
    let mut a = lab.acme_phone("1001", 440);
    let mut b = lab.acme_phone("1002", 660);
    let mut c = lab.acme_phone("1003", 1000);
    a.call_answered_by(&mut b);
    let uuid = wait_for("the caller's leg", RING, || {
        lab.channels().iter().find(|c| c["direction"] == "inbound" && c["callstate"] == "ACTIVE").map(|c| c["uuid"].as_str().unwrap().to_string())
    });
    let file = lab.dir.join(format!("fs/recordings/acme.switchboard.test/{uuid}-1.wav"));
    a.keys("*1");
    wait_for("the recording to hold two seconds", Duration::from_secs(20), || (std::fs::metadata(&file).ok()?.len() > 8000 * 2 * 2).then_some(()));
    a.keys("*1");
    let stopped = wait_for("the recording to stop growing", Duration::from_secs(10), || {
        let n = std::fs::metadata(&file).ok()?.len();
        std::thread::sleep(Duration::from_millis(600));
        (std::fs::metadata(&file).ok()?.len() == n).then_some(n)
    });
    assert!(stopped > 8000 * 2 * 2, "{stopped}");

    b.keys("*21003#");
    c.answer();
    b.wait("CALL_CLOSED", RING);
    c.hears_for(1.0);
    a.hears_for(2.0);
    c.hangup();
    a.wait("CALL_CLOSED", RING);
    c.heard_tone_of(&a);
    let cdr = lab.cdr_where("the call's record", |c| c["uuid"] == uuid.as_str());
    assert_eq!(cdr["recording_path"], file.to_string_lossy().as_ref(), "{cdr}");
    assert_eq!((cdr["route"].as_str(), cdr["extension"].as_str()), (Some("extensions/2 → transferred → extensions/3"), Some("1003")), "{cdr}");
}

/// The demo as shipped works on a real switch: its trunk (FreeSWITCH's own external profile
/// on loopback, here at the lab's port) is up, and 1001 calling Acme's support number goes
/// out through it and comes back in on that DID, ringing the Sales group.
#[test]
fn the_demo_trunk_carries_a_call_out_and_back_in_on_a_demo_did() {
    let Some(lab) = Lab::start("demo") else { return };
    let demo = lab.find(&switchboard::store::resources::TRUNKS, "name", "DemoCarrier");
    let id = demo["id"].as_i64().unwrap();
    assert_eq!((demo["host"].as_str(), demo["port"].as_i64(), demo["register"].as_bool()), (Some("127.0.0.1"), Some(5080), Some(false)));
    wait_for("the demo gateway NOREG and UP", RING, || (gateway(&lab, id) == ("NOREG".into(), "UP".into())).then_some(()));
    // The lab's external profile is not on 5080.
    assert_eq!(lab.demo_trunk_here(), id);
    let mut a = lab.acme_phone("1001", 440);
    let mut b = lab.acme_phone("1002", 660);
    a.dial("sip:+12125550101@acme.switchboard.test");
    b.answer();
    a.wait("CALL_ESTABLISHED", RING);
    a.hears_for(1.0);
    b.hears_for(1.0);
    a.hangup();
    b.wait("CALL_CLOSED", RING);
    b.heard_tone_of(&a);
    let out = lab.cdr_where("the call out", |c| c["direction"] == "outbound" && c["callee"] == "+12125550101");
    assert_eq!((out["trunk_id"].as_i64(), out["disposition"].as_str()), (Some(id), Some("answered")), "{out}");
    let back = lab.cdr_where("the call back in", |c| c["direction"] == "inbound" && c["did"] == "+12125550101");
    assert_eq!((back["caller_number"].as_str(), back["disposition"].as_str()), (Some("+12125550100"), Some("answered")), "{back}");
}

/// An extension's settings as the API shows them.
fn extension(lab: &Lab, number: &str) -> serde_json::Value {
    let id = lab.find(&switchboard::store::resources::EXTENSIONS, "number", number)["id"].as_i64().unwrap();
    let (st, v) = lab.request("GET", &format!("/api/v1/extensions/{id}"), Some(&lab.root()), serde_json::Value::Null);
    assert_eq!(st, 200, "{v}");
    v
}

/// A feature code dialed from a phone: switchboard answers it, confirms, and hangs up.
fn feature(lab: &Lab, phone: &mut common::phone::Phone, code: &str) {
    phone.clear();
    phone.dial(&format!("sip:{code}@{}", common::switch::ACME));
    phone.wait("CALL_ESTABLISHED", RING);
    phone.wait("CALL_CLOSED", Duration::from_secs(20));
    lab.idle();
}

/// The guide's Appendix B from a phone: *78 sends 1002's calls to its voicemail without
/// ringing it and *79 undoes it; *72 1003 forwards 1002 to 1003 and *73 undoes it; then
/// *8 at 1002 takes the call ringing 1003, and caller and picker hear each other.
#[test]
fn feature_codes_dnd_forward_and_pickup() {
    let Some(lab) = Lab::start("codes") else { return };
    let mut a = lab.acme_phone("1001", 440);
    let mut b = lab.acme_phone("1002", 660);
    let mut c = lab.acme_phone("1003", 1000);

    feature(&lab, &mut b, "*78");
    assert_eq!(extension(&lab, "1002")["dnd"], true);
    a.clear();
    a.dial("sip:1002@acme.switchboard.test");
    a.wait("CALL_ESTABLISHED", RING);
    wait_for("the caller in 1002's voicemail", RING, || lab.channels().iter().any(|c| c["application"] == "voicemail").then_some(()));
    assert_eq!(lab.channels().len(), 1, "no leg to 1002's phone: {:?}", lab.channels());
    a.hangup();
    a.wait("CALL_CLOSED", RING);
    lab.idle();
    assert!(b.try_wait("CALL_INCOMING", Duration::ZERO).is_none(), "1002 rang in DND");
    feature(&lab, &mut b, "*79");
    assert_eq!(extension(&lab, "1002")["dnd"], false);

    feature(&lab, &mut b, "*721003");
    assert_eq!(extension(&lab, "1002")["forward_always"], "1003");
    a.clear();
    // Dialed 1002, answered at 1003.
    a.dial("sip:1002@acme.switchboard.test");
    c.answer();
    a.wait("CALL_ESTABLISHED", RING);
    c.hears_for(1.0);
    a.hangup();
    c.wait("CALL_CLOSED", RING);
    c.heard_tone_of(&a);
    lab.idle();
    assert!(b.try_wait("CALL_INCOMING", Duration::ZERO).is_none(), "1002 rang while forwarded");
    feature(&lab, &mut b, "*73");
    assert_eq!(extension(&lab, "1002")["forward_always"], "");

    // *8: 1003 rings, 1002 takes the call.
    a.clear();
    c.clear();
    a.dial("sip:1003@acme.switchboard.test");
    c.wait("CALL_INCOMING", RING);
    b.clear();
    b.dial("sip:*8@acme.switchboard.test");
    b.wait("CALL_ESTABLISHED", RING);
    a.wait("CALL_ESTABLISHED", RING);
    c.wait("CALL_CLOSED", RING);
    b.hears_for(1.0);
    a.hears_for(1.0);
    a.hangup();
    b.wait("CALL_CLOSED", RING);
    b.heard_tone_of(&a);
    a.heard_tone_of(&b);
    let cdr = lab.cdr_where("the picked-up call's record", |c| c["caller_number"] == "1001" && c["callee"] == "1003");
    assert_eq!(cdr["disposition"], "answered", "{cdr}");
}

/// A call queue on the real switch: the demo agent (1002's user) is on a break (*52), so
/// 1001, calling the queue, is answered onto its music; the agent logs in (*50), the music
/// stops and 1002 rings with the caller's number; the two hear each other and the record
/// is the agent's. Logged out (*51), the queue has nobody and sends the next caller on.
#[test]
fn a_queue_caller_waits_with_music_then_talks_to_the_agent_who_logged_in() {
    let Some(lab) = Lab::start("queue") else { return };
    let mut a = lab.acme_phone("1001", 440);
    let mut b = lab.acme_phone("1002", 660);
    let agent = lab.find(&switchboard::store::resources::EXTENSIONS, "number", "1002")["user_id"].as_i64().unwrap();
    let tenant = lab.find(&switchboard::store::resources::TENANTS, "sip_domain", common::switch::ACME)["id"].clone();
    let body = json!({ "tenant_id": tenant, "name": "Support", "number": "7000", "strategy": "longest_idle", "agent_timeout": 15,
                       "wrap_up": 0, "wait_without_agents": false, "no_agents_destination": { "type": "hangup", "cause": "USER_BUSY" },
                       "agents": [{ "user_id": agent, "tier": 1 }] });
    let (st, v) = lab.request("POST", "/api/v1/call-queues", Some(&lab.root()), body);
    assert_eq!(st, 201, "{v}");
    feature(&lab, &mut b, "*52");
    a.clear();
    a.dial(&format!("sip:7000@{}", common::switch::ACME));
    a.wait("CALL_ESTABLISHED", RING);
    let established = std::time::Instant::now();
    let waiting = wait_for("the caller on the queue's music", RING, || {
        lab.channels().into_iter().find(|c| c["cid_num"] == "1001" && c["application"] == "playback")
    });
    assert!(waiting["application_data"].as_str().unwrap_or("").contains("_stream://"), "{waiting}");
    a.hears_for(1.0);
    // *50 while the caller waits (the switch is not idle: no `feature`).
    b.clear();
    b.dial(&format!("sip:*50@{}", common::switch::ACME));
    b.wait("CALL_ESTABLISHED", RING);
    b.wait("CALL_CLOSED", Duration::from_secs(20));
    let incoming = b.answer();
    assert!(incoming.to_string().contains("1001"), "the agent sees the caller: {incoming}");
    // The agent's leg carries who it rang for (a dial string's [] variables are the leg's
    // channel variables): whichever leg answers names the agent.
    let leg = wait_for("the agent's leg", RING, || lab.channels().into_iter().find(|c| c["direction"] == "outbound"));
    let tagged = lab.fs_cli(&format!("uuid_getvar {} sb_queue_agent", leg["uuid"].as_str().unwrap()));
    assert_eq!(tagged.trim(), agent.to_string(), "{leg}");
    // 1001's recording starts with the music: the agent's tone is checked after it.
    let talking_from = established.elapsed().as_secs_f64() + 0.5;
    a.hears_for(talking_from + 1.5);
    b.hears_for(1.0);
    a.hangup();
    b.wait("CALL_CLOSED", RING);
    b.heard_tone_of(&a);
    a.heard_tone_in(&b, talking_from, 1.0);
    lab.idle();
    let cdr = lab.cdr_where("the queue call's record", |c| c["caller_number"] == "1001" && c["callee"] == "7000");
    assert_eq!((cdr["disposition"].as_str(), cdr["extension"].as_str()), (Some("answered"), Some("1002")), "{cdr}");
    let visit = &cdr["queue_visits"][0];
    assert_eq!((visit["outcome"].as_str(), visit["agent_id"].as_i64()), (Some("answered"), Some(agent)), "{cdr}");

    feature(&lab, &mut b, "*51");
    a.clear();
    a.dial(&format!("sip:7000@{}", common::switch::ACME));
    a.wait("CALL_CLOSED", RING);
    assert!(a.try_wait("CALL_ESTABLISHED", Duration::ZERO).is_none(), "nobody logged in: the queue does not answer");
    assert!(b.try_wait("CALL_INCOMING", Duration::ZERO).is_none(), "a logged-out agent is not rung");
}

/// Members in a conference room, as mod_conference counts them (0: no such room).
fn members(lab: &Lab, room: &str) -> usize {
    let out = lab.fs_cli(&format!("conference {room} list count"));
    out.trim().parse().unwrap_or(0)
}

/// A conference with a PIN, made over the API: two callers who key the PIN are in the room
/// and hear each other; one who keys a wrong PIN three times is turned away and never joins.
#[test]
fn a_conference_with_a_pin_joins_those_who_know_it() {
    let Some(lab) = Lab::start("conf") else { return };
    let tok = lab.login("tenant@acme.test", "Demo-Tenant-2026");
    let (st, v) = lab.request("POST", "/api/v1/conferences", Some(&tok), json!({ "name": "Weekly", "number": "3100", "pin": "2468" }));
    assert_eq!(st, 201, "{v}");
    let room = "3100-acme.switchboard.test";
    let mut a = lab.acme_phone("1001", 440);
    let mut b = lab.acme_phone("1002", 660);
    let mut c = lab.acme_phone("1003", 1000);
    a.dial("sip:3100@acme.switchboard.test");
    a.wait("CALL_ESTABLISHED", RING);
    wait_for("the PIN prompt", RING, || lab.fs_log().contains("conf-pin.wav").then_some(()));
    // No '#': it is the hang-up key of the stock caller controls once in the room.
    a.keys("2468");
    wait_for("1001 in the room", RING, || (members(&lab, room) == 1).then_some(()));
    b.dial("sip:3100@acme.switchboard.test");
    b.wait("CALL_ESTABLISHED", RING);
    b.keys("2468");
    wait_for("1002 in the room", RING, || (members(&lab, room) == 2).then_some(()));
    let (from_a, from_b) = (a.heard_secs(), b.heard_secs());
    a.hears_for(from_a + 3.0);
    b.hears_for(from_b + 3.0);
    a.heard_tone_in(&b, from_a + 1.0, 2.0);
    b.heard_tone_in(&a, from_b + 1.0, 2.0);

    // The room live, as mod_conference's events told the model: both members; 1001 muted
    // by the moderator (the switch stops taking her audio: no `speak` in its own list),
    // then unmuted; the room locked and unlocked.
    let live = format!("/api/v1/conferences/{}/live", v["id"]);
    let get = || lab.request("GET", &live, Some(&tok), json!(null)).1;
    let member = |v: &serde_json::Value, n: &str| v["members"].as_array().unwrap().iter().find(|m| m["caller_number"] == n).cloned();
    let now = wait_for("both members in the live view", RING, || {
        let v = get();
        (member(&v, "1001").is_some() && member(&v, "1002").is_some()).then_some(v)
    });
    let ann = member(&now, "1001").unwrap()["id"].as_u64().unwrap();
    let (st, r) = lab.request("POST", &live, Some(&tok), json!({ "action": "mute", "member": ann }));
    assert_eq!((st, r["reply"].as_str()), (200, Some(format!("+OK mute {ann}").as_str())), "{r}");
    wait_for("1001 shown muted", RING, || (member(&get(), "1001").unwrap()["muted"] == true).then_some(()));
    let listed = lab.fs_cli(&format!("conference {room} list"));
    let line = listed.lines().find(|l| l.starts_with(&format!("{ann};"))).unwrap_or_else(|| panic!("{listed}"));
    assert!(!line.split(';').nth(5).unwrap_or("").contains("speak"), "the switch mutes her: {line}");
    let (st, _) = lab.request("POST", &live, Some(&tok), json!({ "action": "unmute", "member": ann }));
    assert_eq!(st, 200);
    wait_for("1001 shown unmuted", RING, || (member(&get(), "1001").unwrap()["muted"] == false).then_some(()));
    for (action, locked) in [("lock", true), ("unlock", false)] {
        let (st, r) = lab.request("POST", &live, Some(&tok), json!({ "action": action }));
        assert_eq!(st, 200, "{r}");
        wait_for("the lock shown", RING, || (get()["locked"] == locked).then_some(()));
    }

    let count = |what: &str| lab.fs_log().matches(what).count();
    let mut prompts = count("conf-pin.wav");
    c.dial("sip:3100@acme.switchboard.test");
    c.wait("CALL_ESTABLISHED", RING);
    for _ in 0..3 {
        wait_for("the next PIN prompt", RING, || (count("conf-pin.wav") > prompts).then_some(()));
        let bad = count("conf-bad-pin.wav");
        c.keys("9999");
        wait_for("the wrong-PIN message", RING, || (count("conf-bad-pin.wav") > bad).then_some(()));
        prompts = count("conf-pin.wav");
    }
    c.wait("CALL_CLOSED", Duration::from_secs(30));
    assert_eq!(members(&lab, room), 2, "the caller with the wrong PIN never joined");
    a.hangup();
    b.hangup();
    a.wait("CALL_CLOSED", RING);
    b.wait("CALL_CLOSED", RING);
    lab.idle();
    assert_eq!(get()["members"], json!([]), "the room is gone with its last member");
    let cdr = lab.cdr_where("a member's record", |c| c["caller_number"] == "1002" && c["callee"] == "3100");
    assert_eq!(cdr["disposition"], "answered", "{cdr}");
}

/// *4: 1002, in a call from 1001, keys *4 1003 #: 1001 waits on hold while 1002 talks to
/// 1003; when 1002 hangs up, 1001 and 1003 are put through and hear each other.
#[test]
fn attended_transfer_consults_then_joins() {
    let Some(lab) = Lab::start("attxfer") else { return };
    let mut a = lab.acme_phone("1001", 440);
    let mut b = lab.acme_phone("1002", 660);
    let mut c = lab.acme_phone("1003", 1000);
    a.call_answered_by(&mut b);
    b.hears_for(1.0);
    b.keys("*41003#");
    c.answer();
    let from_c = c.heard_secs();
    c.hears_for(from_c + 2.5);
    c.heard_tone_in(&b, from_c + 0.5, 2.0);
    b.hangup();
    b.wait("CALL_CLOSED", RING);
    let from_c = c.heard_secs();
    let from_a = a.heard_secs();
    c.hears_for(from_c + 2.5);
    a.hears_for(from_a + 2.5);
    c.heard_tone_in(&a, from_c + 0.5, 2.0);
    a.heard_tone_in(&c, from_a + 0.5, 2.0);
    c.hangup();
    a.wait("CALL_CLOSED", RING);
    lab.idle();
    let cdr = lab.cdr_where("the call's record", |c| c["caller_number"] == "1001" && c["callee"] == "1002");
    assert!(cdr["route"].as_str().unwrap().contains("attended transfer to 1003"), "{cdr}");
}

/// A prepaid tenant capped at one call, with credit for 30 seconds of a call out: the call
/// out holds the only slot (a second call is refused, the phone it dialed never rings);
/// switchboard is killed mid-call and the call goes on; started again, switchboard counts the
/// call against the cap; the switch itself cuts the call when its 30 seconds run out, and
/// the tenant is charged those 30 seconds, once.
#[test]
fn a_prepaid_call_outlives_a_crash_counts_against_the_cap_and_is_cut_at_its_credit() {
    use switchboard::store::ledger::Payment;
    use switchboard::store::resource::{Actor, Within};
    use switchboard::store::{resources as res, TenantId};
    let Some(mut lab) = Lab::start("prepaid") else { return };
    let obj = |v: serde_json::Value| v.as_object().unwrap().clone();
    let admin = Actor { user_id: 0, admin: true, enforce_packages: false };
    let acme = TenantId(lab.find(&res::TENANTS, "sip_domain", common::switch::ACME)["id"].as_i64().unwrap());
    // 1.00 a minute by the second; no free minutes; 0.50 of credit: 30 seconds.
    let rates = json!([{ "direction": "outbound", "prefix": "1", "per_minute": 1_000_000, "first_increment": 1, "next_increment": 1 }]);
    let plan = lab.store.create(&res::RATE_PLANS, None, &admin, &obj(json!({ "name": "Retail", "rates": rates }))).unwrap()["id"].as_i64().unwrap();
    let change = obj(json!({ "credit_policy": "prepaid", "rate_plan_id": plan, "max_concurrent_calls": 1 }));
    lab.store.update(&res::TENANTS, Within::Everything, None, acme.0, &change).unwrap();
    let pkg = lab.store.create(&res::PACKAGES, None, &admin, &obj(json!({ "name": "No minutes" }))).unwrap()["id"].as_i64().unwrap();
    lab.store.subscribe(acme, pkg).unwrap();
    let opening = lab.store.credit(acme).unwrap().balance;
    let payment = Payment { amount: 500_000 - opening, payment_type: "cash".into(), date: String::new(), note: String::new(), user_id: None };
    lab.store.pay(acme, &payment).unwrap();

    let mut carrier = carrier_behind_the_route(&lab);
    let mut a = lab.acme_phone("1001", 440);
    let mut b = lab.acme_phone("1002", 660);
    let mut c = lab.acme_phone("1003", 1000);
    a.dial("sip:+13125550199@acme.switchboard.test");
    carrier.answer();
    let answered = std::time::Instant::now();
    a.wait("CALL_ESTABLISHED", RING);
    carrier.hears_for(1.0);
    assert_eq!(lab.store.credit(acme).unwrap().held, 500_000, "the call holds all the credit there is");

    let over_cap = |b: &mut common::phone::Phone, c: &mut common::phone::Phone, what: &str| {
        b.clear();
        b.dial("sip:1003@acme.switchboard.test");
        let closed = b.wait("CALL_CLOSED", RING);
        assert!(c.try_wait("CALL_INCOMING", Duration::ZERO).is_none(), "{what}: 1003 rang over the cap");
        closed
    };
    let closed = over_cap(&mut b, &mut c, "while switchboard runs");
    assert!(closed["param"].as_str().unwrap_or("").contains("486"), "busy: {closed}");
    let cdr = lab.cdr_where("the refused call's record", |c| c["caller_number"] == "1002" && c["callee"] == "1003");
    assert_eq!((cdr["disposition"].as_str(), cdr["hangup_cause"].as_str()), (Some("failed"), Some("USER_BUSY")), "{cdr}");

    lab.kill_switchboard();
    let from = carrier.heard_secs();
    carrier.hears_for(from + 2.0);
    carrier.heard_tone_in(&a, from + 0.5, 1.5);
    lab.restart_switchboard();
    wait_for("the new switchboard to count the call", Duration::from_secs(30), || {
        lab.log().lines().any(|l| l.contains("counted calls up on the switch that no task owns")).then_some(())
    });
    over_cap(&mut b, &mut c, "after the restart");

    carrier.wait("CALL_CLOSED", Duration::from_secs(40));
    let lasted = answered.elapsed().as_secs_f64();
    assert!((29.0..36.0).contains(&lasted), "the switch cut the call at its 30 s: {lasted:.1} s");
    a.wait("CALL_CLOSED", RING);
    assert!(lab.fs_log().contains("ALLOTTED_TIMEOUT"), "the switch's sched_hangup ended it");
    let credit = wait_for("the call's reservation settled", Duration::from_secs(30), || {
        let c = lab.store.credit(acme).unwrap();
        (c.held == 0).then_some(c)
    });
    assert_eq!(credit.balance, 0, "charged its 30 seconds, once: {credit:?}");

    // The slot is free again.
    lab.idle();
    b.clear();
    b.call_answered_by(&mut c);
    b.hangup();
    c.wait("CALL_CLOSED", RING);
}

/// The UI's softphone (tests/ui/softphone.mjs in headless Chromium), driven line by line.
struct Softphone {
    node: std::process::Child,
    input: std::process::ChildStdin,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Softphone {
    fn start(lab: &Lab, ws: &str, tone: &std::path::Path) -> Softphone {
        use std::io::BufRead;
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut node = std::process::Command::new("node")
            .arg(root.join("tests/ui/softphone.mjs"))
            .arg(format!("http://{}", lab.http))
            .arg(ws)
            .arg(tone)
            .current_dir(root)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("node runs");
        common::switch::tether(node.id());
        let input = node.stdin.take().unwrap();
        let out = node.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for l in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                println!("softphone: {l}");
                if let Some(l) = l.strip_prefix("SP ") {
                    let _ = tx.send(l.to_string());
                }
            }
        });
        let mut sp = Softphone { node, input, lines };
        sp.expect("registered");
        sp
    }

    fn expect(&mut self, what: &str) -> String {
        let line = self.lines.recv_timeout(Duration::from_secs(40)).unwrap_or_else(|_| panic!("the softphone said nothing, waiting for {what}"));
        assert!(line.starts_with(what), "the softphone: {line} (waiting for {what})");
        line[what.len()..].trim().to_string()
    }

    fn tell(&mut self, cmd: &str) {
        use std::io::Write;
        writeln!(self.input, "{cmd}").unwrap();
    }

    fn send(&mut self, cmd: &str, then: &str) -> String {
        self.tell(cmd);
        self.expect(then)
    }
}

impl Drop for Softphone {
    fn drop(&mut self) {
        let _ = self.node.kill();
        let _ = self.node.wait();
    }
}

/// The web UI's softphone in headless Chromium, signed in as the demo agent: it registers
/// 1002 over the switch's WebSocket, calls 1001 (a desk phone) and is answered; each hears
/// the other (the browser's microphone plays a 550 Hz tone), then it is called by 1001 and
/// answers.
#[test]
fn the_browser_softphone_calls_a_desk_phone_and_is_called() {
    let Some(lab) = Lab::start("webrtc") else { return };
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let ready = std::path::Path::new("/usr/bin/chromium").exists() && root.join("node_modules/playwright-core").exists();
    if !ready {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI: the browser softphone test needs Debian's chromium and npm ci");
        eprintln!("SKIPPED: the browser softphone test needs /usr/bin/chromium and `npm ci`");
        return;
    }
    let tone = lab.dir.join("browser-550.wav");
    let ok = std::process::Command::new("sox")
        .args(["-n", "-r", "48000", "-c", "1", "-b", "16"])
        .arg(&tone)
        .args(["synth", "60", "sine", "550", "vol", "0.5"])
        .status()
        .unwrap();
    assert!(ok.success());
    let mut a = lab.acme_phone("1001", 440);
    // The stock internal profile's plain WebSocket (ws-binding :5066); loopback is a secure
    // context, so the page may use the microphone over http.
    let mut sp = Softphone::start(&lab, "ws://127.0.0.1:5066", &tone);
    let reg = wait_for("1002 in the switch's registrations", RING, || {
        let v: serde_json::Value = serde_json::from_str(lab.fs_cli("show registrations as json").trim()).ok()?;
        v["rows"].as_array()?.iter().find(|r| r["reg_user"] == "1002").cloned()
    });
    assert!(reg["url"].as_str().unwrap_or("").contains("transport=ws"), "1002 registered over the WebSocket: {reg}");

    sp.tell("call 1001");
    a.answer();
    sp.expect("in-call");
    a.hears_for(2.0);
    let legs = lab.channels();
    let browser = legs.iter().find(|c| c["direction"] == "inbound").cloned().unwrap_or_default();
    assert_eq!(browser["cid_num"], "1002", "{browser}");
    let stats: serde_json::Value = serde_json::from_str(&sp.send("stats", "stats")).unwrap();
    assert!(
        stats["packetsReceived"].as_u64().unwrap_or(0) > 50 && stats["totalAudioEnergy"].as_f64().unwrap_or(0.0) > 0.0,
        "the browser hears 1001: {stats}"
    );
    sp.send("hangup", "ended");
    a.wait("CALL_CLOSED", RING);
    a.heard_hz(550, "the browser");
    lab.idle();
    let cdr = lab.cdr_where("the softphone's record", |c| c["caller_number"] == "1002" && c["callee"] == "1001");
    assert_eq!(cdr["disposition"], "answered", "{cdr}");

    a.clear();
    a.dial("sip:1002@acme.switchboard.test");
    sp.send("answer", "in-call");
    a.wait("CALL_ESTABLISHED", RING);
    a.hears_for(2.0);
    a.hangup();
    a.wait("CALL_CLOSED", RING);
    a.heard_hz(550, "the browser");
    sp.tell("quit");
}

/// What a scripted call showed switchboard: the connect data it reads, the events its
/// session got (whose leg, and which application completed), what the bridge and the hangup
/// reported. Values that differ by nature (UUIDs, times, addresses) are kept as `<set>`.
async fn scripted_call(listener: tokio::net::TcpListener, callee: String) -> Vec<String> {
    use switchboard::esl::{OutboundOptions, OutboundSession};
    let (stream, _) = listener.accept().await.unwrap();
    let opts = OutboundOptions { events: switchboard::call::route::EVENTS.iter().map(|e| e.to_string()).collect(), ..Default::default() };
    let s = OutboundSession::start(stream, &opts).await.unwrap();
    let mut events = s.connection().subscribe();
    let mut out = Vec::new();
    let ch = s.channel();
    for v in ["hangup_after_bridge", "socket_resume"] {
        out.push(format!("connect variable_{v}={}", ch.variable(v).unwrap_or_default()));
    }
    let exact =
        ["Caller-Caller-ID-Number", "Caller-Destination-Number", "Caller-Context", "Call-Direction", "Socket-Mode", "Control", "Answer-State"];
    for h in exact {
        out.push(format!("connect {h}={}", ch.get(h).unwrap_or_default()));
    }
    let set = |v: Option<std::borrow::Cow<'_, str>>| if v.is_some_and(|v| !v.is_empty()) { "<set>" } else { "<none>" };
    for h in ["Unique-ID", "Channel-Name", "Caller-Caller-ID-Name", "Channel-Read-Codec-Name"] {
        out.push(format!("connect {h}={}", set(ch.get(h))));
    }
    out.push(format!("connect variable_sofia_profile_name={}", ch.variable("sofia_profile_name").unwrap_or_default()));
    for v in ["domain_name", "sip_from_host", "effective_caller_id_number", "effective_caller_id_name"] {
        out.push(format!("connect variable_{v}={}", set(ch.variable(v))));
    }
    let me = s.uuid().to_string();
    s.answer().await.unwrap();
    s.set_var("sb_script", "1").await.unwrap();
    let played = s.playback("tone_stream://%(400,0,440)").await.unwrap();
    out.push(format!("playback Application-Response={}", played.get("Application-Response").unwrap_or_default()));
    match s.execute("bridge", Some(&callee)).await {
        Ok(ev) => out.push(format!("bridge returned originate_disposition={}", ev.variable("originate_disposition").unwrap_or_default())),
        Err(e) => out.push(format!("bridge ended by {e}")),
    }
    // The wired dialplan sets hangup_after_bridge: the caller follows the callee out.
    let _ = s.connection().status_watch().wait_for(|st| st.hangup.is_some()).await;
    out.push(format!("after the bridge: caller hung up={}", s.status().hangup.is_some()));
    let done = s.hangup_complete(Duration::from_secs(5)).await.expect("CHANNEL_HANGUP_COMPLETE");
    out.push(format!("hangup Hangup-Cause={}", done.get("Hangup-Cause").unwrap_or_default()));
    out.push(format!("hangup billsec>0={}", done.variable("billsec").and_then(|b| b.parse::<i64>().ok()).is_some_and(|b| b > 0)));
    out.push(format!("hangup Caller-Channel-Answered-Time={}", set(done.get("Caller-Channel-Answered-Time").filter(|t| t != "0"))));
    out.push(format!("hangup variable_originate_disposition={}", done.variable("originate_disposition").unwrap_or_default()));
    s.finish(Duration::from_secs(2)).await;
    while let Ok(ev) = events.try_recv() {
        let name = ev.name().unwrap_or_default().into_owned();
        let whose = if ev.get("Unique-ID").as_deref() == Some(me.as_str()) { "caller" } else { "other" };
        let app = ev.get("Application").map(|a| format!(" {a}")).unwrap_or_default();
        out.push(format!("event {whose} {name}{app}"));
    }
    out
}

/// The differential test: one scripted call (a carrier's call answered, a variable set, a
/// tone played, a bridge to another carrier endpoint that answers and hangs up, then the
/// hangup) on the simulator and on the real switch, through the same session code. What
/// switchboard reads must be the same on both.
#[test]
fn the_simulator_and_the_switch_agree_on_a_scripted_call() {
    let Some(mut lab) = Lab::start("diff") else { return };
    let mut caller = lab.carrier("+13125550199", 440);
    let mut callee = lab.carrier("+15550001111", 880);
    let endpoint = format!("sofia/external/+15550001111@127.0.0.1:{}", callee.sip_port);

    // The real switch: switchboard stops, the script takes its socket. The switch's
    // xml_curl look-ups then fail and it falls back to the wired public.xml, which hands the
    // call to the same socket.
    lab.kill_switchboard();
    let listener = lab.rt.block_on(tokio::net::TcpListener::bind(lab.outbound)).unwrap();
    let script = lab.rt.spawn(scripted_call(listener, endpoint.clone()));
    caller.dial(&lab.did_uri("+12125550100"));
    caller.wait("CALL_ESTABLISHED", RING);
    callee.answer();
    callee.hears_for(1.0);
    callee.hangup();
    caller.wait("CALL_CLOSED", RING);
    let real = lab.rt.block_on(script).unwrap();

    // The simulator, the same call.
    let sim = lab.rt.block_on(async {
        let switch = switchboard::sim::Switch::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let script = tokio::spawn(scripted_call(listener, endpoint.clone()));
        let mut s = common::pbx::from_trunk("+12125550100", "+13125550199");
        s.targets = std::collections::BTreeMap::from([(endpoint.clone(), common::pbx::answers(1000))]);
        s.hangup_after_ms = None;
        let _ = switch.call(addr, std::sync::Arc::new(s)).await;
        script.await.unwrap()
    });
    let width = real.iter().map(String::len).max().unwrap_or(0);
    let table: Vec<String> = (0..real.len().max(sim.len()))
        .map(|i| {
            let (r, s) = (real.get(i).map_or("", String::as_str), sim.get(i).map_or("", String::as_str));
            format!("{} {r:width$} | {s}", if r == s { " " } else { "≠" })
        })
        .collect();
    assert_eq!(real, sim, "real switch | simulator:\n{}", table.join("\n"));
}

/// *411, the dial-by-name directory: 1001 keys J-A-N, hears Jane User spelled with her
/// extension, presses 1 and is put through to 1003, and they hear each other.
#[test]
fn the_directory_puts_the_caller_through_by_name() {
    let Some(lab) = Lab::start("dir") else { return };
    let mut a = lab.acme_phone("1001", 440);
    let mut c = lab.acme_phone("1003", 1000);
    a.dial("sip:*411@acme.switchboard.test");
    a.wait("CALL_ESTABLISHED", RING);
    wait_for("the directory's prompt", RING, || lab.fs_log().contains("dir-enter_person_first_or_last").then_some(()));
    a.keys("526");
    wait_for("Jane offered, at her extension", Duration::from_secs(30), || lab.fs_log().contains("dir-to_select_entry").then_some(()));
    a.keys("1");
    c.answer();
    c.hears_for(1.0);
    a.hears_for(a.heard_secs() + 1.0);
    a.hangup();
    c.wait("CALL_CLOSED", RING);
    c.heard_tone_of(&a);
    let cdr = lab.cdr_where("the directory call's record", |r| r["caller_number"] == "1001" && r["callee"] == "*411");
    assert_eq!((cdr["disposition"].as_str(), cdr["extension"].as_str()), (Some("answered"), Some("1003")), "{cdr}");
}

/// The realtime monitor's controls on a live call, as the tenant admin uses them: the call
/// is listed, hold puts the caller on hold on the switch (HELD, and the monitor says so),
/// unhold takes it off (ACTIVE), and hang-up ends the call on both phones.
#[test]
fn the_monitor_lists_holds_and_hangs_up_a_live_call() {
    let Some(lab) = Lab::start("monitor") else { return };
    let mut a = lab.acme_phone("1001", 440);
    let mut b = lab.acme_phone("1002", 660);
    a.call_answered_by(&mut b);
    let tok = lab.login("tenant@acme.test", "Demo-Tenant-2026");
    let listed = |lab: &Lab| {
        let (st, v) = lab.request("GET", "/api/v1/channels", Some(&tok), serde_json::Value::Null);
        assert_eq!(st, 200, "{v}");
        v["items"].as_array().cloned().unwrap_or_default()
    };
    let caller = wait_for("both legs listed", RING, || {
        let items = listed(&lab);
        (items.len() == 2).then(|| items.into_iter().find(|c| c["direction"] == "inbound"))?
    });
    let uuid = caller["uuid"].as_str().unwrap().to_string();
    let callstate = |lab: &Lab| lab.channels().iter().find(|c| c["uuid"] == uuid.as_str()).map(|c| c["callstate"].as_str().unwrap_or("").to_string());

    // Each step waits for the phone to have taken the switch's re-INVITE, as a person's
    // clicks would: a hold, unhold and hang-up within the same few hundred milliseconds were
    // seen to leave the phone's BYE unsent.
    a.hears_for(1.0);
    a.clear();
    let (st, v) = lab.request("POST", "/api/v1/channels/hold", Some(&tok), json!({ "uuid": uuid, "hold": true }));
    assert_eq!(st, 200, "{v}");
    a.wait("CALL_REMOTE_SDP", RING);
    wait_for("the switch to hold the caller", RING, || (callstate(&lab).as_deref() == Some("HELD")).then_some(()));
    wait_for("the monitor to show it held", RING, || listed(&lab).iter().any(|c| c["uuid"] == uuid.as_str() && c["held"] == true).then_some(()));
    let (st, v) = lab.request("POST", "/api/v1/channels/hold", Some(&tok), json!({ "uuid": uuid, "hold": false }));
    assert_eq!(st, 200, "{v}");
    a.wait("CALL_REMOTE_SDP", RING);
    wait_for("the switch to take the caller off hold", RING, || (callstate(&lab).as_deref() == Some("ACTIVE")).then_some(()));
    wait_for("the monitor to show it unheld", RING, || listed(&lab).iter().any(|c| c["uuid"] == uuid.as_str() && c["held"] == false).then_some(()));

    let (st, v) = lab.request("POST", "/api/v1/channels/hangup", Some(&tok), json!({ "uuid": uuid }));
    assert_eq!(st, 200, "{v}");
    a.wait("CALL_CLOSED", RING);
    b.wait("CALL_CLOSED", RING);
    lab.idle();
    wait_for("the monitor to drop the call", RING, || listed(&lab).is_empty().then_some(()));
}

/// Values stored before switchboard refused FreeSWITCH variable references (written straight
/// into its database, as such old data would be) reach the real switch as data. A trunk's
/// user name, which sofia uses as it is, arrives literally: the switch's preprocessor
/// substituted none of its `$${default_password}`. A display name, which sofia puts on the
/// caller's channel, arrives with its references defused (`$` → `%`, as FreeSWITCH cleans a
/// caller's name), so no later expansion of the variable can run them. Neither carries the
/// switch's secret.
#[test]
fn the_switch_reads_stored_values_without_expanding_them() {
    let Some(lab) = Lab::start("fsxml") else { return };
    let secret = lab.fs_cli("global_getvar default_password").trim().to_string();
    assert!(!secret.is_empty() && !secret.starts_with("-ERR"), "the stock vars.xml sets default_password: {secret:?}");
    let raw = |sql: &str, value: &str, key: &str| {
        let n = lab.store.conn().unwrap().execute(sql, (value, key)).unwrap();
        assert_eq!(n, 1, "{sql}");
    };

    raw(
        "UPDATE extensions SET display_name = ?1 WHERE number = '1001' AND tenant_id = (SELECT id FROM tenants WHERE sip_domain = ?2)",
        "a$${default_password}b${system(id)}",
        common::switch::ACME,
    );
    let name = lab.fs_cli(&format!("user_data 1001@{} var effective_caller_id_name", common::switch::ACME));
    assert_eq!(name.trim(), "a$%{default_password}b%{system(id)}", "as the switch reads it from the directory");

    let t = trunk(&lab, "Old carrier", 5999, "", &["PCMU"]);
    wait_for("the new gateway on the switch", RING, || lab.fs_cli(&format!("sofia status gateway trunk{t}")).contains("Username").then_some(()));
    raw("UPDATE trunks SET username = ?1 WHERE id = CAST(?2 AS INTEGER)", "u$${default_password}x", &t.to_string());
    // An admin edits the old trunk: switchboard has sofia read its gateway again.
    let (st, v) = lab.request("PATCH", &format!("/api/v1/trunks/{t}"), Some(&lab.root()), json!({ "max_channels": 5 }));
    assert_eq!(st, 200, "{v}");
    let user = wait_for("the gateway read again", RING, || {
        let st = lab.fs_cli(&format!("sofia status gateway trunk{t}"));
        let line = st.lines().find(|l| l.starts_with("Username"))?.to_string();
        line.contains("default_password").then_some(line)
    });
    assert_eq!(user.split_whitespace().nth(1), Some("u$${default_password}x"), "{user}");
    assert!(!user.contains(&format!("u{secret}x")));
}

/// Acme's fax line: extension 1900 (type fax), on the support DID +12125550101. Acme's id.
fn fax_line(lab: &Lab) -> switchboard::store::TenantId {
    use switchboard::store::resource::{ListQuery, Within};
    use switchboard::store::resources as res;
    let acme = switchboard::store::TenantId(lab.find(&res::TENANTS, "sip_domain", common::switch::ACME)["id"].as_i64().unwrap());
    let admin = switchboard::store::resource::Actor { user_id: 0, admin: true, enforce_packages: false };
    let obj = |v: serde_json::Value| v.as_object().unwrap().clone();
    let fax =
        lab.store.create(&res::EXTENSIONS, Some(acme), &admin, &obj(json!({ "number": "1900", "display_name": "Fax", "type": "fax" }))).unwrap()
            ["id"]
            .as_i64()
            .unwrap();
    let did = lab.find(&res::DIDS, "number", "+12125550101")["id"].as_i64().unwrap();
    let q = ListQuery { page: 1, per_page: 50, filters: vec![("did_id".into(), did.to_string())], ..Default::default() };
    let route = lab.store.list(&res::INBOUND_ROUTES, Within::Tenant(acme), None, &q).unwrap().items[0]["id"].as_i64().unwrap();
    lab.store.update(&res::INBOUND_ROUTES, Within::Tenant(acme), None, route, &obj(json!({ "destination": { "type": "fax", "id": fax } }))).unwrap();
    acme
}

/// A fax through the real switch, both ways of the conversion on spandsp's side: a
/// document rendered here (a PDF made with lopdf → our G4 TIFF) is sent by FreeSWITCH's
/// own `txfax` to Acme's support DID, which routes to the fax line; switchboard's `rxfax`
/// receives it, keeps spandsp's TIFF as a PDF with both pages, logs it with spandsp's
/// result and the sender's station ID, and queues its mail.
#[test]
fn a_fax_sent_by_the_switch_to_the_fax_line_arrives_as_a_pdf() {
    let Some(lab) = Lab::start("fax") else { return };
    let acme = fax_line(&lab);
    let settings =
        switchboard::store::fax::FaxSettings { delivery_email: "faxes@acme.test".into(), station_id: "ACME FAX".into(), ..Default::default() };
    lab.store.set_fax_settings(acme, &settings).unwrap();

    // Two pages: a box on the first, a wide bar on the second.
    let page = |content: &str| (595.0, 842.0, content.to_string());
    let document = common::pdf::pages(&[page("0 g 72 600 144 144 re f"), page("0 g 72 400 450 40 re f")]);
    let (tiff, pages) = switchboard::fax::pdf_to_tiff(&document, switchboard::fax::Resolution::Fine, 10).unwrap();
    assert_eq!(pages, 2);
    let file = lab.dir.join("send.tif");
    std::fs::write(&file, &tiff).unwrap();
    let out = lab.fs_cli(&format!(
        "bgapi originate {{origination_caller_id_number=+15559876543,fax_ident=SENDER-FAX,ignore_early_media=true}}sofia/external/+12125550101@127.0.0.1:{} &txfax({})",
        lab.external_port,
        file.display()
    ));
    assert!(out.contains("+OK"), "{out}");
    let received = wait_for("the fax to arrive", Duration::from_secs(120), || {
        let items = lab.store.faxes(acme, "in", None, 1, 10).ok()?.items;
        items.into_iter().find(|f| f["status"] != "sending")
    });
    assert_eq!((received["status"].as_str(), received["pages"].as_i64()), (Some("received"), Some(2)), "{received}\n{}", lab.log());
    assert_eq!((received["result_code"].as_i64(), received["remote_station"].as_str()), (Some(0), Some("SENDER-FAX")), "{received}");
    assert_eq!(received["number"], "+15559876543", "{received}");
    let (_, name) = lab.store.fax(acme, received["id"].as_i64().unwrap(), None).unwrap();
    let pdf = std::fs::read(lab.dir.join("switchboard/fax").join(&name)).unwrap();
    assert_eq!(lopdf::Document::load_mem(&pdf).unwrap().get_pages().len(), 2);
    // What spandsp received (however it coded it) draws the dots that were sent, below the
    // page header the sending spandsp adds (spandsp.conf's `header`, the date and page n of
    // N), which moves the page down by its rows.
    let sent = switchboard::fax::tiff::read(&tiff).unwrap();
    let back = switchboard::fax::render::pdf_of(pdf).unwrap();
    for (i, page) in back.pages().iter().enumerate() {
        let settings = hayro::RenderSettings { aliasing_threshold: Some(128), ..Default::default() };
        let px = hayro::PixmapSettings { x_scale: 204.0 / 72.0, y_scale: 196.0 / 72.0, bg_color: hayro::vello_cpu::color::palette::css::WHITE };
        let pixmap = hayro::render(page, &hayro::RenderCache::new(), &Default::default(), &settings, &px);
        let want = switchboard::fax::render::decode_g4(&sent[i]).unwrap();
        let got: Vec<bool> = pixmap.data().iter().map(|p| p.r < 128).collect();
        assert_eq!(got.len(), want.len(), "page {i}: the same size");
        let row = 1728;
        let differ = |shift: usize| got[shift * row..].iter().zip(&want[..want.len() - shift * row]).filter(|(a, b)| a != b).count();
        let (shift, least) = (0..64).map(|s| (s, differ(s))).min_by_key(|(_, d)| *d).unwrap();
        assert!(least * 1000 < want.len(), "page {i}: {least} of {} dots differ (moved down {shift} rows)", want.len());
        assert!(want.iter().filter(|b| **b).count() > 10_000, "page {i} has its black shape");
    }
    assert_eq!(lab.store.due_fax_deliveries("9999", 10).unwrap().len(), 1, "queued for faxes@acme.test");
}

/// A fax sent from the API goes out through the real switch and comes back in: Acme's
/// North America route sends it over the demo trunk, which is FreeSWITCH's own external
/// profile, so it arrives on Acme's support DID, routed to the fax line. switchboard sends
/// it with `txfax` and receives it with `rxfax`: the outbound fax ends Sent with its two
/// pages, the inbound one Received with the same two.
#[test]
fn a_fax_sent_from_the_api_goes_out_and_comes_back_in_on_the_fax_line() {
    let Some(lab) = Lab::start("fax-loop") else { return };
    let acme = fax_line(&lab);
    // A station ID and header a switch would read as its own (`${…}` expanded, `%` decoded)
    // if they were not sent so as to arrive as typed. (A station ID may not hold `$`: the
    // switch keeps no variable holding `${`, the far end's record included. Nor is "%41"
    // tried: the switch's events send it as it is, so it reads back as "A" — the lossy
    // encoding of signalwire/freeswitch#85, esl/switch_side.rs.)
    let station = "ACME {uuid} 100%";
    let settings = switchboard::store::fax::FaxSettings {
        caller_id: "+12125550100".into(),
        station_id: station.into(),
        header: "Acme ${uuid} | 100%".into(),
        ..Default::default()
    };
    lab.store.set_fax_settings(acme, &settings).unwrap();
    lab.demo_trunk_here();

    let page = |content: &str| (612.0, 792.0, content.to_string());
    let document = common::pdf::pages(&[page("BT /F1 30 Tf 72 650 Td (Fax loop test) Tj ET"), page("0 g 100 100 300 300 re f")]);
    let token = lab.login("tenant@acme.test", "Demo-Tenant-2026");
    let (st, v) = lab.upload("/api/v1/faxes/outbound?number=%2B12125550101&subject=Loop", &token, &document);
    assert_eq!(st, 201, "{v}");
    let id = v["id"].as_i64().unwrap();
    let sent = wait_for("the fax to be sent", Duration::from_secs(150), || {
        let (_, list) = lab.request("GET", "/api/v1/faxes/outbound", Some(&token), serde_json::Value::Null);
        list["items"].as_array()?.iter().find(|f| f["id"] == id && matches!(f["status"].as_str(), Some("sent" | "failed"))).cloned()
    });
    assert_eq!(
        (sent["status"].as_str(), sent["pages"].as_i64(), sent["remote_station"].as_str()),
        (Some("sent"), Some(2), Some(station)),
        "{sent}\n{}",
        lab.log()
    );
    assert_eq!(sent["t38"], "off", "spandsp's fax_t38_status, T.38 not asked for: {sent}");
    let received = wait_for("the fax to arrive", Duration::from_secs(30), || lab.store.faxes(acme, "in", None, 1, 10).ok()?.items.into_iter().next());
    assert_eq!(
        (received["status"].as_str(), received["pages"].as_i64(), received["remote_station"].as_str()),
        (Some("received"), Some(2), Some(station)),
        "{received}"
    );
    let cdr = lab.cdr_where("the fax call's record", |c| c["direction"] == "outbound" && c["callee"] == "+12125550101");
    assert_eq!(cdr["route"], format!("fax {id}"), "{cdr}");
    // The header is printed at the top of the page (the document's own top is white).
    assert!(top_dots(&lab, acme, &received) > 200, "the tenant's header is printed");

    // No header: none printed, spandsp.conf's "SpanDSP Fax Header" included.
    lab.store.set_fax_settings(acme, &switchboard::store::fax::FaxSettings { header: String::new(), ..settings }).unwrap();
    let (st, v) =
        lab.upload("/api/v1/faxes/outbound?number=%2B12125550101&subject=Plain", &token, &common::pdf::pages(&[page("0 g 100 100 300 300 re f")]));
    assert_eq!(st, 201, "{v}");
    let plain = wait_for("the second fax to arrive", Duration::from_secs(150), || {
        lab.store.faxes(acme, "in", None, 1, 10).ok()?.items.into_iter().find(|f| f["id"] != received["id"] && f["status"] != "failed")
    });
    assert_eq!((plain["status"].as_str(), plain["pages"].as_i64()), (Some("received"), Some(1)), "{plain}\n{}", lab.log());
    assert_eq!(top_dots(&lab, acme, &plain), 0, "no header printed");
}

/// The black dots in the first 48 rows of a received fax's first page.
fn top_dots(lab: &Lab, tenant: switchboard::store::TenantId, fax: &serde_json::Value) -> usize {
    let (_, name) = lab.store.fax(tenant, fax["id"].as_i64().unwrap(), None).unwrap();
    let pdf = switchboard::fax::render::pdf_of(std::fs::read(lab.dir.join("switchboard/fax").join(&name)).unwrap()).unwrap();
    let settings = hayro::RenderSettings { aliasing_threshold: Some(128), ..Default::default() };
    let px = hayro::PixmapSettings { x_scale: 204.0 / 72.0, y_scale: 196.0 / 72.0, bg_color: hayro::vello_cpu::color::palette::css::WHITE };
    let pixmap = hayro::render(&pdf.pages()[0], &hayro::RenderCache::new(), &Default::default(), &settings, &px);
    pixmap.data()[..1728 * 48].iter().filter(|p| p.r < 128).count()
}
