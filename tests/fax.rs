//! Fax through the simulator over real sockets, on the demo installation: a fax machine
//! calls Acme's support DID, routed to a fax extension; the simulated switch's `rxfax`
//! writes a real TIFF, which switchboard keeps as a PDF, logs, charges and mails.

mod common;

use common::pbx::*;
use serde_json::json;
use switchboard::fax::{render, tiff};
use switchboard::sim::apps::fax::FaxRun;
use switchboard::store::accounts::UserChanges;
use switchboard::store::resource::Within;
use switchboard::store::resources as res;

const DID: &str = "+12125550101";

/// A TIFF of `pages` pages, each with its own stripes (page n: n black rows in ten).
fn fixture(pages: usize) -> std::path::PathBuf {
    let pages: Vec<tiff::Page> = (1..=pages)
        .map(|n| {
            let bits: Vec<bool> = (0..200 * 1728).map(|i| (i / 1728) % 10 < n).collect();
            render::encode(&bits, 1728, 200, 196.0)
        })
        .collect();
    let path = common::api::temp_dir().join("incoming.tif");
    std::fs::write(&path, tiff::write_g4(&pages)).unwrap();
    path
}

/// Acme's fax extension 1900 (the end user's, who has a fax address), and the support DID
/// routed to it.
fn fax_line(p: &Pbx) -> i64 {
    let user = find(&p.store, &res::EXTENSIONS, Within::Tenant(p.acme), "number", "1003")["user_id"].as_i64().unwrap();
    p.store.update_user(Within::Everything, user, &UserChanges { fax_email: Some("jane.fax@acme.test".into()), ..Default::default() }).unwrap();
    let fax = p
        .store
        .create(&res::EXTENSIONS, Some(p.acme), &ADMIN, &obj(json!({ "number": "1900", "display_name": "Fax", "type": "fax", "user_id": user })))
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let did = find(&p.store, &res::DIDS, Within::Everything, "number", DID)["id"].as_i64().unwrap();
    let q =
        switchboard::store::resource::ListQuery { page: 1, per_page: 50, filters: vec![("did_id".into(), did.to_string())], ..Default::default() };
    let route = p.store.list(&res::INBOUND_ROUTES, Within::Tenant(p.acme), None, &q).unwrap().items[0]["id"].as_i64().unwrap();
    p.store.update(&res::INBOUND_ROUTES, Within::Tenant(p.acme), None, route, &obj(json!({ "destination": { "type": "fax", "id": fax } }))).unwrap();
    fax
}

#[tokio::test]
async fn a_fax_to_the_fax_line_is_received_kept_as_a_pdf_logged_charged_and_queued_for_mail() {
    let p = pbx(OPEN).await;
    let fax = fax_line(&p);
    let mut s = from_trunk(DID, "+15559876543");
    s.fax = Some(FaxRun { tiff: fixture(2).to_string_lossy().into(), remote_station: "+1 555 987 6543".into(), ..Default::default() });
    let (r, cdr) = call(&p, s).await;
    let apps = apps(&r);
    let rx = apps.iter().find(|a| a.starts_with("rxfax ")).unwrap_or_else(|| panic!("{apps:?}"));
    assert!(rx.ends_with(&format!("switchboard-fax-{}.tif", r.uuid)), "{rx}");
    let set = apps.iter().find(|a| a.contains("fax_use_ecm=")).unwrap_or_else(|| panic!("{apps:?}"));
    assert!(set.contains("fax_use_ecm=true") && set.contains("fax_enable_t38=false"), "the tenant's defaults: {set}");
    assert!(apps.iter().position(|a| a.starts_with("answer")) < apps.iter().position(|a| a.starts_with("rxfax")), "{apps:?}");
    assert_eq!(cdr["disposition"], "answered", "{cdr}");

    let list = p.store.faxes(p.acme, "in", None, 1, 50).unwrap();
    assert_eq!(list.total, 1);
    let f = &list.items[0];
    assert_eq!(
        (f["status"].as_str(), f["pages"].as_i64(), f["number"].as_str(), f["remote_station"].as_str(), f["extension_id"].as_i64()),
        (Some("received"), Some(2), Some("+15559876543"), Some("+1 555 987 6543"), Some(fax)),
        "{f}"
    );
    assert_eq!((f["rate"].as_i64(), f["ecm"].as_bool(), f["result_code"].as_i64()), (Some(14400), Some(true), Some(0)), "{f}");
    // The PDF: two pages, the fax's own dots.
    let (_, file) = p.store.fax(p.acme, f["id"].as_i64().unwrap(), None).unwrap();
    let pdf = std::fs::read(p.fax_dir.join(&file)).unwrap();
    assert_eq!(lopdf::Document::load_mem(&pdf).unwrap().get_pages().len(), 2);
    assert!(!std::path::Path::new(rx.trim_start_matches("rxfax ")).exists(), "the switch's TIFF is removed once kept");
    // Two pages charged once; the mail queued for the extension's user.
    let c = p.store.conn().unwrap();
    let charged: i64 = c.query_row("SELECT pages FROM fax_charges WHERE tenant_id = ?1", [p.acme.0], |r| r.get(0)).unwrap();
    assert_eq!(charged, 2);
    let due = p.store.due_fax_deliveries("9999", 10).unwrap();
    assert_eq!((due.len(), due[0].email.as_str(), due[0].pages), (1, "jane.fax@acme.test", 2));
}

#[tokio::test]
async fn a_fax_cut_off_midway_keeps_what_arrived_and_one_that_never_started_is_logged_failed() {
    let p = pbx(OPEN).await;
    fax_line(&p);
    // The sender hangs up after the first of three pages.
    let mut s = from_trunk(DID, "+15559876543");
    s.hangup_after_ms = Some(150);
    s.fax = Some(FaxRun { tiff: fixture(3).to_string_lossy().into(), pages: 1, duration_ms: 2_000, ..Default::default() });
    call(&p, s).await;
    // A voice caller: the far end never sends a page (spandsp's T.30 gives up).
    let mut s = from_trunk(DID, "+15551112222");
    s.fax = Some(FaxRun { result_code: 2, result_text: "Timed out waiting for initial communication".into(), ..Default::default() });
    call(&p, s).await;
    let mut list = p.store.faxes(p.acme, "in", None, 1, 50).unwrap().items;
    list.sort_by_key(|f| f["number"].as_str().unwrap().to_string());
    let (voice, partial) = (&list[0], &list[1]);
    assert_eq!(
        (partial["status"].as_str(), partial["pages"].as_i64(), partial["result_code"].as_i64()),
        (Some("partial"), Some(1), Some(49)),
        "{partial}"
    );
    assert_eq!(partial["result_text"], "The call dropped prematurely");
    assert_eq!(
        (voice["status"].as_str(), voice["pages"].as_i64(), voice["has_document"].as_bool()),
        (Some("failed"), Some(0), Some(false)),
        "{voice}"
    );
    assert_eq!(voice["result_text"], "Timed out waiting for initial communication");
    // Only the fax with a page is mailed and charged.
    assert_eq!(p.store.due_fax_deliveries("9999", 10).unwrap().len(), 1);
    let charged: i64 = p.store.conn().unwrap().query_row("SELECT SUM(pages) FROM fax_charges", [], |r| r.get(0)).unwrap();
    assert_eq!(charged, 1);
}

