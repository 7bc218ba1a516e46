//! Bulk fax campaigns through a real `switchboard serve` and the simulated switch: 500
//! recipients, a tenth of them on the do-not-contact list, some numbers busy and some that
//! do not exist, a few rows twice or not numbers at all. Every recipient ends in one final
//! state, nobody listed is dialed, the campaign's limit is never passed as the switch sees
//! it, the counts are the records, and nobody is faxed twice, also when switchboard is
//! killed (SIGKILL) halfway and started again.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use switchboard::sim::apps::fax::FaxRun;
use switchboard::sim::{Scenario, Target};

const PASSWORD: &str = "campaign";
const LIMIT: usize = 6;
const RECIPIENTS: usize = 500;

/// How recipient `i` behaves: listed on the do-not-contact list, busy every time, a number
/// that does not exist, or a fax machine that takes the fax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Far {
    Listed,
    Busy,
    Unallocated,
    Fax,
}

/// A fixed draw (the same every run): every tenth listed, about 6% busy, 4% unallocated.
fn far(i: usize) -> Far {
    if i % 10 == 0 {
        return Far::Listed;
    }
    let r = (i as u64).wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407) >> 33;
    match r % 100 {
        0..=5 => Far::Busy,
        6..=9 => Far::Unallocated,
        _ => Far::Fax,
    }
}

fn number(i: usize) -> String {
    format!("+1212555{i:04}")
}

