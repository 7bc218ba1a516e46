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
    a.dial("sip:1002@acme.switchboard.test");
    b.answer();
    a.wait("CALL_ESTABLISHED", RING);
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
    let _ = json!({});
}