/// The mail: the PDF attached, to the address the fax line's user gave, retried when the
/// relay refuses and marked sent once it takes it.
#[tokio::test]
async fn a_received_fax_is_mailed_with_its_pdf() {
    let p = pbx(OPEN).await;
    fax_line(&p);
    let mut s = from_trunk(DID, "+15559876543\r\nBcc: x@evil.test");
    s.fax = Some(FaxRun { tiff: fixture(1).to_string_lossy().into(), ..Default::default() });
    call(&p, s).await;
    // The relay is down: the mail is tried, counted, and put off (1 minute, then 2, 4 …).
    let down = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let refused = switchboard::config::Smtp {
        relay: "127.0.0.1".into(),
        port: down.port(),
        from: "pbx@switchboard.test".into(),
        security: switchboard::config::SmtpSecurity::None,
        ..Default::default()
    };
    let now = jiff::Timestamp::now();
    assert_eq!(switchboard::alerts::faxes_once(&p.store, &refused, &p.fax_dir, now).await.unwrap(), 0);
    let (attempts, error): (i64, String) =
        p.store.conn().unwrap().query_row("SELECT attempts, last_error FROM fax_deliveries", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    assert_eq!(attempts, 1);
    assert!(!error.is_empty());
    assert!(p.store.due_fax_deliveries(&now.to_string(), 10).unwrap().is_empty(), "not due again at once");
    let later = now + jiff::SignedDuration::from_secs(120);
    let sink = common::smtp::Sink::start().await;
    let cfg = switchboard::config::Smtp {
        relay: "127.0.0.1".into(),
        port: sink.addr.port(),
        from: "pbx@switchboard.test".into(),
        security: switchboard::config::SmtpSecurity::None,
        ..Default::default()
    };
    let sent = switchboard::alerts::faxes_once(&p.store, &cfg, &p.fax_dir, later).await.unwrap();
    assert_eq!(sent, 1, "retried once due, and taken");
    let mails = sink.mails();
    assert_eq!(mails.len(), 1);
    let m = &mails[0];
    assert!(m.to.iter().any(|t| t.contains("jane.fax@acme.test")), "{:?}", m.to);
    assert!(m.data.contains("application/pdf") && m.data.contains("fax-1.pdf"), "{}", &m.data[..m.data.len().min(2000)]);
    assert!(!m.data.lines().any(|l| l.to_ascii_lowercase().starts_with("bcc:")), "a caller ID cannot add a header");
    // Sent once: nothing is due any more.
    assert_eq!(switchboard::alerts::faxes_once(&p.store, &cfg, &p.fax_dir, later + jiff::SignedDuration::from_secs(3600)).await.unwrap(), 0);
}

/// Over HTTP: the inbound log and the PDF for the tenant admin and for the line's user;
/// another user sees none of it; fax settings are checked field by field and used by the
/// next fax (no T.38 → T.38; the station ID sent).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inbound_log_its_pdfs_and_the_fax_settings_over_http() {
    let api = common::api::start_demo(|_| {}).await;
    let p = pbx_keeping_faxes(api.store.clone(), OPEN, std::time::Duration::from_secs(1), api.acd.clone(), api.dir.join("fax")).await;
    fax_line(&p);
    let admin = api.login("tenant@acme.test", "Demo-Tenant-2026").await;
    let (st, v) = api
        .call(
            "PUT",
            "/api/v1/fax-settings",
            Some(&admin),
            Some(&json!({ "caller_id": "555", "station_id": "ACME\nFAX", "header": "Acme", "max_retries": 99, "retry_delay": 60, "ecm": true,
                          "t38": true, "delivery_email": "not mail", "retention_days": 30 })),
        )
        .await;
    assert_eq!(st, 422, "{v}");
    let named: Vec<&str> = v["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(named, ["caller_id", "station_id", "max_retries", "delivery_email"], "every bad field, at once: {v}");
    let good = json!({ "caller_id": "+12125550101", "station_id": "ACME FAX", "header": "Acme Corp", "max_retries": 2, "retry_delay": 60,
                       "ecm": false, "t38": true, "delivery_email": "faxes@acme.test", "retention_days": 30 });
    let (st, v) = api.call("PUT", "/api/v1/fax-settings", Some(&admin), Some(&good)).await;
    assert_eq!((st, &v), (200, &good));

    let mut s = from_trunk(DID, "+15559876543");
    s.fax = Some(FaxRun { tiff: fixture(2).to_string_lossy().into(), ..Default::default() });
    let (r, _) = call(&p, s).await;
    let set = apps(&r).into_iter().find(|a| a.contains("fax_use_ecm=")).unwrap();
    assert!(set.contains("fax_use_ecm=false") && set.contains("fax_enable_t38=true") && set.contains("fax_ident=ACME FAX|"), "{set}");

    let (st, list) = api.call("GET", "/api/v1/faxes/inbound", Some(&admin), None).await;
    assert_eq!((st, list["total"].as_i64()), (200, Some(1)), "{list}");
    let id = list["items"][0]["id"].as_i64().unwrap();
    let pdf = common::api::request_raw(api.addr, "GET", &format!("/api/v1/faxes/inbound/{id}/pdf"), Some(&admin)).await;
    assert!(pdf.starts_with(b"%PDF-"), "{:?}", String::from_utf8_lossy(&pdf[..pdf.len().min(200)]));
    assert_eq!(lopdf::Document::load_mem(&pdf).unwrap().get_pages().len(), 2);
    // The line's user (Jane, the demo end user) sees it; the agent may not look at all.
    let jane = api.login("user@acme.test", "Demo-User-2026").await;
    let (_, mine) = api.call("GET", "/api/v1/faxes/inbound", Some(&jane), None).await;
    assert_eq!(mine["total"], 1, "{mine}");
    let agent = api.login("agent@acme.test", "Demo-Agent-2026").await;
    let (st, _) = api.call("GET", "/api/v1/faxes/inbound", Some(&agent), None).await;
    assert_eq!(st, 403);
}

/// Sending, through the real path: `switchboard serve --demo` as a process with its control
/// connection to the simulated switch. A PDF posted to the API is refused with why when it
/// cannot be sent (nothing queued), else converted and queued; the runner originates it
/// through Acme's North America route and trunk into the socket, where `txfax` sends it:
/// Queued → Sent, its pages charged once. A far machine that is busy is tried again, then
/// failed with the reason once the tenant's retries are spent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pdf_posted_to_the_api_is_sent_by_txfax_and_a_busy_number_is_retried_then_failed() {
    use switchboard::sim::{Scenario, Target};
    let (switch, sb) = common::process::demo_beside_switch("fax-send").await;
    let admin = common::process::login(sb.http, "tenant@acme.test", "Demo-Tenant-2026").await;
    let req = |m: &'static str, path: String, body: Vec<u8>| {
        let admin = admin.clone();
        async move { common::api::request(sb.http, m, &path, Some(&admin), &body).await }
    };
    // Retries quick, so the busy number's tries end within the test.
    let settings = json!({ "caller_id": "+12125550100", "station_id": "ACME", "header": "Acme Corp", "max_retries": 1, "retry_delay": 30,
                           "ecm": true, "t38": false, "delivery_email": "", "retention_days": 30 });
    assert_eq!(req("PUT", "/api/v1/fax-settings".into(), settings.to_string().into_bytes()).await.0, 200);
    let doc =
        common::pdf::pages(&[(612.0, 792.0, "BT /F1 24 Tf 72 700 Td (Invoice 1) Tj ET".into()), (612.0, 792.0, "0 g 72 72 200 200 re f".into())]);

    // Refused, nothing queued: not a PDF; a number no route dials.
    let (st, v) = req("POST", "/api/v1/faxes/outbound?number=%2B12125551234".into(), b"GIF89a not a pdf".to_vec()).await;
    assert_eq!((st, v["field"].as_str()), (422, Some("body")), "{v}");
    let (st, v) = req("POST", "/api/v1/faxes/outbound?number=%2B442079460000".into(), doc.clone()).await;
    assert_eq!((st, v["field"].as_str()), (422, Some("number")), "{v}");
    // A page whose image claims 60,000 × 60,000 samples (10 GB) but holds 1 KiB: rendered in
    // a process of its own (memory and CPU limited), which draws what is there and no more;
    // the server goes on.
    let bomb = {
        let mut doc = lopdf::Document::load_mem(&common::pdf::pages(&[(612.0, 792.0, "q 600 0 0 700 6 40 cm /Im0 Do Q".into())])).unwrap();
        let image = lopdf::Stream::new(
            lopdf::dictionary! { "Type" => "XObject", "Subtype" => "Image", "Width" => 60_000, "Height" => 60_000, "ColorSpace" => "DeviceRGB", "BitsPerComponent" => 8 },
            vec![0x80; 1024],
        )
        .with_compression(false);
        let id = doc.add_object(image);
        let page = doc.get_pages()[&1];
        doc.get_object_mut(page)
            .unwrap()
            .as_dict_mut()
            .unwrap()
            .set("Resources", lopdf::dictionary! { "XObject" => lopdf::dictionary! { "Im0" => id } });
        let mut out = Vec::new();
        doc.save_to(&mut out).unwrap();
        out
    };
    let (st, v) = req("POST", "/api/v1/faxes/outbound?number=%2B12125551234".into(), bomb).await;
    assert_eq!((st, v["pages"].as_i64()), (201, Some(1)), "{v}");
    assert_eq!(req("GET", "/api/v1/fax-settings".into(), Vec::new()).await.0, 200, "the server is unharmed");
    sb.store().conn().unwrap().execute("DELETE FROM faxes", []).unwrap();
    assert_eq!(req("GET", "/api/v1/faxes/outbound".into(), Vec::new()).await.1["total"], 0);

    switch.set_originate_scenario(Scenario {
        fax: Some(FaxRun { remote_station: "FAR END".into(), duration_ms: 100, ..Default::default() }),
        default_target: Target::Answer { after_ms: 20, talk_ms: None },
        ..Scenario::default()
    });
    let (st, queued) = req("POST", "/api/v1/faxes/outbound?number=%2B12125551234&subject=Invoice".into(), doc.clone()).await;
    assert_eq!(st, 201, "{queued}");
    assert_eq!(
        (queued["status"].as_str(), queued["pages"].as_i64(), queued["subject"].as_str()),
        (Some("queued"), Some(2), Some("Invoice")),
        "{queued}"
    );
    let id = queued["id"].as_i64().unwrap();
    let sent = until(|| async {
        let (_, v) = req("GET", "/api/v1/faxes/outbound".into(), Vec::new()).await;
        v["items"].as_array().unwrap().iter().find(|f| f["id"] == id && f["status"] == "sent").cloned()
    })
    .await;
    assert_eq!((sent["pages"].as_i64(), sent["remote_station"].as_str(), sent["attempts"].as_i64()), (Some(2), Some("FAR END"), Some(1)), "{sent}");
    let charged: i64 =
        sb.store().conn().unwrap().query_row("SELECT pages FROM fax_charges WHERE job = ?1", [format!("fax:out-{id}")], |r| r.get(0)).unwrap();
    assert_eq!(charged, 2, "charged once, for its pages");

    // A busy far end: tried, then again after the retry delay (30 s here, moved up), then failed.
    switch.set_originate_scenario(Scenario { default_target: Target::Busy { after_ms: 10 }, ..Scenario::default() });
    let (_, busy) = req("POST", "/api/v1/faxes/outbound?number=%2B12125559999".into(), doc).await;
    let busy_id = busy["id"].as_i64().unwrap();
    let first = until(|| async {
        let (_, v) = req("GET", "/api/v1/faxes/outbound".into(), Vec::new()).await;
        v["items"].as_array().unwrap().iter().find(|f| f["id"] == busy_id && f["attempts"] == 1 && f["status"] == "queued").cloned()
    })
    .await;
    assert!(first["result_text"].as_str().unwrap().contains("USER_BUSY"), "{first}");
    sb.store().conn().unwrap().execute("UPDATE faxes SET next_attempt_at = '2000-01-01T00:00:00Z' WHERE id = ?1", [busy_id]).unwrap();
    let failed = until(|| async {
        let (_, v) = req("GET", "/api/v1/faxes/outbound".into(), Vec::new()).await;
        v["items"].as_array().unwrap().iter().find(|f| f["id"] == busy_id && f["status"] == "failed").cloned()
    })
    .await;
    assert_eq!(failed["attempts"], 2, "one try and the one retry the settings allow: {failed}");
}