async fn until<T, F, Fut>(what: &str, within: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Some(v) = f().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_recipients_end_once_each_within_the_limit_and_nobody_listed_is_dialed() {
    campaign(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_campaign_killed_halfway_resumes_and_nobody_is_faxed_twice() {
    campaign(true).await;
}

async fn campaign(kill: bool) {
    let switch = switchboard::sim::Switch::default();
    let (esl, _h) = switchboard::sim::inbound::serve(switch.clone(), "127.0.0.1:0".parse().unwrap(), PASSWORD.into()).await.unwrap();
    let dir = common::api::temp_dir();
    let mut sb = common::process::serve(&dir, esl, PASSWORD, &["--demo"]);
    switch.set_socket_target(sb.outbound);
    let mut token = common::process::login(sb.http, "tenant@acme.test", "Demo-Tenant-2026").await;
    let store = sb.store();
    let acme = switchboard::store::TenantId(
        store.conn().unwrap().query_row("SELECT id FROM tenants WHERE sip_domain = 'acme.switchboard.test'", [], |r| r.get(0)).unwrap(),
    );

    // Each number's dial string, as the tenant's outbound route makes it.
    let routes = store.outbound_routes(acme).unwrap();
    let endpoint = |n: &str| {
        let (route, out) = switchboard::pbx::plan::outbound(routes.clone(), n).expect("the demo routes dial +1 numbers");
        switchboard::pbx::dialstring::gateway(route.trunks[0].trunk_id, &out)
    };
    let mut targets = BTreeMap::new();
    for i in 0..RECIPIENTS {
        match far(i) {
            Far::Busy => targets.insert(endpoint(&number(i)), Target::Busy { after_ms: 20 }),
            Far::Unallocated => targets.insert(endpoint(&number(i)), Target::Fail { cause: "UNALLOCATED_NUMBER".into(), after_ms: 20 }),
            _ => None,
        };
    }
    // A fax takes long enough that the kill finds some being sent.
    let duration_ms = if kill { 600 } else { 150 };
    switch.set_originate_scenario(Scenario {
        fax: Some(FaxRun { duration_ms, ..FaxRun::default() }),
        default_target: Target::Answer { after_ms: 20, talk_ms: None },
        targets,
        ..Scenario::default()
    });

    let http = |sb_http: std::net::SocketAddr, token: String| {
        move |m: &'static str, path: String, body: Vec<u8>| {
            let token = token.clone();
            async move { common::api::request(sb_http, m, &path, Some(&token), &body).await }
        }
    };
    let req = http(sb.http, token.clone());
    // The do-not-contact list: every tenth number.
    let listed: Vec<usize> = (0..RECIPIENTS).filter(|i| far(*i) == Far::Listed).collect();
    let dnc: String = listed.iter().map(|i| format!("{}\n", number(*i))).collect();
    let (st, v) = req("POST", "/api/v1/fax-dnc/import".into(), dnc.into_bytes()).await;
    assert_eq!((st, v["added"].as_u64()), (200, Some(listed.len() as u64)), "{v}");
    let doc = common::pdf::pages(&[(612.0, 792.0, "BT /F1 24 Tf 72 700 Td (Offer) Tj ET".into())]);
    let (st, d) = req("POST", "/api/v1/fax-documents?name=Offer".into(), doc).await;
    assert_eq!(st, 201, "{d}");

    // The list: every number once, three twice, two that are not numbers.
    let mut csv = String::from("number,name,company\n");
    for i in 0..RECIPIENTS {
        csv.push_str(&format!("{},Person {i},Company {}\n", number(i), i % 7));
    }
    for i in [1, 2, 3] {
        csv.push_str(&format!("{},Again {i},\n", number(i)));
    }
    csv.push_str("not a number,Bad,\n12,Short,\n");
    let body = json!({ "name": "Spring offer", "document_id": d["id"], "recipients_csv": csv, "max_concurrent": LIMIT, "max_retries": 1,
                       "retry_delay": 30 });
    let (st, c) = req("POST", "/api/v1/fax-campaigns".into(), body.to_string().into_bytes()).await;
    assert_eq!(st, 201, "{c}");
    let id = c["id"].as_i64().unwrap();
    assert_eq!(c["counts"]["total"], RECIPIENTS + 5, "{c}");
    assert_eq!(c["counts"]["skipped"], listed.len() + 5, "listed, twice and not numbers are skipped at once: {c}");
    // The test's one shortcut: a busy number's retry comes a second later, not thirty.
    store.conn().unwrap().execute("UPDATE fax_campaigns SET retry_delay = 1 WHERE id = ?1", [id]).unwrap();

    if kill {
        // Halfway: killed without a word (SIGKILL), then started again over the same data.
        until("half the recipients", Duration::from_secs(120), || {
            let req = req.clone();
            async move {
                let (_, c) = req("GET", format!("/api/v1/fax-campaigns/{id}"), Vec::new()).await;
                (c["counts"]["sent"].as_u64().unwrap_or(0) >= 200).then_some(())
            }
        })
        .await;
        let sending: i64 = store.conn().unwrap().query_row("SELECT COUNT(*) FROM faxes WHERE status = 'sending'", [], |r| r.get(0)).unwrap();
        assert!(sending > 0, "the kill finds faxes being sent");
        sb.child.kill().unwrap();
        sb.child.wait().unwrap();
        sb = common::process::serve(&dir, esl, PASSWORD, &[]);
        switch.set_socket_target(sb.outbound);
        token = common::process::login(sb.http, "tenant@acme.test", "Demo-Tenant-2026").await;
    }
    let req = http(sb.http, token.clone());
    let started = Instant::now();
    let done = loop {
        let (_, c) = req("GET", format!("/api/v1/fax-campaigns/{id}"), Vec::new()).await;
        if c["status"] == "completed" {
            break c;
        }
        if started.elapsed() > Duration::from_secs(240) {
            let open: Vec<(i64, String, i64, Option<String>, String)> = store
                .conn()
                .unwrap()
                .prepare(
                    "SELECT id, status, attempts, next_attempt_at, result_text FROM faxes WHERE campaign_id = ?1 AND status IN ('queued', 'sending')",
                )
                .unwrap()
                .query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            panic!(
                "the campaign did not complete: {c}\nits faxes still open: {open:?}\n{}",
                sb.log().lines().rev().take(30).collect::<Vec<_>>().join("\n")
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    // Every recipient in one final state, the counts the records.
    let (st, list) = req("GET", format!("/api/v1/fax-campaigns/{id}/recipients?per_page=1000"), Vec::new()).await;
    assert_eq!(st, 200);
    let rows = list["items"].as_array().unwrap().clone();
    assert_eq!(rows.len(), RECIPIENTS + 5);
    let mut by_state: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for r in &rows {
        by_state.entry(r["state"].as_str().unwrap().to_string()).or_default().push(r);
    }
    assert!(by_state.keys().all(|s| ["sent", "failed", "skipped"].contains(&s.as_str())), "{:?}", by_state.keys());
    for s in ["sent", "failed", "skipped"] {
        assert_eq!(done["counts"][s].as_u64().unwrap() as usize, by_state.get(s).map_or(0, Vec::len), "{s}: {done}");
    }
    assert_eq!(done["counts"]["done"], RECIPIENTS + 5);
    let of = |n: &str| (0..RECIPIENTS).find(|i| number(*i) == n);
    let originates = switch.originates();
    assert!(originates.peak <= LIMIT, "the switch saw {} faxes at once, over the campaign's {LIMIT}", originates.peak);
    assert!(originates.peak >= 2, "faxes went side by side: {}", originates.peak);
    for r in &rows {
        let n = r["number"].as_str().unwrap();
        let reason = r["reason"].as_str().unwrap();
        let faxed = if of(n).is_some() { originates.faxed.get(&endpoint(n)).copied().unwrap_or(0) } else { 0 };
        match (r["state"].as_str().unwrap(), of(n).map(far)) {
            ("skipped", Some(Far::Listed)) => assert!(reason.starts_with("on the do-not-contact list"), "{r}"),
            ("skipped", _) => assert!(reason.starts_with("duplicate") || reason.starts_with("invalid number"), "{r}"),
            ("sent", Some(Far::Fax)) => assert_eq!(
                faxed,
                1,
                "a sent recipient's machine got the fax once: {r}\n{}",
                sb.log().lines().filter(|l| l.contains(&format!("\"fax\":{},", r["fax_id"]))).collect::<Vec<_>>().join("\n")
            ),
            ("failed", Some(Far::Busy)) => assert!(reason.contains("USER_BUSY") && r["tries"] == 2, "tried, retried once, failed: {r}"),
            ("failed", Some(Far::Unallocated)) => assert!(reason.contains("UNALLOCATED_NUMBER") && r["tries"] == 1, "not retried: {r}"),
            // Only a kill leaves a good number failed: cut mid-fax on its last try.
            ("failed", Some(Far::Fax)) if kill => {
                assert_eq!(reason, "switchboard stopped while it was being sent", "{r}");
                assert_eq!(faxed, 0, "{r}");
            }
            other => panic!("{other:?}: {r}"),
        }
    }
    // Nobody listed was dialed; nobody received the fax twice.
    let listed_endpoints: BTreeSet<String> = listed.iter().map(|i| endpoint(&number(*i))).collect();
    let dialed_listed: Vec<&String> = originates.dialed.keys().filter(|e| listed_endpoints.contains(*e)).collect();
    assert!(dialed_listed.is_empty(), "{dialed_listed:?}");
    assert!(originates.faxed.values().all(|n| *n == 1), "{:?}", originates.faxed.iter().filter(|(_, n)| **n > 1).collect::<Vec<_>>());
    let sent = by_state.get("sent").map_or(0, Vec::len);
    assert_eq!(originates.faxed.values().sum::<usize>(), sent, "every fax a machine received is a sent recipient");
    let fax_rows = switchboard::store::Store::open(&dir.join("switchboard.db")).unwrap();
    let c = fax_rows.conn().unwrap();
    let (faxes_sent, charged): (i64, i64) = c
        .query_row(
            "SELECT (SELECT COUNT(*) FROM faxes WHERE campaign_id = ?1 AND status = 'sent'),
                    (SELECT COUNT(*) FROM fax_charges WHERE job IN (SELECT 'fax:out-' || id FROM faxes WHERE campaign_id = ?1))",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((faxes_sent as usize, charged as usize), (sent, sent), "each sent recipient's pages charged once");
    // The results file: a header and a row a recipient.
    let (st, file) = req("GET", format!("/api/v1/fax-campaigns/{id}/results"), Vec::new()).await;
    assert_eq!(st, 200);
    let file = file.as_str().unwrap().to_string();
    assert_eq!(file.lines().count(), RECIPIENTS + 6);
    assert!(file.starts_with("number,name,company,state,reason,tries,updated_at\n"));
    assert_eq!(file.lines().filter(|l| l.contains(",sent,")).count(), sent);
}

/// The store's side, without a switch: numbers are compared as they are dialed (a
/// duplicate or a listed number written another way is still one), and a fax whose
/// campaign is cancelled while it is being sent is not tried again: its recipient ends
/// skipped, not queued forever.
#[test]
fn numbers_are_compared_as_dialed_and_a_cancel_mid_fax_ends_every_recipient() {
    use switchboard::store::fax::{Outgoing, Start, Tried};
    use switchboard::store::fax_campaigns::{NewCampaign, NewRecipient};
    let dir = common::api::temp_dir();
    let store = switchboard::store::Store::open(&dir.join("switchboard.db")).unwrap();
    switchboard::store::seed::demo(&store, &|p| format!("plain:{p}")).unwrap();
    let acme = switchboard::store::TenantId(
        store.conn().unwrap().query_row("SELECT id FROM tenants WHERE sip_domain = 'acme.switchboard.test'", [], |r| r.get(0)).unwrap(),
    );
    store.import_dnc(acme, &[switchboard::store::fax_dnc::Entry { number: "+12125550101".into(), prefix: false, note: String::new() }]).unwrap();
    let to = |n: &str| NewRecipient { number: n.into(), ..Default::default() };
    let new = NewCampaign {
        name: "C".into(),
        document_name: "D".into(),
        pages: 1,
        start_at: "2026-01-01T00:00:00Z".into(),
        window_end: 1440,
        window_days: "1234567".into(),
        max_concurrent: 2,
        max_retries: 3,
        retry_delay: 30,
        recipients: vec![to("+1 (212) 555-0100"), to("0012125550100"), to("001 212 555 0101"), to("+1 212 555 0102")],
        ..Default::default()
    };
    let made = store.create_campaign(acme, None, &new).unwrap();
    assert_eq!((made.queued, made.skipped), (2, 2));
    let rows = store.campaign_recipients(acme, made.id, None, None, 1, 10).unwrap().items;
    let got: Vec<(&str, &str, &str)> =
        rows.iter().map(|r| (r["number"].as_str().unwrap(), r["state"].as_str().unwrap(), r["reason"].as_str().unwrap())).collect();
    assert_eq!(got[0], ("+12125550100", "queued", ""));
    assert_eq!(got[1], ("+12125550100", "skipped", "duplicate: already a recipient of this campaign"));
    assert_eq!(got[2], ("+12125550101", "skipped", "on the do-not-contact list (+12125550101)"));
    assert_eq!(got[3], ("+12125550102", "queued", ""));

    // One recipient's fax is being sent when the campaign is cancelled; its try then fails
    // in a way that would be retried.
    let live = store.live_campaigns().unwrap().remove(0);
    let first = rows[0]["id"].as_i64().unwrap();
    let fax =
        store.queue_campaign_fax(acme, &live, first, &Outgoing { number: "+12125550100".into(), pages: 1, ..Default::default() }).unwrap().unwrap();
    assert_eq!(store.queue_campaign_fax(acme, &live, first, &Outgoing::default()).unwrap(), None, "a recipient's fax is made once");
    assert_eq!(store.start_fax_try(fax, "t1", "").unwrap(), Start::Started);
    store.campaign_action(acme, made.id, None, "cancel").unwrap();
    let busy = Tried::Failed { reason: "USER_BUSY".into(), result_code: None, retry: true, call_uuid: String::new() };
    assert!(store.end_fax_try(fax, "t1", &busy).unwrap());
    let c = store.campaign(acme, made.id, None).unwrap();
    assert_eq!((c["status"].as_str(), c["counts"]["done"].as_i64(), c["counts"]["skipped"].as_i64()), (Some("cancelled"), Some(4), Some(4)), "{c}");
    let (f, _) = store.fax(acme, fax, None).unwrap();
    assert_eq!(f["status"], "failed", "not queued again: {f}");
}

/// Under a prepaid policy with no credit left, a running campaign pauses with that reason and
/// makes no faxes; a payment resumes it and its recipients' faxes are made.
#[tokio::test]
async fn a_prepaid_tenant_out_of_credit_pauses_its_campaign_until_it_pays() {
    use switchboard::store::fax_campaigns::{NewCampaign, NewRecipient, PAUSED_FOR_CREDIT};
    use switchboard::store::resource::Within;
    let dir = common::api::temp_dir();
    let store = switchboard::store::Store::open(&dir.join("switchboard.db")).unwrap();
    switchboard::store::seed::demo(&store, &|p| format!("plain:{p}")).unwrap();
    let acme = switchboard::store::TenantId(
        store.conn().unwrap().query_row("SELECT id FROM tenants WHERE sip_domain = 'acme.switchboard.test'", [], |r| r.get(0)).unwrap(),
    );
    let prepaid = json!({ "credit_policy": "prepaid" });
    store.update(&switchboard::store::resources::TENANTS, Within::Everything, None, acme.0, prepaid.as_object().unwrap()).unwrap();
    // Spent to nothing (the demo's opening balance), the test's one shortcut.
    store.conn().unwrap().execute("UPDATE tenants SET balance = 0 WHERE id = ?1", [acme.0]).unwrap();
    assert!(store.credit(acme).unwrap().available <= 0);
    // The campaign's own document files, as `POST /fax-campaigns` links them.
    let fax_dir = dir.join("fax");
    std::fs::create_dir_all(fax_dir.join(acme.0.to_string())).unwrap();
    for f in ["campaign-x.pdf", "campaign-x.tif"] {
        std::fs::write(fax_dir.join(acme.0.to_string()).join(f), b"kept").unwrap();
    }
    let new = NewCampaign {
        name: "C".into(),
        document_name: "D".into(),
        pdf: format!("{}/campaign-x.pdf", acme.0),
        tiff: format!("{}/campaign-x.tif", acme.0),
        pages: 1,
        start_at: "2026-01-01T00:00:00Z".into(),
        window_end: 1440,
        window_days: "1234567".into(),
        max_concurrent: 2,
        max_retries: 0,
        retry_delay: 30,
        recipients: vec![NewRecipient { number: "+12125550100".into(), ..Default::default() }],
        ..Default::default()
    };
    let id = store.create_campaign(acme, None, &new).unwrap().id;
    let now = jiff::Timestamp::now();
    assert_eq!(switchboard::fax_jobs::campaigns::once(&store, &fax_dir, now).await, 0, "no fax made without credit");
    let c = store.campaign(acme, id, None).unwrap();
    assert_eq!(
        (c["status"].as_str(), c["paused_reason"].as_str(), c["counts"]["queued"].as_i64()),
        (Some("paused"), Some(PAUSED_FOR_CREDIT), Some(1)),
        "{c}"
    );
    // A user's resume is for a user's pause; this one waits for the money.
    assert_eq!(switchboard::fax_jobs::campaigns::once(&store, &fax_dir, now).await, 0);
    let pay = switchboard::store::ledger::Payment {
        amount: 5_000_000,
        payment_type: "cash".into(),
        date: String::new(),
        note: String::new(),
        user_id: None,
    };
    store.pay(acme, &pay).unwrap();
    assert_eq!(switchboard::fax_jobs::campaigns::once(&store, &fax_dir, now).await, 0, "resumed this pass");
    assert_eq!(store.campaign(acme, id, None).unwrap()["status"], "running");
    assert_eq!(switchboard::fax_jobs::campaigns::once(&store, &fax_dir, now).await, 1, "its recipient's fax is made");
}

/// The tenant's cover pages (an admin's) are listed to its users beside their own, for Send
/// fax, and stay the admin's to change; a user's default is theirs and leaves the tenant's.
#[test]
fn users_choose_the_tenant_s_cover_pages_and_change_only_their_own() {
    use switchboard::store::resource::{Actor, ListQuery, Within};
    use switchboard::store::resources::FAX_COVER_PAGES;
    let dir = common::api::temp_dir();
    let store = switchboard::store::Store::open(&dir.join("switchboard.db")).unwrap();
    switchboard::store::seed::demo(&store, &|p| format!("plain:{p}")).unwrap();
    let acme = switchboard::store::TenantId(
        store.conn().unwrap().query_row("SELECT id FROM tenants WHERE sip_domain = 'acme.switchboard.test'", [], |r| r.get(0)).unwrap(),
    );
    let user: i64 = store.conn().unwrap().query_row("SELECT id FROM users WHERE email = 'user@acme.test'", [], |r| r.get(0)).unwrap();
    let obj = |v: Value| v.as_object().unwrap().clone();
    let admin = Actor { user_id: 0, admin: true, enforce_packages: false };
    let own = Actor { user_id: user, admin: false, enforce_packages: false };
    let tenant_page = store.create(&FAX_COVER_PAGES, Some(acme), &admin, &obj(json!({ "name": "Company", "is_default": true }))).unwrap();
    let mine = store.create(&FAX_COVER_PAGES, Some(acme), &own, &obj(json!({ "name": "Mine", "is_default": true }))).unwrap();
    let q = ListQuery { page: 1, per_page: 50, ..Default::default() };
    let listed = store.list(&FAX_COVER_PAGES, Within::Tenant(acme), Some(user), &q).unwrap().items;
    let names: Vec<(&str, bool)> = listed.iter().map(|c| (c["name"].as_str().unwrap(), c["is_default"].as_bool().unwrap())).collect();
    assert_eq!(names, vec![("Company", true), ("Mine", true)], "the user's default left the tenant's");
    let id = tenant_page["id"].as_i64().unwrap();
    assert!(store.update(&FAX_COVER_PAGES, Within::Tenant(acme), Some(user), id, &obj(json!({ "name": "Mine now" }))).is_err());
    assert!(store.delete(&FAX_COVER_PAGES, Within::Tenant(acme), Some(user), id).is_err());
    assert!(store.cover_page(acme, id, Some(user)).is_ok(), "and usable by them");
    assert_eq!(mine["owner_user_id"], user);
}
