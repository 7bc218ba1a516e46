//! Bulk fax campaigns dispatched, recipients a second: `switchboard serve --demo` as its own
//! process (a release build) beside the simulated switch, one campaign of N recipients to
//! fax machines that answer at once and take the fax in no time, at the tenant's cap of 20
//! at once. What is measured is switchboard's side of each recipient: the fax job made, the
//! try started (caps reserved, limits counted), the originate, the call's socket session
//! (`txfax` and its result), the try ended and charged, and the campaign's counts. The
//! server's CPU a recipient is read from /proc (steadier than the rate on a shared machine).
//! Then the same with a cover page filled in and rendered for each recipient.
//!
//! `cargo bench --bench campaigns` (env BENCH_RECIPIENTS, default 2000). Prints figures;
//! asserts only that every recipient was sent.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use serde_json::json;
use switchboard::sim::apps::fax::FaxRun;
use switchboard::sim::{Scenario, Target};

/// The server's CPU seconds so far (user + system), from /proc/<pid>/stat.
fn cpu(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat.rsplit_once(')').unwrap().1.split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // Two campaigns of n numbers each, all of them +1 212 555 xxxx.
    let n: usize = std::env::var("BENCH_RECIPIENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(2000).min(5000);
    let switch = switchboard::sim::Switch::default();
    let (esl, _h) = switchboard::sim::inbound::serve(switch.clone(), "127.0.0.1:0".parse().unwrap(), "bench".into()).await.unwrap();
    let dir = common::api::temp_dir();
    let sb = common::process::serve(&dir, esl, "bench", &["--demo"]);
    switch.set_socket_target(sb.outbound);
    switch.set_originate_scenario(Scenario {
        fax: Some(FaxRun { duration_ms: 0, ..FaxRun::default() }),
        default_target: Target::Answer { after_ms: 0, talk_ms: None },
        ..Scenario::default()
    });
    let token = common::process::login(sb.http, "tenant@acme.test", "Demo-Tenant-2026").await;
    let req = |m: &'static str, path: String, body: Vec<u8>| {
        let token = token.clone();
        async move { common::api::request(sb.http, m, &path, Some(&token), &body).await }
    };
    let doc = common::pdf::pages(&[(612.0, 792.0, "BT /F1 24 Tf 72 700 Td (Offer) Tj ET".into())]);
    let (st, d) = req("POST", "/api/v1/fax-documents?name=Offer".into(), doc).await;
    assert_eq!(st, 201, "{d}");
    let cover = json!({ "name": "Bench", "body": "To: {{recipient_name}} at {{recipient_company}}\n{{recipient_fax}}\n{{date}}\n{{message}}" });
    let (st, c) = req("POST", "/api/v1/fax-cover-pages".into(), cover.to_string().into_bytes()).await;
    assert_eq!(st, 201, "{c}");
    let cover_id = c["id"].as_i64().unwrap();
    let pid = sb.child.id();
    println!("{n} recipients a campaign, 20 at once (the demo tenant's cap), far ends that take the fax at once");
    for (label, cover, offset) in [("no cover page", None, 0), ("a cover page each", Some(cover_id), n)] {
        let csv: String = std::iter::once("number,name,company\n".to_string())
            .chain((0..n).map(|i| format!("+1212555{:04},Person {i},Company {}\n", offset + i, i % 50)))
            .collect();
        let mut body =
            json!({ "name": label, "document_id": d["id"], "recipients_csv": csv, "max_concurrent": 20, "max_retries": 0, "retry_delay": 30 });
        if let Some(c) = cover {
            body["cover_page_id"] = json!(c);
        }
        let (cpu0, t0) = (cpu(pid), Instant::now());
        let (st, made) = req("POST", "/api/v1/fax-campaigns".into(), body.to_string().into_bytes()).await;
        assert_eq!(st, 201, "{made}");
        let id = made["id"].as_i64().unwrap();
        let done = loop {
            let (_, c) = req("GET", format!("/api/v1/fax-campaigns/{id}"), Vec::new()).await;
            if c["status"] == "completed" {
                break c;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let (wall, spent) = (t0.elapsed(), cpu(pid) - cpu0);
        assert_eq!(done["counts"]["sent"], n, "{done}");
        println!(
            "campaign, {label:<18} {:>7.1} recipients/s ({:.1} s), server CPU {:.2} ms a recipient",
            n as f64 / wall.as_secs_f64(),
            wall.as_secs_f64(),
            spent * 1e3 / n as f64
        );
    }
    let peak = switch.originates().peak;
    println!("the most faxes the switch saw at once: {peak}");
}