async fn until<T, F, Fut>(mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    // A deadline, not a measure: generous, for a machine busy with other tests' renders.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::time::Instant::now() < deadline {
        if let Some(v) = f().await {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    }
    panic!("timed out");
}

/// The renderer the server runs for each upload, as its own process: the fax TIFF on
/// stdout and its pages on stderr; a document that cannot be faxed exits 2 with the reason.
#[test]
fn the_isolated_renderer_answers_with_the_tiff_or_the_reason() {
    use std::io::Write;
    let run = |pdf: &[u8], max: &str| {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_switchboard"))
            .args(["fax-render", "--resolution", "normal", "--max-pages", max])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(pdf).unwrap();
        child.wait_with_output().unwrap()
    };
    let doc = common::pdf::pages(&[(612.0, 792.0, "0 g 72 72 72 72 re f".into()), (612.0, 792.0, String::new())]);
    let ok = run(&doc, "5");
    assert_eq!(ok.status.code(), Some(0), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(String::from_utf8_lossy(&ok.stderr).contains("pages=2"));
    let pages = tiff::read(&ok.stdout).unwrap();
    assert_eq!((pages.len(), pages[0].y_dpi), (2, 98.0));
    let too_many = run(&doc, "1");
    assert_eq!(too_many.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&too_many.stderr).contains("at most 1 may be faxed"), "{}", String::from_utf8_lossy(&too_many.stderr));
    let garbage = run(b"%PDF-1.7 nothing else", "5");
    assert_eq!(garbage.status.code(), Some(2));
}

/// Faxes older than the tenant's retention go, files and log rows; younger ones stay.
#[tokio::test]
async fn faxes_past_the_tenant_s_retention_are_deleted_with_their_files() {
    let p = pbx(OPEN).await;
    fax_line(&p);
    for _ in 0..2 {
        let mut s = from_trunk(DID, "+15559876543");
        s.fax = Some(FaxRun { tiff: fixture(1).to_string_lossy().into(), ..Default::default() });
        call(&p, s).await;
    }
    let list = p.store.faxes(p.acme, "in", None, 1, 10).unwrap().items;
    let (old, young) = (list[0]["id"].as_i64().unwrap(), list[1]["id"].as_i64().unwrap());
    let (_, old_file) = p.store.fax(p.acme, old, None).unwrap();
    p.store.conn().unwrap().execute("UPDATE faxes SET created_at = '2026-01-01T00:00:00Z' WHERE id = ?1", [old]).unwrap();
    let settings = switchboard::store::fax::FaxSettings { retention_days: 30, ..Default::default() };
    p.store.set_fax_settings(p.acme, &settings).unwrap();
    assert_eq!(switchboard::fax_jobs::expire(&p.store, &p.fax_dir, jiff::Timestamp::now()).await, 1);
    assert!(!p.fax_dir.join(&old_file).exists(), "its PDF is gone");
    let left: Vec<i64> = p.store.faxes(p.acme, "in", None, 1, 10).unwrap().items.iter().map(|f| f["id"].as_i64().unwrap()).collect();
    assert_eq!(left, [young]);
}

