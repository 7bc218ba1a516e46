//! Realtime control through the real path: `switchboard serve --demo` as a process, its
//! control connection to the simulated switch's inbound face, calls handed to its outbound
//! socket, and the monitor's API and live feed over HTTP.

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::api::request;
use serde_json::{json, Value};
use switchboard::sim::{Registration, Scenario, Switch, Target};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const ACME: &str = "acme.switchboard.test";
const PASSWORD: &str = "realtime-test";

struct World {
    switch: Switch,
    sb: common::process::Served,
}

async fn world() -> World {
    let (switch, sb) = common::process::demo_beside_switch(PASSWORD).await;
    let w = World { switch, sb };
    // Online once the model is loaded.
    let admin = w.login("tenant@acme.test", "Demo-Tenant-2026").await;
    w.until("the switch is online", || async { w.get("/api/v1/channels", &admin).await["switch"]["state"] == "online" }).await;
    w
}

impl World {
    async fn login(&self, email: &str, password: &str) -> String {
        common::process::login(self.sb.http, email, password).await
    }

    async fn get(&self, path: &str, token: &str) -> Value {
        let (st, v) = request(self.sb.http, "GET", path, Some(token), b"").await;
        assert_eq!(st, 200, "GET {path}: {v}");
        v
    }

    async fn post(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        request(self.sb.http, "POST", path, Some(token), body.to_string().as_bytes()).await
    }

