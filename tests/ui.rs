//! The web UI in a real browser: `switchboard serve --demo` as a process, and
//! `tests/ui/run.mjs` driving Debian's headless Chromium through playwright-core against it.
//! Needs `/usr/bin/chromium` (apt-get install chromium) and `npm ci` (playwright-core);
//! `.ci/run` installs both. Screenshots land in
//! `target/ui-artifacts/`. The script asks for things only the switch can do (a phone
//! registering, a call) by printing `UI-NEED …` lines, which this side acts on.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;

use switchboard::sim::Registration;

#[test]
fn the_web_ui_in_headless_chromium() {
    let text = run_script("run.mjs");
    assert!(Path::new(env!("CARGO_MANIFEST_DIR")).join("target/ui-artifacts/dashboard-phone.png").exists(), "{text}");
}

/// The guides' flows, role by role (tests/ui/guides.mjs), on a demo of their own.
#[test]
fn the_guides_flows_in_headless_chromium() {
    let text = run_script("guides.mjs");
    assert!(text.contains("Follow Me made for their own extension"), "{text}");
}

/// Runs one browser script against a fresh `serve --demo` beside a simulated switch, doing
/// what it asks of the switch (`UI-NEED …` lines); its output, once every check passed.
fn run_script(script: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    assert!(Path::new("/usr/bin/chromium").exists(), "the UI tests need Debian's Chromium: apt-get install chromium");
    assert!(root.join("node_modules/playwright-core").exists(), "the UI tests need playwright-core: npm ci");
    let rt = tokio::runtime::Runtime::new().unwrap();
    // A simulated switch behind it, so the realtime monitor has something to follow; the
    // browser script asks for a phone to register (`UI-NEED registration`) once its page is
    // open, and must see it appear without reloading.
    let (switch, served) = rt.block_on(common::process::demo_beside_switch(&format!("ui-{}", script.trim_end_matches(".mjs"))));
    // Recordings are real files, which the records page plays back.
    let recordings = std::env::temp_dir().join(format!("ui-recordings-{}-{}", std::process::id(), script.trim_end_matches(".mjs")));
    switch.set_recordings_dir(&recordings);
    // A fax the switch sends is answered by a fax machine that takes it (Send fax).
    switch.set_originate_scenario(switchboard::sim::Scenario {
        fax: Some(switchboard::sim::apps::fax::FaxRun { duration_ms: 1500, ..Default::default() }),
        default_target: switchboard::sim::Target::Answer { after_ms: 200, talk_ms: None },
        ..switchboard::sim::Scenario::default()
    });
    let mut node = Command::new("node")
        .arg(root.join("tests/ui").join(script))
        .arg(format!("http://{}", served.http))
        .arg(root.join("target/ui-artifacts"))
        .current_dir(root)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node runs");
    let mut text = String::new();
    for line in BufReader::new(node.stdout.take().unwrap()).lines().map_while(Result::ok) {
        if line == "UI-NEED call 1001 1002" {
            // Phone 1001 calls 1002, which answers and talks for 1.5 s: one CDR.
            let mut s = common::pbx::from_phone("acme.switchboard.test", "1001", "1002");
            s.targets = BTreeMap::from([("user/1002@acme.switchboard.test".to_string(), common::pbx::answers(1500))]);
            let report = rt.block_on(switch.call(served.outbound, Arc::new(s)));
            println!("ui.rs: the call ended: {:?}", report.hangup_cause);
        }
        if let Some(did) = line.strip_prefix("UI-NEED fax-in ") {
            // A fax machine calls the DID: one page, converted here to what it would send.
            let doc = common::pdf::pages(&[(612.0, 792.0, "BT /F1 24 Tf 72 700 Td (Incoming fax) Tj ET".into())]);
            let (tiff, _) = switchboard::fax::pdf_to_tiff(&doc, switchboard::fax::Resolution::Fine, 5).unwrap();
            let path = std::env::temp_dir().join(format!("ui-fax-{}.tif", std::process::id()));
            std::fs::write(&path, tiff).unwrap();
            let mut s = common::pbx::from_trunk(did, "+15559876543");
            s.fax = Some(switchboard::sim::apps::fax::FaxRun { tiff: path.to_string_lossy().into(), ..Default::default() });
            let report = rt.block_on(switch.call(served.outbound, Arc::new(s)));
            println!("ui.rs: the fax call ended: {:?}", report.hangup_cause);
        }
        if let Some(queue) = line.strip_prefix("UI-NEED queue-caller ") {
            // Phone 1004 calls the queue and waits in line for 6 s, then gives up: the page
            // reading stdout goes on meanwhile.
            let mut s = common::pbx::from_phone("acme.switchboard.test", "1004", queue);
            s.hangup_after_ms = Some(6000);
            let (switch, outbound) = (switch.clone(), served.outbound);
            rt.spawn(async move { switch.call(outbound, Arc::new(s)).await });
        }
        if let Some(rest) = line.strip_prefix("UI-NEED conference ") {
            // A phone dials a conference room and stays in it (30 s, or until kicked).
            let (room, from) = rest.split_once(' ').unwrap_or((rest, "1001"));
            let mut s = common::pbx::from_phone("acme.switchboard.test", from, room);
            s.hangup_after_ms = Some(30_000);
            let (switch, outbound) = (switch.clone(), served.outbound);
            rt.spawn(async move { switch.call(outbound, Arc::new(s)).await });
        }
        if line == "UI-NEED registration 1003" {
            switch.add_registration(Registration {
                user: "1003".into(),
                realm: "acme.switchboard.test".into(),
                contact: "sip:1003@192.0.2.33:5060".into(),
                network_ip: "192.0.2.33".into(),
                agent: "Yealink SIP-T54W".into(),
            });
        }
        println!("{line}");
        text.push_str(&line);
        text.push('\n');
    }
    let status = node.wait().unwrap();
    assert!(status.success(), "UI checks failed:\n{text}");
    assert!(text.contains("all UI checks passed"));
    drop(served);
    drop(rt);
    let _ = std::fs::remove_dir_all(&recordings);
    text
}