/// A call that names a fax job but not its try under way (a forged or stale token) is
/// refused, and the job is left as it was: nothing is sent on a stranger's word.
#[tokio::test]
async fn a_call_naming_a_fax_job_without_its_try_s_token_is_refused() {
    let p = pbx(OPEN).await;
    let queued = switchboard::store::fax::Outgoing { number: "+12125551234".into(), tiff: "1/out-x.tif".into(), pages: 1, ..Default::default() };
    let id = p.store.queue_fax(p.acme, &queued).unwrap();
    assert_eq!(p.store.start_fax_try(id, "the-real-token", "").unwrap(), switchboard::store::fax::Start::Started);
    let mut s = from_trunk(DID, "+15559876543");
    s.variables.insert("sb_fax_job".into(), id.to_string());
    s.variables.insert("sb_fax_token".into(), "forged".into());
    s.fax = Some(FaxRun::default());
    let (r, _) = call(&p, s).await;
    assert_eq!(r.hangup_cause.as_deref(), Some("CALL_REJECTED"), "{:?}", apps(&r));
    assert!(!apps(&r).iter().any(|a| a.starts_with("txfax")), "{:?}", apps(&r));
    let (f, _) = p.store.fax(p.acme, id, None).unwrap();
    assert_eq!((f["status"].as_str(), f["attempts"].as_i64()), (Some("sending"), Some(1)), "the real try goes on: {f}");
    assert!(p.store.fax_try(id, "the-real-token").unwrap().is_some());
}