    async fn until<F, Fut>(&self, what: &str, mut f: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        for _ in 0..300 {
            if f().await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("timed out waiting until {what}");
    }

    /// Globex's admin, once Globex holds `token` too (so a refusal is about the tenant).
    async fn globex_holding(&self, token: &str) -> String {
        let root = self.login("admin@switchboard.test", "Demo-Admin-2026").await;
        let id = self.get("/api/v1/tenants?q=globex", &root).await["items"][0]["id"].as_i64().unwrap();
        let body = json!({ "permissions": ["fpbx_extension", token] }).to_string();
        let (st, v) = request(self.sb.http, "PATCH", &format!("/api/v1/tenants/{id}"), Some(&root), body.as_bytes()).await;
        assert_eq!(st, 200, "{v}");
        self.login("tenant@globex.test", "Demo-Globex-2026").await
    }

    async fn channels(&self, token: &str) -> Vec<Value> {
        self.get("/api/v1/channels", token).await["items"].as_array().cloned().unwrap_or_default()
    }
}

/// A call from Acme's phone 1001 to 1002, which answers and talks until hung up.
fn call_1001_to_1002() -> Arc<Scenario> {
    Arc::new(Scenario {
        caller_id_number: "1001".into(),
        caller_id_name: "Reception".into(),
        destination: "1002".into(),
        context: ACME.into(),
        domain: ACME.into(),
        profile: "internal".into(),
        playback_ms: 10,
        hangup_after_ms: Some(20_000),
        targets: BTreeMap::from([(format!("user/1002@{ACME}"), Target::Answer { after_ms: 10, talk_ms: None })]),
        ..Scenario::default()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_appears_is_held_transferred_and_hung_up_only_by_its_own_tenant() {
    let w = world().await;
    let acme = w.login("tenant@acme.test", "Demo-Tenant-2026").await;
    // Globex gets the realtime permission, so the refusal below is about the tenant.
    let globex = w.globex_holding("realtime").await;

    let call = tokio::spawn(w.switch.call(w.sb.outbound, call_1001_to_1002()));
    w.until("the call and its leg are in the model", || async { w.channels(&acme).await.len() == 2 }).await;
    let chans = w.channels(&acme).await;
    let a = chans.iter().find(|c| c["direction"] == "inbound").expect("the caller's channel").clone();
    let b = chans.iter().find(|c| c["direction"] == "outbound").expect("the leg ringing 1002").clone();
    assert_eq!((a["caller_number"].as_str(), a["destination"].as_str()), (Some("1001"), Some("1002")));
    assert!(b["name"].as_str().unwrap().contains("1002"), "{b}");
    let uuid = a["uuid"].as_str().unwrap().to_string();
    assert_eq!(w.switch.find(&uuid).map(|c| c.uuid()), Some(uuid.clone()), "the model's uuid is the switch's");
    w.until("the call is answered", || async {
        w.channels(&acme).await.iter().any(|c| c["uuid"] == uuid.as_str() && c["call_state"] == "ACTIVE" && c["codec"] == "PCMU")
    })
    .await;

    // Another tenant sees nothing and can touch nothing.
    assert!(w.channels(&globex).await.is_empty(), "Globex sees none of Acme's channels");
    let (st, v) = w.post("/api/v1/channels/hangup", &globex, json!({ "uuid": uuid })).await;
    assert_eq!(st, 404, "another tenant's channel is not found: {v}");
    let (st, _) = w.post("/api/v1/channels/hold", &globex, json!({ "uuid": uuid, "hold": true })).await;
    assert_eq!(st, 404);
    assert!(w.switch.find(&uuid).is_some_and(|c| !c.is_down()), "the call is still up");

    // Hold and unhold reach the switch and come back as events.
    let (st, v) = w.post("/api/v1/channels/hold", &acme, json!({ "uuid": uuid, "hold": true })).await;
    assert_eq!(st, 200, "{v}");
    w.until("the channel shows held", || async { w.channels(&acme).await.iter().any(|c| c["uuid"] == uuid.as_str() && c["held"] == true) }).await;
    let (st, _) = w.post("/api/v1/channels/hold", &acme, json!({ "uuid": uuid, "hold": false })).await;
    assert_eq!(st, 200);
    w.until("the channel shows unheld", || async { w.channels(&acme).await.iter().any(|c| c["uuid"] == uuid.as_str() && c["held"] == false) }).await;

    // Hostile input never reaches the switch.
    let (st, v) = w.post("/api/v1/channels/hangup", &acme, json!({ "uuid": format!("{uuid}\napi shutdown") })).await;
    assert_eq!((st, v["field"].as_str()), (422, Some("uuid")));
    let (st, v) = w.post("/api/v1/channels/transfer", &acme, json!({ "uuid": uuid, "destination": "1003 XML default" })).await;
    assert_eq!((st, v["field"].as_str()), (422, Some("destination")));

    // Hang up, as the tenant's admin: the switch's channel goes down by the switch's hand.
    let (st, v) = w.post("/api/v1/channels/hangup", &acme, json!({ "uuid": uuid })).await;
    assert_eq!(st, 200, "{v}");
    let report = tokio::time::timeout(Duration::from_secs(10), call).await.unwrap().unwrap();
    assert_eq!((report.hangup_by.as_deref(), report.hangup_cause.as_deref()), (Some("switch"), Some("NORMAL_CLEARING")));
    w.until("the call left the model", || async { w.channels(&acme).await.is_empty() }).await;
    let (st, _) = w.post("/api/v1/channels/hangup", &acme, json!({ "uuid": uuid })).await;
    assert_eq!(st, 404, "a channel that is gone is not found");

    // The admin's commands are in the activity log.
    let log = w.get("/api/v1/activity?action=hold", &acme).await;
    assert!(log["items"].as_array().unwrap().iter().any(|e| e["object"] == format!("channels/{uuid}")), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blind_transfer_sends_the_channel_into_its_tenants_context() {
    let w = world().await;
    let acme = w.login("tenant@acme.test", "Demo-Tenant-2026").await;
    // The simulated bridge runs on until the caller hangs up, 3 s in.
    let mut s = (*call_1001_to_1002()).clone();
    s.hangup_after_ms = Some(3_000);
    let call = tokio::spawn(w.switch.call(w.sb.outbound, Arc::new(s)));
    w.until("the call is up", || async { w.channels(&acme).await.iter().any(|c| c["direction"] == "inbound" && c["call_state"] == "ACTIVE") }).await;
    let uuid = w.channels(&acme).await.iter().find(|c| c["direction"] == "inbound").unwrap()["uuid"].as_str().unwrap().to_string();
    let (st, v) = w.post("/api/v1/channels/transfer", &acme, json!({ "uuid": uuid, "destination": "1003" })).await;
    assert_eq!(st, 200, "{v}");
    let report = tokio::time::timeout(Duration::from_secs(10), call).await.unwrap().unwrap();
    assert_eq!(report.transferred_to.as_deref(), Some(format!("1003 XML {ACME}").as_str()), "uuid_transfer named the right channel and context");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registrations_and_gateways_follow_the_switch() {
    let w = world().await;
    let acme = w.login("tenant@acme.test", "Demo-Tenant-2026").await;
    let root = w.login("admin@switchboard.test", "Demo-Admin-2026").await;
    let reg = |user: &str, realm: &str| Registration {
        user: user.into(),
        realm: realm.into(),
        contact: format!("sip:{user}@192.0.2.7:5060"),
        network_ip: "192.0.2.7".into(),
        agent: "Yealink SIP-T46U".into(),
    };
    w.switch.add_registration(reg("1001", ACME));
    w.switch.add_registration(reg("2001", "globex.switchboard.test"));
    w.until("1001 is registered", || async {
        let v = w.get("/api/v1/registrations", &acme).await;
        v["items"].as_array().unwrap().iter().any(|r| r["user"] == "1001" && r["user_agent"] == "Yealink SIP-T46U")
    })
    .await;
    // 2001's registration comes after 1001's on the control connection: waited for too.
    w.until("2001 is registered", || async { w.get("/api/v1/registrations", &root).await["items"].as_array().unwrap().len() == 2 }).await;
    let mine = w.get("/api/v1/registrations", &acme).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1, "Globex's phone is not Acme's business: {mine}");
    assert_eq!(w.get("/api/v1/registrations", &root).await["items"].as_array().unwrap().len(), 2);
    w.switch.remove_registration("1001", ACME);
    w.until("1001 is gone", || async { w.get("/api/v1/registrations", &acme).await["items"].as_array().unwrap().is_empty() }).await;

    // The demo trunk's gateway: unknown until the switch has it, then its state as it changes.
    let gws = w.get("/api/v1/gateways", &acme).await;
    let trunk = gws["items"][0]["trunk_id"].as_i64().unwrap();
    assert_eq!(gws["items"][0]["state"], "unknown");
    // A gateway that does not register fires nothing but gateway_add: its NOREG/UP is read
    // from the switch's own list.
    w.switch.add_gateway(switchboard::sim::Gateway {
        name: format!("trunk{trunk}"),
        proxy: "sip.carrier.test".into(),
        state: "NOREG".into(),
        status: "UP".into(),
    });
    w.until("the gateway shows NOREG and UP", || async {
        let g = &w.get("/api/v1/gateways", &acme).await["items"][0];
        (g["state"] == "NOREG", g["status"] == "UP") == (true, true)
    })
    .await;
    // Its pings fail: still NOREG, now DOWN (sofia sends no call to it).
    w.switch.set_gateway_state(&format!("trunk{trunk}"), "NOREG", "DOWN");
    w.until("the gateway shows DOWN", || async { w.get("/api/v1/gateways", &acme).await["items"][0]["status"] == "DOWN" }).await;
    w.switch.set_gateway_state(&format!("trunk{trunk}"), "REGED", "UP");
    w.until("the gateway shows REGED", || async { w.get("/api/v1/gateways", &acme).await["items"][0]["state"] == "REGED" }).await;

    // A trunk saved in the API reaches the switch: the old gateway is dropped and the
    // profile rescanned (which fetches the gateways from switchboard again).
    let (st, v) = request(w.sb.http, "PATCH", &format!("/api/v1/trunks/{trunk}"), Some(&root), json!({ "port": 5080 }).to_string().as_bytes()).await;
    assert_eq!(st, 200, "{v}");
    w.until("killgw and rescan were sent", || async {
        w.switch.sofia_commands() == vec![format!("external killgw trunk{trunk}"), "external rescan".to_string()]
    })
    .await;
    w.until("the killed gateway is gone", || async { w.get("/api/v1/gateways", &acme).await["items"][0]["state"] == "unknown" }).await;
}

/// Reads Server-Sent Events from `path` until `stop` says so; the events (name, data).
async fn sse(addr: SocketAddr, path: &str, mut stop: impl FnMut(&[(String, Value)]) -> bool) -> Vec<(String, Value)> {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut lines = BufReader::new(s).lines();
    let (mut events, mut name, mut data) = (Vec::new(), String::new(), String::new());
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        let Ok(Ok(Some(line))) = tokio::time::timeout(Duration::from_secs(20), lines.next_line()).await else { break };
        if let Some(n) = line.strip_prefix("event:") {
            name = n.trim().to_string();
        } else if let Some(d) = line.strip_prefix("data:") {
            data.push_str(d.trim());
        } else if line.is_empty() && !data.is_empty() {
            events.push((std::mem::take(&mut name), serde_json::from_str(&std::mem::take(&mut data)).unwrap()));
            if stop(&events) {
                break;
            }
        }
    }
    events
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_feed_streams_a_snapshot_then_the_calls_changes() {
    let w = world().await;
    let acme = w.login("tenant@acme.test", "Demo-Tenant-2026").await;
    let (st, _) = request(w.sb.http, "GET", "/api/v1/realtime/feed", None, b"").await;
    assert_eq!(st, 401, "the feed needs a token");
    let path = format!("/api/v1/realtime/feed?access_token={acme}");
    let feed = tokio::spawn({
        let addr = w.sb.http;
        async move { sse(addr, &path, |evs| evs.iter().filter(|(n, _)| n == "channel_gone").count() == 2).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut s = (*call_1001_to_1002()).clone();
    s.hangup_after_ms = Some(400);
    let report = w.switch.call(w.sb.outbound, Arc::new(s)).await;
    let events = tokio::time::timeout(Duration::from_secs(20), feed).await.unwrap().unwrap();
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.first(), Some(&"snapshot"), "{names:?}");
    assert_eq!(events[0].1["switch"]["state"], "online");
    let mine: Vec<&Value> = events.iter().filter(|(n, d)| n == "channel" && d["channel"]["uuid"] == report.uuid.as_str()).map(|(_, d)| d).collect();
    assert!(!mine.is_empty(), "the call's channel events came through: {names:?}");
    assert!(mine.iter().any(|d| d["channel"]["call_state"] == "ACTIVE"), "its answer came through");
    assert!(events.iter().any(|(n, d)| n == "channel_gone" && d["uuid"] == report.uuid.as_str()), "its end came through");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn click_to_call_bridges_only_after_the_extension_answers() {
    let w = world().await;
    let agent = w.login("agent@acme.test", "Demo-Agent-2026").await;
    let acme = w.login("tenant@acme.test", "Demo-Tenant-2026").await;
    // Not registered: refused before anything rings.
    let (st, v) = w.post("/api/v1/click-to-call", &acme, json!({ "extension": "1001", "number": "1003" })).await;
    assert_eq!((st, v["field"].as_str()), (409, Some("extension")), "{v}");
    for ext in ["1001", "1002"] {
        w.switch.add_registration(Registration {
            user: ext.into(),
            realm: ACME.into(),
            contact: format!("sip:{ext}@192.0.2.8"),
            network_ip: "192.0.2.8".into(),
            agent: "phone".into(),
        });
    }
    w.until("both are registered", || async { w.get("/api/v1/registrations", &acme).await["items"].as_array().unwrap().len() == 2 }).await;
    // An agent rings only their own extension (1002).
    let (st, v) = w.post("/api/v1/click-to-call", &agent, json!({ "extension": "1001", "number": "1003" })).await;
    assert_eq!(st, 403, "{v}");
    let (st, v) = w.post("/api/v1/click-to-call", &agent, json!({ "extension": "1002", "number": "1003,user/9999" })).await;
    assert_eq!((st, v["field"].as_str()), (422, Some("number")));

    // The agent's phone answers 600 ms after it starts ringing; 1003 answers at once and
    // hangs up 300 ms later.
    let ring_ms = 600;
    w.switch.set_originate_scenario(Scenario {
        playback_ms: 10,
        targets: BTreeMap::from([
            (format!("user/1002@{ACME}"), Target::Answer { after_ms: ring_ms, talk_ms: None }),
            (format!("user/1003@{ACME}"), Target::Answer { after_ms: 10, talk_ms: Some(300) }),
        ]),
        ..Scenario::default()
    });
    let mut bus = w.switch.subscribe();
    let clicked = Instant::now();
    let (st, v) = w.post("/api/v1/click-to-call", &agent, json!({ "extension": "1002", "number": "1003" })).await;
    assert_eq!(st, 202, "{v}");
    // Watch the switch: nothing rings 1003 before 1002 answered.
    let mut rang_1003 = None;
    let deadline = Instant::now() + Duration::from_secs(10);
    while rang_1003.is_none() && Instant::now() < deadline {
        if let Ok(Ok(ev)) = tokio::time::timeout(Duration::from_secs(10), bus.recv()).await {
            if ev.name == "CHANNEL_CREATE" && ev.get("Channel-Name").is_some_and(|n| n.contains("1003")) {
                rang_1003 = Some(clicked.elapsed());
            }
        }
    }
    let rang = rang_1003.expect("1003 rang");
    assert!(rang >= Duration::from_millis(ring_ms), "1003 rang {rang:?} after the click, before 1002 answered at {ring_ms} ms");
    // The leg was routed as a call from 1002: its record says so.
    w.until("the call's record is written", || async {
        let v = w.get("/api/v1/cdrs?extension=1002", &acme).await;
        v["items"].as_array().unwrap().iter().any(|c| c["caller_number"] == "1002" && c["callee"] == "1003" && c["disposition"] == "answered")
    })
    .await;

    // 1002 does not answer this time: nothing else rings, and the monitor's feed (the
    // tenant admin's; the agent holds no realtime permission) says why.
    w.switch.set_originate_scenario(Scenario {
        targets: BTreeMap::from([
            (format!("user/1002@{ACME}"), Target::NoAnswer),
            (format!("user/1003@{ACME}"), Target::Answer { after_ms: 10, talk_ms: Some(300) }),
        ]),
        ..Scenario::default()
    });
    let feed = tokio::spawn({
        let (addr, path) = (w.sb.http, format!("/api/v1/realtime/feed?access_token={acme}"));
        async move { sse(addr, &path, |evs| evs.iter().any(|(n, _)| n == "click_to_call")).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut bus = w.switch.subscribe();
    let (st, _) = w.post("/api/v1/click-to-call", &agent, json!({ "extension": "1002", "number": "1003" })).await;
    assert_eq!(st, 202);
    let events = tokio::time::timeout(Duration::from_secs(20), feed).await.unwrap().unwrap();
    let result = events.iter().find(|(n, _)| n == "click_to_call").map(|(_, d)| d["result"].as_str().unwrap_or_default().to_string());
    assert_eq!(result.as_deref(), Some("-ERR NO_ANSWER"), "{events:?}");
    while let Ok(ev) = bus.try_recv() {
        assert!(!(ev.name == "CHANNEL_CREATE" && ev.get("Channel-Name").is_some_and(|n| n.contains("1003"))), "1003 rang without 1002 answering");
    }
}

#[tokio::test]
async fn without_a_switch_the_monitor_says_offline_and_commands_fail_clearly() {
    let srv = common::api::start(|_| {}).await;
    let s = srv.admin_token().await;
    let (st, v) = srv.call("GET", "/api/v1/channels", Some(&s), None).await;
    assert_eq!((st, v["switch"]["state"].as_str()), (200, Some("offline")), "{v}");
    let (st, v) = srv.call("POST", "/api/v1/channels/hangup", Some(&s), Some(&json!({ "uuid": "0b7d4d40-56b6-4c1b-9f0e-1c2d3e4f5a6b" }))).await;
    assert_eq!((st, v["code"].as_str()), (503, Some("switch_offline")), "{v}");
    // The feed says so and ends (EventSource retries after `retry`).
    let events = sse(srv.addr, &format!("/api/v1/realtime/feed?access_token={s}"), |_| false).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].1["switch"]["state"], "offline");
}

/// A caller of Acme's phone `from` dialing conference 3000, in the room until hung up.
fn into_room(from: &str, name: &str) -> Arc<Scenario> {
    Arc::new(Scenario {
        caller_id_number: from.into(),
        caller_id_name: name.into(),
        destination: "3000".into(),
        context: ACME.into(),
        domain: ACME.into(),
        profile: "internal".into(),
        playback_ms: 10,
        hangup_after_ms: Some(20_000),
        ..Scenario::default()
    })
}

/// The live conference: two callers join room 3000, the page's API shows them as
/// mod_conference's events say; mute, talk, lock, record and kick go to the switch and come
/// back as its events; another tenant's admin finds nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conference_is_watched_and_moderated_live() {
    let w = world().await;
    let acme = w.login("tenant@acme.test", "Demo-Tenant-2026").await;
    let recordings = std::env::temp_dir().join(format!("conf-rec-{}", std::process::id()));
    w.switch.set_recordings_dir(&recordings);
    let (st, room) = w.post("/api/v1/conferences", &acme, json!({ "name": "All hands", "number": "3000" })).await;
    assert_eq!(st, 201, "{room}");
    let live = format!("/api/v1/conferences/{}/live", room["id"]);
    assert_eq!(w.get(&live, &acme).await["members"], json!([]), "nobody in it yet");
    let (st, v) = w.post(&live, &acme, json!({ "action": "lock" })).await;
    assert_eq!((st, v["message"].as_str()), (404, Some("nobody is in this conference now")));

    let ann = tokio::spawn(w.switch.call(w.sb.outbound, into_room("1001", "Ann")));
    let bob = tokio::spawn(w.switch.call(w.sb.outbound, into_room("1002", "Bob")));
    w.until("both are in the room", || async { w.get(&live, &acme).await["members"].as_array().is_some_and(|m| m.len() == 2) }).await;
    let now = w.get(&live, &acme).await;
    let member = |v: &Value, number: &str| v["members"].as_array().unwrap().iter().find(|m| m["caller_number"] == number).cloned().unwrap();
    let ann_id = member(&now, "1001")["id"].as_u64().unwrap();
    let ann_uuid = member(&now, "1001")["uuid"].as_str().unwrap().to_string();
    assert_eq!(member(&now, "1002")["caller_name"], "Bob");

    // Talking, as the switch's energy gate reports it.
    assert!(w.switch.conference_talking(&ann_uuid, true));
    w.until("Ann shows talking", || async { member(&w.get(&live, &acme).await, "1001")["talking"] == true }).await;
    // Muted by the moderator: she stops being heard (and shown talking).
    let (st, v) = w.post(&live, &acme, json!({ "action": "mute", "member": ann_id })).await;
    assert_eq!((st, v["reply"].as_str()), (200, Some(format!("+OK mute {ann_id}").as_str())), "{v}");
    w.until("Ann shows muted", || async {
        let a = member(&w.get(&live, &acme).await, "1001");
        a["muted"] == true && a["talking"] == false
    })
    .await;
    assert!(!w.switch.conference_talking(&ann_uuid, true), "a muted member is not heard");
    let (st, _) = w.post(&live, &acme, json!({ "action": "deaf", "member": ann_id })).await;
    assert_eq!(st, 200);
    w.until("Ann shows deaf", || async { member(&w.get(&live, &acme).await, "1001")["deaf"] == true }).await;

    // The room: locked, then recorded into the switch's recordings directory.
    let (st, _) = w.post(&live, &acme, json!({ "action": "lock" })).await;
    assert_eq!(st, 200);
    w.until("the room shows locked", || async { w.get(&live, &acme).await["locked"] == true }).await;
    let (st, v) = w.post(&live, &acme, json!({ "action": "record_start" })).await;
    assert_eq!(st, 200, "{v}");
    w.until("the room shows recording", || async { w.get(&live, &acme).await["recording"].is_string() }).await;
    let path = w.get(&live, &acme).await["recording"].as_str().unwrap().to_string();
    assert!(path.starts_with(&recordings.to_string_lossy().to_string()) && path.contains("/acme.switchboard.test/conference-3000-"), "{path}");
    let (st, v) = w.post(&live, &acme, json!({ "action": "record_start" })).await;
    assert_eq!(st, 409, "already recording: {v}");
    let (st, _) = w.post(&live, &acme, json!({ "action": "record_stop" })).await;
    assert_eq!(st, 200);
    w.until("the recording stopped", || async { w.get(&live, &acme).await["recording"].is_null() }).await;
    let (st, v) = w.post(&live, &acme, json!({ "action": "record_stop" })).await;
    assert_eq!((st, v["message"].as_str()), (409, Some("the conference is not being recorded")));

    // Hostile or foreign input: refused, nothing reaches the switch.
    let (st, v) = w.post(&live, &acme, json!({ "action": "mute", "member": 999_999 })).await;
    assert_eq!((st, v["message"].as_str()), (404, Some("member 999999 is not in this conference")));
    let (st, v) = w.post(&live, &acme, json!({ "action": "shutdown", "member": ann_id })).await;
    assert_eq!((st, v["field"].as_str()), (422, Some("action")));
    // Globex holds conferences too, so the refusal is about the tenant.
    let globex = w.globex_holding("conferences").await;
    let (st, _) = request(w.sb.http, "GET", &live, Some(&globex), b"").await;
    assert_eq!(st, 404, "another tenant's room is not found");
    let (st, _) = w.post(&live, &globex, json!({ "action": "kick", "member": ann_id })).await;
    assert_eq!(st, 404);

    // Kicked: Ann leaves the room (and, the conference over for her, the call ends).
    let (st, v) = w.post(&live, &acme, json!({ "action": "kick", "member": ann_id })).await;
    assert_eq!((st, v["reply"].as_str()), (200, Some(format!("+OK kicked {ann_id}").as_str())), "{v}");
    w.until("Ann left the room", || async { w.get(&live, &acme).await["members"].as_array().is_some_and(|m| m.len() == 1) }).await;
    let report = tokio::time::timeout(Duration::from_secs(10), ann).await.unwrap().unwrap();
    assert!(report.apps.iter().any(|a| a.app == "conference"), "{:?}", report.apps);
    bob.abort();
    let log = w.get("/api/v1/activity?action=conference_kick", &acme).await;
    assert_eq!(log["total"], 1, "{log}");
    let _ = std::fs::remove_dir_all(&recordings);
}
