//! The web UI in a real browser: `switchboard serve --demo` as a process, and
//! `tests/ui/run.mjs` driving Debian's headless Chromium through playwright-core against it.
//! Needs `/usr/bin/chromium` (apt-get install chromium) and `npm ci` (playwright-core, and
//! the JsSIP bundle the softphone loads); `.ci/run` installs both. Screenshots land in
//! `target/ui-artifacts/`.

mod common;

use std::path::Path;
use std::process::Command;

#[test]
fn the_web_ui_in_headless_chromium() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    assert!(Path::new("/usr/bin/chromium").exists(), "the UI tests need Debian's Chromium: apt-get install chromium");
    assert!(root.join("node_modules/playwright-core").exists(), "the UI tests need playwright-core: npm ci");
    assert!(root.join("node_modules/.switchboard/jssip.mjs").exists(), "the softphone's JsSIP bundle is made by npm ci");
    let rt = tokio::runtime::Runtime::new().unwrap();
    // No FreeSWITCH: the UI shows the switch as offline, which is what a page must cope with.
    let dir = common::api::temp_dir();
    let served = rt.block_on(async { common::process::serve(&dir, "127.0.0.1:9".parse().unwrap(), "unused", &["--demo"]) });
    let out = Command::new("node")
        .arg(root.join("tests/ui/run.mjs"))
        .arg(format!("http://{}", served.http))
        .arg(root.join("target/ui-artifacts"))
        .current_dir(root)
        .output()
        .expect("node runs");
    let text = String::from_utf8_lossy(&out.stdout);
    println!("{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "UI checks failed:\n{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("all UI checks passed"));
    assert!(root.join("target/ui-artifacts/dashboard-phone.png").exists());
}