/// Tries under way when switchboard stopped, ended at the next start by what the switch
/// says: one spandsp marked sent in the switch's memory (its `api_on_fax_success`) is
/// recorded sent and charged, once; one it did not mark is a failure to retry: queued again,
/// the try counted, the reason said.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_try_cut_by_a_restart_is_recorded_as_the_switch_marked_it() {
    use switchboard::esl::api::{fax_sent, HashAction};
    let p = pbx(OPEN).await;
    let (_switch, live, beside) = LiveBeside::start(&p.store).await;

    let queued = switchboard::store::fax::Outgoing { number: "+12125551234".into(), tiff: "1/out-x.tif".into(), pages: 3, ..Default::default() };
    let cut = p.store.queue_fax(p.acme, &queued).unwrap();
    let done = p.store.queue_fax(p.acme, &queued).unwrap();
    assert_eq!(p.store.start_fax_try(cut, "t1", "").unwrap(), switchboard::store::fax::Start::Started);
    assert_eq!(p.store.start_fax_try(done, "t2", "").unwrap(), switchboard::store::fax::Start::Started);
    // What spandsp ran when the far machine had every page of the second.
    let said = live.api(&fax_sent(done, "t2", HashAction::Insert("sent".into()))).await.unwrap();
    assert_eq!(said.trim(), "+OK");
    assert_eq!(switchboard::fax_jobs::recover(&p.store, &live).await, 2);

    let (f, _) = p.store.fax(p.acme, cut, None).unwrap();
    assert_eq!((f["status"].as_str(), f["attempts"].as_i64()), (Some("queued"), Some(1)), "{f}");
    assert_eq!(f["result_text"], "switchboard stopped while it was being sent");
    assert!(p.store.fax_try(cut, "t1").unwrap().is_none(), "the old try's call can no longer report");
    let (f, _) = p.store.fax(p.acme, done, None).unwrap();
    assert_eq!((f["status"].as_str(), f["pages"].as_i64()), (Some("sent"), Some(3)), "{f}");
    let charged: i64 =
        p.store.conn().unwrap().query_row("SELECT COUNT(*) FROM fax_charges WHERE job = ?1", [format!("fax:out-{done}")], |r| r.get(0)).unwrap();
    assert_eq!(charged, 1);
    // mod_hash answers nothing for a key it does not hold.
    let gone = live.api(&fax_sent(done, "t2", HashAction::Select)).await;
    assert!(!matches!(gone.as_deref().map(str::trim), Ok("sent")), "the mark is gone once recorded: {gone:?}");

    beside.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fax_document_is_kept_checked_sent_by_choosing_it_and_seen_only_by_who_may() {
    use switchboard::sim::{Scenario, Target};
    let (switch, sb) = common::process::demo_beside_switch("fax-docs").await;
    let admin = common::process::login(sb.http, "tenant@acme.test", "Demo-Tenant-2026").await;
    let user = common::process::login(sb.http, "user@acme.test", "Demo-User-2026").await;
    let req = |who: &str, m: &'static str, path: String, body: Vec<u8>| {
        let who = who.to_string();
        async move { common::api::request(sb.http, m, &path, Some(&who), &body).await }
    };
    let doc = common::pdf::pages(&[
        (612.0, 792.0, "BT /F1 24 Tf 72 700 Td (Price list) Tj ET".into()),
        (612.0, 792.0, "0 g 72 72 200 200 re f".into()),
        (842.0, 595.0, "0 g 72 72 400 100 re f".into()),
    ]);

    // Refused, nothing kept: no name; not a PDF.
    let (st, v) = req(&admin, "POST", "/api/v1/fax-documents".into(), doc.clone()).await;
    assert_eq!((st, v["field"].as_str()), (422, Some("name")), "{v}");
    let (st, v) = req(&admin, "POST", "/api/v1/fax-documents?name=Terms".into(), b"GIF89a".to_vec()).await;
    assert_eq!((st, v["field"].as_str()), (422, Some("body")), "{v}");
    assert_eq!(req(&admin, "GET", "/api/v1/fax-documents".into(), Vec::new()).await.1["total"], 0);

    let (st, kept) = req(&admin, "POST", "/api/v1/fax-documents?name=Price%20list%202027".into(), doc.clone()).await;
    assert_eq!((st, kept["name"].as_str(), kept["pages"].as_i64()), (201, Some("Price list 2027"), Some(3)), "{kept}");
    assert_eq!(kept["bytes"].as_i64(), Some(doc.len() as i64));
    let id = kept["id"].as_i64().unwrap();
    let pdf = common::api::request_raw(sb.http, "GET", &format!("/api/v1/fax-documents/{id}/pdf"), Some(&admin)).await;
    assert!(pdf == doc, "the document comes back as it was uploaded");
    // The end user sees only their own documents, and cannot send or delete the admin's.
    assert_eq!(req(&user, "GET", "/api/v1/fax-documents".into(), Vec::new()).await.1["total"], 0);
    assert_eq!(req(&user, "GET", format!("/api/v1/fax-documents/{id}/pdf"), Vec::new()).await.0, 404);
    let (st, v) = req(&user, "POST", format!("/api/v1/faxes/outbound?number=%2B12125551234&document={id}"), Vec::new()).await;
    assert_eq!((st, v["field"].as_str()), (422, Some("document")), "{v}");
    assert_eq!(req(&user, "DELETE", format!("/api/v1/fax-documents/{id}"), Vec::new()).await.0, 404);
    // A document and a body at once is one too many.
    let (st, v) = req(&admin, "POST", format!("/api/v1/faxes/outbound?number=%2B12125551234&document={id}"), doc.clone()).await;
    assert_eq!((st, v["field"].as_str()), (422, Some("document")), "{v}");

    switch.set_originate_scenario(Scenario {
        fax: Some(FaxRun { remote_station: "FAR END".into(), duration_ms: 100, ..Default::default() }),
        default_target: Target::Answer { after_ms: 20, talk_ms: None },
        ..Scenario::default()
    });
    // Chosen from the library, at both resolutions; then the document is deleted while the
    // faxes wait: they keep their own files.
    let (st, fine) = req(&admin, "POST", format!("/api/v1/faxes/outbound?number=%2B12125551234&document={id}&subject=Prices"), Vec::new()).await;
    assert_eq!((st, fine["pages"].as_i64()), (201, Some(3)), "{fine}");
    let (st, normal) = req(&admin, "POST", format!("/api/v1/faxes/outbound?number=%2B12125551235&document={id}&resolution=normal"), Vec::new()).await;
    assert_eq!((st, normal["pages"].as_i64()), (201, Some(3)), "{normal}");
    let files: Vec<String> = {
        let c = sb.store().conn().unwrap();
        let mut q = c.prepare("SELECT file FROM fax_documents UNION ALL SELECT tiff FROM fax_documents").unwrap();
        q.query_map([], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
    };
    assert_eq!(files.len(), 2);
    assert!(files.iter().all(|f| sb.dir.join("fax").join(f).exists()), "{files:?}");
    assert_eq!(req(&admin, "DELETE", format!("/api/v1/fax-documents/{id}"), Vec::new()).await.0, 204);
    for f in &files {
        assert!(!sb.dir.join("fax").join(f).exists(), "{f} is removed with the document");
    }
    assert_eq!(req(&admin, "GET", "/api/v1/fax-documents".into(), Vec::new()).await.1["total"], 0);
    for queued in [&fine, &normal] {
        let fax_id = queued["id"].as_i64().unwrap();
        let sent = until(|| async {
            let (_, v) = req(&admin, "GET", "/api/v1/faxes/outbound".into(), Vec::new()).await;
            v["items"].as_array().unwrap().iter().find(|f| f["id"] == fax_id && f["status"] != "queued" && f["status"] != "sending").cloned()
        })
        .await;
        assert_eq!((sent["status"].as_str(), sent["pages"].as_i64()), (Some("sent"), Some(3)), "{sent}");
    }
    // What txfax read: three pages, fine then normal.
    let tiffs: Vec<Vec<u8>> = {
        let c = sb.store().conn().unwrap();
        let mut q = c.prepare("SELECT tiff FROM faxes WHERE direction = 'out' ORDER BY id").unwrap();
        let names: Vec<String> = q.query_map([], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap();
        names.iter().map(|n| std::fs::read(sb.dir.join("fax").join(n)).unwrap()).collect()
    };
    let dpi: Vec<Vec<u32>> =
        tiffs.iter().map(|t| switchboard::fax::tiff::read(t).unwrap().iter().map(|p| p.y_dpi.round() as u32).collect()).collect();
    assert_eq!(dpi, vec![vec![196, 196, 196], vec![98, 98, 98]]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn my_dids_assign_routes_a_did_to_a_fax_line_and_its_faxes_arrive_there() {
    let (switch, sb) = common::process::demo_beside_switch("fax-dids").await;
    let admin = common::process::login(sb.http, "tenant@acme.test", "Demo-Tenant-2026").await;
    let user = common::process::login(sb.http, "user@acme.test", "Demo-User-2026").await;
    let agent = common::process::login(sb.http, "agent@acme.test", "Demo-Agent-2026").await;
    let req = |who: &str, m: &'static str, path: String, body: serde_json::Value| {
        let who = who.to_string();
        async move { common::api::request(sb.http, m, &path, Some(&who), body.to_string().as_bytes()).await }
    };
    let get = |who: &str, path: &str| {
        let (who, path) = (who.to_string(), path.to_string());
        async move { common::api::request(sb.http, "GET", &path, Some(&who), b"").await.1 }
    };
    let dids = get(&admin, "/api/v1/me/dids").await;
    let did = dids["items"].as_array().unwrap().iter().find(|d| d["number"] == DID).cloned().unwrap();
    assert_eq!(did["active"], true, "{did}");
    let was = did["destination_name"].as_str().unwrap().to_string();
    assert!(!was.is_empty() && was != "not routed", "{did}");
    let did_id = did["id"].as_i64().unwrap();
    // Jane (the end user) has no DID yet.
    assert_eq!(get(&user, "/api/v1/me/dids").await["items"], json!([]));

    let me = get(&user, "/api/v1/me").await;
    let (st, line) = req(
        &admin,
        "POST",
        "/api/v1/extensions".into(),
        json!({ "number": "1900", "display_name": "Front office", "type": "fax", "user_id": me["user"]["id"] }),
    )
    .await;
    assert_eq!(st, 201, "{line}");
    let voice = get(&admin, "/api/v1/extensions?number=1001").await["items"][0]["id"].as_i64().unwrap();

    // Refused: a voice extension; no extension; an agent (no right to route numbers).
    let (st, v) = req(&admin, "PUT", format!("/api/v1/dids/{did_id}/fax-line"), json!({ "extension_id": voice })).await;
    assert_eq!((st, v["field"].as_str()), (422, Some("extension_id")), "{v}");
    let (st, v) = req(&admin, "PUT", format!("/api/v1/dids/{did_id}/fax-line"), json!({})).await;
    assert_eq!((st, v["field"].as_str()), (422, Some("extension_id")), "{v}");
    assert_eq!(req(&agent, "PUT", format!("/api/v1/dids/{did_id}/fax-line"), json!({ "extension_id": line["id"] })).await.0, 403);
    assert_eq!(
        get(&admin, "/api/v1/me/dids").await["items"].as_array().unwrap().iter().find(|d| d["id"] == did_id).unwrap()["destination_name"],
        was
    );

    let (st, v) = req(&admin, "PUT", format!("/api/v1/dids/{did_id}/fax-line"), json!({ "extension_id": line["id"] })).await;
    assert_eq!((st, v["destination_name"].as_str(), v["active"].as_bool()), (200, Some("Fax line 1900 (Front office)"), Some(true)), "{v}");
    // A DID with no route yet: assigning makes its route.
    let operator = common::process::login(sb.http, "admin@switchboard.test", "Demo-Admin-2026").await;
    let (st, bare) = req(&operator, "POST", "/api/v1/dids".into(), json!({ "number": "+12125550177", "tenant_id": 1 })).await;
    assert_eq!(st, 201, "{bare}");
    let listed = get(&admin, "/api/v1/me/dids").await;
    let unrouted = listed["items"].as_array().unwrap().iter().find(|d| d["id"] == bare["id"]).cloned().unwrap();
    assert_eq!((unrouted["destination_name"].as_str(), unrouted["active"].as_bool()), (Some("not routed"), Some(false)), "{unrouted}");
    let (st, v) = req(&admin, "PUT", format!("/api/v1/dids/{}/fax-line", bare["id"]), json!({ "extension_id": line["id"] })).await;
    assert_eq!((st, v["destination_name"].as_str(), v["active"].as_bool()), (200, Some("Fax line 1900 (Front office)"), Some(true)), "{v}");
    assert!(v["inbound_route_id"].as_i64().is_some(), "{v}");

    // Now they are Jane's: her My DIDs shows them.
    let hers = get(&user, "/api/v1/me/dids").await;
    assert_eq!(
        hers["items"].as_array().map(|a| a.iter().map(|d| d["number"].clone()).collect::<Vec<_>>()),
        Some(vec![json!(DID), json!("+12125550177")]),
        "{hers}"
    );

    // A fax machine calls the DID: received on the line, in Jane's inbound log.
    let mut s = from_trunk(DID, "+15559876543");
    s.fax = Some(FaxRun { tiff: fixture(1).to_string_lossy().into(), ..Default::default() });
    switch.call(sb.outbound, std::sync::Arc::new(s)).await;
    let inbound = until(|| async {
        let v = get(&user, "/api/v1/faxes/inbound").await;
        (v["total"] == 1).then_some(v)
    })
    .await;
    assert_eq!(
        (inbound["items"][0]["status"].as_str(), inbound["items"][0]["extension_id"].clone()),
        (Some("received"), line["id"].clone()),
        "{inbound}"
    );
}

/// A try's call watched: while the switch carries it the try is left alone (its socket task
/// ends it); once the switch no longer has it and nothing ended the try, the try is queued
/// again with the reason. Here the call reaches a socket that never answers, then goes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_try_whose_call_ends_without_a_word_is_queued_again_and_one_still_up_is_left_alone() {
    use std::time::Duration;
    use switchboard::sim::{Scenario, Target};
    let p = pbx(OPEN).await;
    let (switch, live, beside) = LiveBeside::start(&p.store).await;
    // The socket the call is handed to accepts it and says nothing.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    switch.set_socket_target(silent.local_addr().unwrap());
    switch.set_originate_scenario(Scenario { default_target: Target::Answer { after_ms: 10, talk_ms: None }, ..Scenario::default() });

    let queued = switchboard::store::fax::Outgoing { number: "+12125551234".into(), tiff: "1/out-x.tif".into(), pages: 1, ..Default::default() };
    let id = p.store.queue_fax(p.acme, &queued).unwrap();
    let mut job = p.store.due_fax_jobs("9999", 10).unwrap().remove(0);
    job.token = "t1".into();
    job.call_uuid = "2f0b6c1e-7a4d-4c55-9e2a-5d1f3b7c9a10".into();
    assert_eq!(p.store.start_fax_try(id, "t1", &job.call_uuid).unwrap(), switchboard::store::fax::Start::Started);
    let cmd = switchboard::fax_jobs::originate(&job, p.store.outbound_routes(p.acme).unwrap(), "").unwrap();
    let said = tokio::time::timeout(Duration::from_secs(10), live.bgapi(&cmd)).await.expect("the originate answers").unwrap();
    let uuid = said.trim().strip_prefix("+OK ").unwrap_or_else(|| panic!("{said}")).to_string();
    let (held, _) = tokio::time::timeout(Duration::from_secs(5), silent.accept()).await.unwrap().unwrap();

    let watching = tokio::spawn({
        let (store, live, job, uuid) = (p.store.clone(), live.clone(), job.clone(), uuid.clone());
        async move { switchboard::fax_jobs::watch(&store, &live, &job, &uuid, Duration::from_millis(100)).await }
    });
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(p.store.fax_try(id, "t1").unwrap().is_some(), "the switch still carries the call: the try is its own");
    assert!(!watching.is_finished());
    // The socket goes away; the switch hangs the call up.
    drop(held);
    tokio::time::timeout(Duration::from_secs(10), watching).await.expect("the watch ends").unwrap();
    let (f, _) = p.store.fax(p.acme, id, None).unwrap();
    assert_eq!(
        (f["status"].as_str(), f["attempts"].as_i64(), f["result_text"].as_str()),
        (Some("queued"), Some(1), Some("the call ended before the fax was sent")),
        "{f}"
    );
    // The live model follows the switch on a thread of its own until its connection closes,
    // which stopping does (else the runtime's end would wait for it).
    beside.stop().await;
}

/// The runner's refusals, through a real server process: at the tenant's cap a fax waits
/// uncounted and nobody is dialed, and is sent once a line is free; a disabled tenant's and a
/// prepaid tenant's with no credit are tries that failed, with the reason, retried later.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fax_waits_at_the_cap_uncounted_and_a_tenant_that_may_not_send_fails_its_try() {
    use std::sync::Arc;
    use switchboard::sim::{Scenario, Target};
    let (switch, sb) = common::process::demo_beside_switch("fax-refusals").await;
    let admin = common::process::login(sb.http, "tenant@acme.test", "Demo-Tenant-2026").await;
    let doc = common::pdf::pages(&[(612.0, 792.0, "0 g 72 72 200 200 re f".into())]);
    let send = |number: &'static str| {
        let (admin, doc) = (admin.clone(), doc.clone());
        async move {
            let (st, v) = common::api::request(sb.http, "POST", &format!("/api/v1/faxes/outbound?number={number}"), Some(&admin), &doc).await;
            assert_eq!(st, 201, "{v}");
            v["id"].as_i64().unwrap()
        }
    };
    let fax = |id: i64| sb.store().fax(switchboard::store::TenantId(1), id, None).unwrap().0;
    let sql = |q: &str| sb.store().conn().unwrap().execute(q, []).unwrap();
    sql("UPDATE tenants SET max_concurrent_calls = 1 WHERE id = 1");
    switch.set_originate_scenario(Scenario {
        fax: Some(FaxRun { duration_ms: 50, ..Default::default() }),
        default_target: Target::Answer { after_ms: 20, talk_ms: None },
        ..Scenario::default()
    });

    // A call holds Acme's one line for 4 s.
    let mut s = from_phone("acme.switchboard.test", "1001", "1002");
    s.targets = std::collections::BTreeMap::from([("user/1002@acme.switchboard.test".to_string(), answers(4000))]);
    let call = tokio::spawn({
        let switch = switch.clone();
        async move { switch.call(sb.outbound, Arc::new(s)).await }
    });
    until(|| async { (!switch.conversations().is_empty()).then_some(()) }).await;
    let waiting = send("%2B12125551234").await;
    let put_off = until(|| async { Some(fax(waiting)).filter(|f| f["result_text"].as_str().is_some_and(|t| t.starts_with("waiting"))) }).await;
    assert_eq!(
        (put_off["status"].as_str(), put_off["attempts"].as_i64(), put_off["result_text"].as_str()),
        (Some("queued"), Some(0), Some("waiting: the tenant's 1 concurrent calls are all in use")),
        "{put_off}"
    );
    assert_eq!(switch.conversations().len(), 1, "nobody else was dialed: {:?}", switch.conversations());
    call.await.unwrap();
    sql(&format!("UPDATE faxes SET next_attempt_at = '2000-01-01T00:00:00Z' WHERE id = {waiting}"));
    let sent = until(|| async { Some(fax(waiting)).filter(|f| f["status"] == "sent") }).await;
    assert_eq!(sent["attempts"], 1, "sent on its first try: {sent}");

    // Prepaid with nothing left; then disabled (its users can no longer sign in: the job is
    // one queued before): each a try that failed, queued again.
    sql("UPDATE tenants SET credit_policy = 'prepaid', balance = 0 WHERE id = 1");
    let broke = send("%2B12125551236").await;
    let tried = |id: i64, why: &'static str| async move {
        // Once the try is over: it is `sending` for the moment between its start and its end.
        let tried = until(|| async { Some(fax(id)).filter(|f| f["attempts"] == 1 && f["status"] != "sending") }).await;
        assert_eq!((tried["status"].as_str(), tried["result_text"].as_str()), (Some("queued"), Some(why)), "{tried}");
        assert!(tried["next_attempt_at"].as_str().is_some(), "retried later: {tried}");
    };
    tried(broke, "no credit left (prepaid)").await;
    sql("UPDATE tenants SET enabled = 0, credit_policy = 'flag' WHERE id = 1");
    let queued = switchboard::store::fax::Outgoing { number: "+12125551235".into(), tiff: "1/out-x.tif".into(), pages: 1, ..Default::default() };
    tried(sb.store().queue_fax(switchboard::store::TenantId(1), &queued).unwrap(), "the tenant is disabled").await;
    assert_eq!(switch.conversations().len(), 0, "nobody was dialed");
}

