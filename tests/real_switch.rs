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
    wait_for("mod_voicemail to ask for the box", RING, || {
        lab.channels().iter().any(|c| c["application"] == "voicemail").then_some(())
    });
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