/// The far end's failures as spandsp reports them, through the socket: a number answered by
/// no fax machine fails its try with spandsp's reason and is retried, then failed; a far end
/// that refuses T.38 still gets the fax, in audio, and the log says T.38 was refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_fax_tone_fails_the_try_with_spandsp_s_reason_and_t38_refused_still_sends() {
    use switchboard::sim::{Scenario, Target};
    let (switch, sb) = common::process::demo_beside_switch("fax-far-end").await;
    let admin = common::process::login(sb.http, "tenant@acme.test", "Demo-Tenant-2026").await;
    let doc = common::pdf::pages(&[(612.0, 792.0, "0 g 72 72 200 200 re f".into())]);
    let settings = json!({ "caller_id": "+12125550100", "station_id": "ACME", "header": "", "max_retries": 1, "retry_delay": 30,
                           "ecm": true, "t38": true, "delivery_email": "", "retention_days": 30 });
    assert_eq!(common::api::request(sb.http, "PUT", "/api/v1/fax-settings", Some(&admin), settings.to_string().as_bytes()).await.0, 200);
    let fax = |id: i64| sb.store().fax(switchboard::store::TenantId(1), id, None).unwrap().0;
    let send = |number: &'static str| {
        let (admin, doc) = (admin.clone(), doc.clone());
        async move {
            common::api::request(sb.http, "POST", &format!("/api/v1/faxes/outbound?number={number}"), Some(&admin), &doc).await.1["id"]
                .as_i64()
                .unwrap()
        }
    };
    let answered = |run: FaxRun| Scenario { fax: Some(run), default_target: Target::Answer { after_ms: 10, talk_ms: None }, ..Scenario::default() };

    switch.set_originate_scenario(answered(FaxRun::no_fax_tone()));
    let voice = send("%2B12125551234").await;
    let first = until(|| async { Some(fax(voice)).filter(|f| f["attempts"] == 1 && f["status"] == "queued") }).await;
    assert_eq!(
        (first["result_text"].as_str(), first["result_code"].as_i64()),
        (Some("Timed out waiting for initial communication"), Some(2)),
        "{first}"
    );
    sb.store().conn().unwrap().execute("UPDATE faxes SET next_attempt_at = '2000-01-01T00:00:00Z' WHERE id = ?1", [voice]).unwrap();
    let failed = until(|| async { Some(fax(voice)).filter(|f| f["status"] == "failed") }).await;
    assert_eq!(failed["attempts"], 2, "{failed}");
    let charged: i64 = sb.store().conn().unwrap().query_row("SELECT COUNT(*) FROM fax_charges", [], |r| r.get(0)).unwrap();
    assert_eq!(charged, 0, "nothing sent, nothing charged");

    switch.set_originate_scenario(answered(FaxRun { t38_refused: true, ..FaxRun::default() }));
    let refused = send("%2B12125551235").await;
    let sent = until(|| async { Some(fax(refused)).filter(|f| f["status"] != "queued" && f["status"] != "sending") }).await;
    assert_eq!((sent["status"].as_str(), sent["t38"].as_str(), sent["pages"].as_i64()), (Some("sent"), Some("refused"), Some(1)), "{sent}");
    switch.set_originate_scenario(answered(FaxRun::default()));
    let t38 = send("%2B12125551236").await;
    let sent = until(|| async { Some(fax(t38)).filter(|f| f["status"] == "sent") }).await;
    assert_eq!(sent["t38"], "negotiated", "{sent}");
}

/// The do-not-contact list: numbers and prefixes listed over HTTP or imported from a CSV
/// (with a report of each refused row) and exported; a fax to a listed number is refused
/// when sent, and one queued before its number was listed is failed, never dialed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_number_on_the_do_not_contact_list_is_never_faxed() {
    let (switch, sb) = common::process::demo_beside_switch("fax-dnc").await;
    let admin = common::process::login(sb.http, "tenant@acme.test", "Demo-Tenant-2026").await;
    let req = |m: &'static str, path: &str, body: Vec<u8>| {
        let (admin, path) = (admin.clone(), path.to_string());
        async move { common::api::request(sb.http, m, &path, Some(&admin), &body).await }
    };
    let doc = common::pdf::pages(&[(612.0, 792.0, "0 g 72 72 200 200 re f".into())]);

    let (st, v) = req("POST", "/api/v1/fax-dnc", json!({ "number": "+1 (212) 555-1234", "note": "asked us to stop" }).to_string().into_bytes()).await;
    assert_eq!((st, v["number"].as_str()), (201, Some("+12125551234")), "{v}");
    let listed = v["id"].as_i64().unwrap();
    let (st, v) = req("POST", "/api/v1/fax-dnc", json!({ "number": "+12125551234" }).to_string().into_bytes()).await;
    assert_eq!((st, v["field"].as_str()), (422, Some("number")), "listed once: {v}");
    assert_eq!(req("POST", "/api/v1/fax-dnc", json!({ "number": "+1900", "prefix": true }).to_string().into_bytes()).await.0, 201);

    // Refused at the door, the entry named; nothing queued.
    for (number, why) in [("%2B12125551234", "+12125551234"), ("12125551234", "+12125551234"), ("%2B19005550000", "numbers beginning +1900")] {
        let (st, v) = req("POST", &format!("/api/v1/faxes/outbound?number={number}"), doc.clone()).await;
        assert_eq!((st, v["field"].as_str()), (422, Some("number")), "{v}");
        assert!(v["message"].as_str().unwrap().contains(why), "{v}");
    }
    assert_eq!(req("GET", "/api/v1/faxes/outbound", Vec::new()).await.1["total"], 0);

    // Listed after it was queued: failed for good with the reason, and nobody dialed.
    let queued = switchboard::store::fax::Outgoing { number: "+19005551111".into(), tiff: "1/out-x.tif".into(), pages: 1, ..Default::default() };
    let id = sb.store().queue_fax(switchboard::store::TenantId(1), &queued).unwrap();
    let failed =
        until(|| async { Some(sb.store().fax(switchboard::store::TenantId(1), id, None).unwrap().0).filter(|f| f["status"] == "failed") }).await;
    assert_eq!(failed["result_text"], "on the do-not-contact list (numbers beginning +1900)", "{failed}");
    assert!(switch.conversations().is_empty(), "nobody was dialed");

    // Import: a header, a good row, a bad one, one already listed, a prefix.
    // (and a row that is not text at all, named as the file numbers it).
    let mut csv = b"number,prefix,note\n+44 20 7946 0000,,\"client, London\"\nnot a number,,\n+12125551234,,again\n+44,1,UK\n".to_vec();
    csv.extend_from_slice(b"+331\xff\xfe,,\n");
    let (st, report) = req("POST", "/api/v1/fax-dnc/import", csv).await;
    assert_eq!(st, 200, "{report}");
    assert_eq!((report["added"].as_u64(), report["duplicates"].as_u64()), (Some(2), Some(1)), "{report}");
    assert_eq!(
        report["refused"].as_array().map(|r| r.iter().map(|x| x["row"].clone()).collect::<Vec<_>>()),
        Some(vec![json!(2), json!(5)]),
        "{report}"
    );
    assert!(report["refused"][1]["reason"].as_str().unwrap().starts_with("not CSV"), "{report}");
    let (st, list) = req("GET", "/api/v1/fax-dnc?q=London", Vec::new()).await;
    assert_eq!((st, list["total"].as_i64(), list["items"][0]["number"].as_str()), (200, Some(1), Some("+442079460000")), "{list}");
    let export = common::api::request_raw(sb.http, "GET", "/api/v1/fax-dnc/export", Some(&admin)).await;
    let export = String::from_utf8(export).unwrap();
    assert!(
        export.starts_with("number,prefix,note\n") && export.contains("+442079460000,0,\"client, London\"\n") && export.contains("+44,1,UK\n"),
        "{export}"
    );

    // Off the list: sendable again.
    assert_eq!(req("DELETE", &format!("/api/v1/fax-dnc/{listed}"), Vec::new()).await.0, 204);
    let (st, v) = req("POST", "/api/v1/faxes/outbound?number=%2B12125551234", doc).await;
    assert_eq!(st, 201, "{v}");
}

/// Contacts imported from a CSV into a group: each row imported, updated (its fax number
/// already kept) or skipped with why (a bad number, twice in the file, on the do-not-contact
/// list); exported back with the same columns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contacts_import_into_a_group_with_a_report_row_by_row_and_export() {
    let (_switch, sb) = common::process::demo_beside_switch("fax-contacts").await;
    let admin = common::process::login(sb.http, "tenant@acme.test", "Demo-Tenant-2026").await;
    let req = |m: &'static str, path: &str, body: Vec<u8>| {
        let (admin, path) = (admin.clone(), path.to_string());
        async move { common::api::request(sb.http, m, &path, Some(&admin), &body).await }
    };
    let (st, kept) = req("POST", "/api/v1/fax-contacts", json!({ "name": "Old Name", "fax": "+14155550100" }).to_string().into_bytes()).await;
    assert_eq!(st, 201, "{kept}");
    let (st, group) = req("POST", "/api/v1/fax-groups", json!({ "name": "Clients" }).to_string().into_bytes()).await;
    assert_eq!(st, 201, "{group}");
    assert_eq!(req("POST", "/api/v1/fax-dnc", json!({ "number": "+14155550199" }).to_string().into_bytes()).await.0, 201);

    let csv = "\u{feff}name,company,fax,email,notes\n\
               Acme Legal,\"Acme, Inc.\",+1 415 555 0101,legal@acme.test,=cmd|' /C calc'!A0\n\
               New Name,,+14155550100,,\n\
               Nobody,,555,,\n\
               Twice,,+14155550101,,\n\
               Opted Out,,+14155550199,,\n";
    let (st, report) = req("POST", &format!("/api/v1/fax-contacts/import?group={}", group["id"]), csv.as_bytes().to_vec()).await;
    assert_eq!(st, 200, "{report}");
    assert_eq!((report["imported"].as_u64(), report["updated"].as_u64()), (Some(1), Some(1)), "{report}");
    let skipped: Vec<(i64, String)> =
        report["skipped"].as_array().unwrap().iter().map(|s| (s["row"].as_i64().unwrap(), s["reason"].as_str().unwrap().to_string())).collect();
    assert_eq!(skipped.iter().map(|s| s.0).collect::<Vec<_>>(), vec![3, 4, 5], "{report}");
    assert!(skipped[0].1.starts_with("fax: ") && skipped[1].1.contains("twice") && skipped[2].1.contains("do-not-contact"), "{skipped:?}");

    let (_, updated) = req("GET", &format!("/api/v1/fax-contacts/{}", kept["id"]), Vec::new()).await;
    assert_eq!(updated["name"], "New Name", "{updated}");
    let (_, group) = req("GET", &format!("/api/v1/fax-groups/{}", group["id"]), Vec::new()).await;
    assert_eq!(group["members"].as_array().map(Vec::len), Some(2), "both rows that went in are in the group: {group}");
    // The same file again: the contacts are updated, and the group holds each once.
    let (st, again) = req("POST", &format!("/api/v1/fax-contacts/import?group={}", group["id"]), csv.as_bytes().to_vec()).await;
    assert_eq!((st, again["imported"].as_u64(), again["updated"].as_u64()), (200, Some(0), Some(2)), "{again}");
    let (_, group) = req("GET", &format!("/api/v1/fax-groups/{}", group["id"]), Vec::new()).await;
    assert_eq!(group["members"].as_array().map(Vec::len), Some(2), "{group}");

    let export = String::from_utf8(common::api::request_raw(sb.http, "GET", "/api/v1/fax-contacts/export", Some(&admin)).await).unwrap();
    assert!(export.starts_with("name,company,fax,email,notes\n"), "{export}");
    // Text a spreadsheet would run is exported as text.
    assert!(export.contains("Acme Legal,\"Acme, Inc.\",+14155550101,legal@acme.test,'=cmd|' /C calc'!A0\n"), "{export}");
    assert!(export.contains("New Name,,+14155550100,,\n"), "{export}");
}

/// The live model of a simulated switch, in-process, over its control connection.
struct LiveBeside {
    stop: tokio::sync::watch::Sender<bool>,
    sup: switchboard::esl::inbound::Supervisor,
    _serving: tokio::task::JoinHandle<()>,
}

impl LiveBeside {
    async fn start(store: &switchboard::store::Store) -> (switchboard::sim::Switch, switchboard::realtime::Live, LiveBeside) {
        use switchboard::esl::inbound::{Supervisor, SwitchState};
        let switch = switchboard::sim::Switch::default();
        let (esl, serving) = switchboard::sim::inbound::serve(switch.clone(), "127.0.0.1:0".parse().unwrap(), "pw".into()).await.unwrap();
        let (stop_tx, stop) = tokio::sync::watch::channel(false);
        let sup = Supervisor::spawn(esl, "pw".into(), stop.clone());
        let mut st = sup.state_watch();
        tokio::time::timeout(std::time::Duration::from_secs(10), st.wait_for(|s| *s == SwitchState::Online)).await.unwrap().unwrap();
        let live = switchboard::realtime::Live::spawn(&sup, store.clone(), stop);
        (switch, live, LiveBeside { stop: stop_tx, sup, _serving: serving })
    }

    /// The live model follows the switch on a thread of its own until its connection
    /// closes, which stopping does (else the runtime's end would wait for it).
    async fn stop(self) {
        use switchboard::esl::inbound::SwitchState;
        self.stop.send(true).unwrap();
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), self.sup.state_watch().wait_for(|s| *s != SwitchState::Online)).await;
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}
