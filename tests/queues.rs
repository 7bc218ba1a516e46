//! Call queues through the simulator over real sockets, on the demo installation: Acme's
//! phones 1001 (tenant admin), 1002 (agent) and 1003 (end user) are the agents of a queue
//! on 7000, called from the warehouse phone 1004.

mod common;

use std::collections::BTreeMap;

use common::pbx::*;
use serde_json::{json, Value};
use switchboard::sim::scenario::Dtmf;
use switchboard::sim::{CallReport, Scenario, Switch, Target};
use switchboard::store::resource::{ListQuery, Within};
use switchboard::store::resources as res;

/// A switch second in these tests: the queue's waits and the bridges' timeouts both.
const SECOND_MS: u64 = 20;

fn ext(p: &Pbx, number: &str) -> Value {
    let q = ListQuery { page: 1, per_page: 100, ..Default::default() };
    p.store.list(&res::EXTENSIONS, Within::Tenant(p.acme), None, &q).unwrap().items.into_iter().find(|e| e["number"] == number).unwrap()
}

fn agent(p: &Pbx, number: &str) -> i64 {
    ext(p, number)["user_id"].as_i64().unwrap()
}

/// A queue on 7000 with `agents` (extension numbers, each in tier 1 in this order) and
/// `settings` over quick defaults; every agent logged in unless a test says otherwise.
fn queue(p: &Pbx, agents: &[&str], settings: Value) -> i64 {
    let mut q = json!({
        "name": "Support", "number": "7000", "strategy": "top_down", "max_wait": 60, "agent_timeout": 5,
        "wrap_up": 0, "reject_delay": 30, "max_no_answer": 0,
        "timeout_destination": { "type": "hangup", "cause": "NO_ANSWER" },
        "agents": agents.iter().map(|n| json!({ "user_id": agent(p, n), "tier": 1 })).collect::<Vec<_>>(),
    });
    for (k, v) in settings.as_object().unwrap() {
        q[k] = v.clone();
    }
    for n in agents {
        p.store.set_agent_status(p.acme, agent(p, n), "available").unwrap();
    }
    p.store.create(&res::CALL_QUEUES, Some(p.acme), &ADMIN, &obj(q)).unwrap()["id"].as_i64().unwrap()
}

fn caller() -> Scenario {
    let mut s = from_phone(ACME, "1004", "7000");
    s.second_ms = SECOND_MS;
    s
}

fn phone(n: &str) -> String {
    format!("user/{n}@{ACME}")
}

/// The phones each bridge of the call rang, in order (`1002` or `1002,1003`).
fn rung(r: &CallReport) -> Vec<String> {
    r.bridges
        .iter()
        .map(|b| {
            // Legs are split at the commas outside a leg's [variables].
            let mut legs = vec![String::new()];
            let mut depth = 0;
            for c in b.dialstring.chars() {
                match c {
                    '[' => depth += 1,
                    ']' => depth -= 1,
                    ',' if depth == 0 => {
                        legs.push(String::new());
                        continue;
                    }
                    _ => {}
                }
                legs.last_mut().unwrap().push(c);
            }
            legs.iter()
                .map(|leg| leg.rsplit(']').next().unwrap().trim_start_matches("user/").trim_end_matches(&format!("@{ACME}")).to_string())
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect()
}

async fn pbx_q() -> Pbx {
    pbx_timed(OPEN, std::time::Duration::from_millis(SECOND_MS)).await
}

#[tokio::test]
async fn a_free_agent_is_rung_at_once_with_the_queue_s_music_as_ringback() {
    let p = pbx_q().await;
    queue(&p, &["1002", "1003"], json!({}));
    let mut s = caller();
    s.targets = BTreeMap::from([(phone("1002"), Target::Answer { after_ms: 30, talk_ms: Some(100) })]);
    let (r, cdr) = call(&p, s).await;
    let apps = apps(&r);
    let bridge = apps.iter().position(|a| a.starts_with("bridge ")).unwrap_or_else(|| panic!("{apps:?}"));
    assert!(apps[..bridge].iter().any(|a| a.starts_with("answer")), "{apps:?}");
    // The music is the ringback while the agent's phone rings; no key ends it by itself.
    let set = apps[..bridge].iter().find(|a| a.contains("transfer_ringback=")).unwrap_or_else(|| panic!("{apps:?}"));
    assert!(set.contains("transfer_ringback=local_stream://") && set.contains("playback_terminators=none"), "{set}");
    assert_eq!(rung(&r), ["1002"]);
    assert!(r.bridges[0].dialstring.starts_with("[leg_timeout=5,"), "{}", r.bridges[0].dialstring);
    assert_eq!((cdr["disposition"].as_str(), cdr["extension"].as_str()), (Some("answered"), Some("1002")), "{cdr}");
}

/// The only agent is talking to a first caller; a second waits with music, and the moment
/// the first call ends the music is stopped and the agent rung for the second.
#[tokio::test]
async fn a_waiting_caller_hears_music_until_the_agent_is_free_then_is_put_through() {
    let p = pbx_q().await;
    queue(&p, &["1002"], json!({}));
    let sw = Switch::default();
    let mut first = caller();
    first.targets = BTreeMap::from([(phone("1002"), Target::Answer { after_ms: 20, talk_ms: Some(600) })]);
    let first = {
        let (sw, srv) = (sw.clone(), p.srv.addr);
        tokio::spawn(async move { sw.call(srv, std::sync::Arc::new(first)).await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    let mut second = caller();
    second.caller_id_number = "1003".into();
    second.targets = BTreeMap::from([(phone("1002"), Target::Answer { after_ms: 20, talk_ms: Some(100) })]);
    let (r, cdr) = call_on(&sw, &p, second).await;
    let apps = apps(&r);
    let music = apps.iter().position(|a| a.starts_with("playback local_stream://")).unwrap_or_else(|| panic!("music while waiting: {apps:?}"));
    let bridge = apps.iter().position(|a| a.starts_with("bridge ")).unwrap_or_else(|| panic!("{apps:?}"));
    assert!(music < bridge, "{apps:?}");
    assert!(r.commands.iter().any(|c| c.starts_with("api uuid_break ")), "the music is stopped before the bridge: {:?}", r.commands);
    assert_eq!(rung(&r), ["1002"]);
    assert_eq!((cdr["disposition"].as_str(), cdr["extension"].as_str()), (Some("answered"), Some("1002")), "{cdr}");
    assert_eq!(rung(&first.await.unwrap()), ["1002"]);
}

#[tokio::test]
async fn an_agent_who_does_not_answer_is_passed_over_and_put_on_break_after_the_limit() {
    let p = pbx_q().await;
    queue(&p, &["1002", "1003"], json!({ "strategy": "round_robin", "max_no_answer": 1 }));
    let mut s = caller();
    s.targets = BTreeMap::from([(phone("1002"), Target::NoAnswer), (phone("1003"), Target::Answer { after_ms: 20, talk_ms: Some(50) })]);
    let (r, cdr) = call(&p, s).await;
    assert_eq!(rung(&r), ["1002", "1003"]);
    assert_eq!(cdr["extension"], "1003", "{cdr}");
    // One unanswered offer is this queue's limit: 1002 is on break now, and the next
    // caller rings 1003 alone although round robin would start at 1002.
    let mut s = caller();
    s.targets = BTreeMap::from([(phone("1003"), Target::Answer { after_ms: 20, talk_ms: Some(50) })]);
    let (r, _) = call(&p, s).await;
    assert_eq!(rung(&r), ["1003"]);
}

#[tokio::test]
async fn ring_all_rings_every_free_agent_at_once() {
    let p = pbx_q().await;
    queue(&p, &["1001", "1002", "1003"], json!({ "strategy": "ring_all" }));
    let mut s = caller();
    s.targets = BTreeMap::from([(phone("1003"), Target::Answer { after_ms: 20, talk_ms: Some(50) })]);
    let (r, cdr) = call(&p, s).await;
    assert_eq!(rung(&r), ["1001,1002,1003"]);
    assert_eq!(cdr["extension"], "1003", "{cdr}");
}

#[tokio::test]
async fn nobody_logged_in_sends_the_caller_on_at_once_when_the_queue_says_so() {
    let p = pbx_q().await;
    queue(&p, &["1002"], json!({ "wait_without_agents": false, "no_agents_destination": { "type": "hangup", "cause": "USER_BUSY" } }));
    p.store.set_agent_status(p.acme, agent(&p, "1002"), "logged_out").unwrap();
    let (r, cdr) = call(&p, caller()).await;
    assert!(r.bridges.is_empty(), "{:?}", apps(&r));
    assert_eq!(r.hangup_cause.as_deref(), Some("USER_BUSY"), "{:?}", apps(&r));
    assert!(cdr["route"].as_str().unwrap().contains("no agents"), "{cdr}");
}

#[tokio::test]
async fn a_caller_waiting_the_longest_allowed_goes_to_the_timeout_destination() {
    let p = pbx_q().await;
    // Everyone on break: the caller waits (the queue's default), then times out.
    queue(&p, &["1002"], json!({ "max_wait": 10, "timeout_destination": { "type": "hangup", "cause": "NORMAL_TEMPORARY_FAILURE" } }));
    p.store.set_agent_status(p.acme, agent(&p, "1002"), "on_break").unwrap();
    let started = std::time::Instant::now();
    let (r, cdr) = call(&p, caller()).await;
    assert!(r.bridges.is_empty());
    assert_eq!(r.hangup_cause.as_deref(), Some("NORMAL_TEMPORARY_FAILURE"), "{:?}", apps(&r));
    assert!(started.elapsed() >= std::time::Duration::from_millis(10 * SECOND_MS), "waited the queue's 10 s");
    assert!(cdr["route"].as_str().unwrap().contains("queue timeout"), "{cdr}");
}

#[tokio::test]
async fn the_exit_key_takes_the_caller_to_the_exit_destination() {
    let p = pbx_q().await;
    queue(&p, &["1002"], json!({ "exit_key": "1", "exit_destination": { "type": "hangup", "cause": "CALL_REJECTED" } }));
    p.store.set_agent_status(p.acme, agent(&p, "1002"), "on_break").unwrap();
    let mut s = caller();
    s.keys = vec![Dtmf { digits: "5".into(), after_ms: 100 }, Dtmf { digits: "1".into(), after_ms: 200 }];
    let (r, cdr) = call(&p, s).await;
    assert_eq!(r.hangup_cause.as_deref(), Some("CALL_REJECTED"), "{:?}", apps(&r));
    assert!(cdr["route"].as_str().unwrap().contains("exit key"), "{cdr}");
}

#[tokio::test]
async fn a_full_queue_sends_the_next_caller_to_its_full_destination() {
    let p = pbx_q().await;
    queue(&p, &["1002"], json!({ "max_callers": 1, "full_destination": { "type": "hangup", "cause": "USER_BUSY" } }));
    p.store.set_agent_status(p.acme, agent(&p, "1002"), "on_break").unwrap();
    let sw = Switch::default();
    let mut first = caller();
    first.hangup_after_ms = Some(1500);
    let waiting = {
        let (sw, srv) = (sw.clone(), p.srv.addr);
        tokio::spawn(async move { sw.call(srv, std::sync::Arc::new(first)).await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let (r, _) = call_on(&sw, &p, caller()).await;
    assert_eq!(r.hangup_cause.as_deref(), Some("USER_BUSY"), "{:?}", apps(&r));
    let first = waiting.await.unwrap();
    assert!(first.bridges.is_empty() && apps(&first).iter().any(|a| a.starts_with("playback local_stream://")), "{:?}", apps(&first));
}

/// A caller who hangs up while waiting leaves the line, counted abandoned; no agent is
/// rung for it afterwards.
#[tokio::test]
async fn a_caller_who_hangs_up_while_waiting_is_counted_abandoned_and_leaves_the_line() {
    let acd = switchboard::acd::Acd::default();
    let p = pbx_with_queues(OPEN, std::time::Duration::from_millis(SECOND_MS), acd.clone()).await;
    let id = queue(&p, &["1002"], json!({}));
    p.store.set_agent_status(p.acme, agent(&p, "1002"), "on_break").unwrap();
    let mut s = caller();
    s.hangup_after_ms = Some(300);
    let (r, cdr) = call(&p, s).await;
    assert!(r.bridges.is_empty(), "{:?}", apps(&r));
    assert!(apps(&r).iter().any(|a| a.starts_with("playback local_stream://")), "{:?}", apps(&r));
    assert_eq!(cdr["disposition"], "no_answer", "{cdr}");
    let today = acd.counters(id);
    assert_eq!((today.offered, today.answered, today.abandoned), (1, 0, 1));
    assert!(acd.waiting(id).is_empty(), "nobody left in line");
    assert!(today.longest_wait_ms >= 200, "its wait is counted: {today:?}");
}

/// Music the switch cannot play ends at once: the caller gets FreeSWITCH's own stream,
/// then endless silence, and still waits (no spin of failed playbacks).
#[tokio::test]
async fn music_that_does_not_play_falls_back_to_silence_and_the_caller_still_waits() {
    let p = pbx_q().await;
    queue(&p, &["1002"], json!({ "max_wait": 15 }));
    p.store.set_agent_status(p.acme, agent(&p, "1002"), "on_break").unwrap();
    let mut s = caller();
    s.missing_files = vec!["local_stream://moh".into()];
    let (r, _) = call(&p, s).await;
    let plays: Vec<String> = apps(&r).into_iter().filter(|a| a.starts_with("playback ")).collect();
    assert_eq!(plays.first().map(String::as_str), Some("playback local_stream://moh"), "{plays:?}");
    assert!(plays.iter().any(|a| a == "playback silence_stream://-1"), "{plays:?}");
    assert!(plays.len() <= 3, "no spin: {plays:?}");
    assert_eq!(r.hangup_cause.as_deref(), Some("NO_ANSWER"), "the wait ended by the queue's timeout");
}

/// Each way of leaving the queue is written into the call's record and counted in the
/// queue report (JSON and CSV) and on the monitor, over HTTP, with the same figures.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_record_the_report_and_the_monitor_say_how_each_caller_left_the_queue() {
    let api = common::api::start_demo(|_| {}).await;
    let p = pbx_on(api.store.clone(), OPEN, std::time::Duration::from_millis(SECOND_MS), api.acd.clone()).await;
    let id = queue(&p, &["1002"], json!({ "max_wait": 10, "wait_without_agents": false, "service_level": 20 }));
    let agent_1002 = agent(&p, "1002");
    // 1: the agent answers at once.
    let mut s = caller();
    s.targets = BTreeMap::from([(phone("1002"), Target::Answer { after_ms: 30, talk_ms: Some(50) })]);
    let (_, answered) = call(&p, s).await;
    // 2: the agent on break; the caller hangs up after 6 of the switch's seconds.
    p.store.set_agent_status(p.acme, agent_1002, "on_break").unwrap();
    api.acd.set_status(agent_1002, switchboard::acd::Status::OnBreak);
    let mut s = caller();
    s.hangup_after_ms = Some(6 * SECOND_MS);
    let (_, abandoned) = call(&p, s).await;
    // 3: waits the queue's longest (10 s).
    let (_, timed_out) = call(&p, caller()).await;
    // 4: nobody logged in, and this queue does not wait without agents.
    api.acd.set_status(agent_1002, switchboard::acd::Status::LoggedOut);
    let (_, refused) = call(&p, caller()).await;

    let visit = |cdr: &Value| cdr["queue_visits"].as_array().filter(|v| v.len() == 1).unwrap_or_else(|| panic!("{cdr}"))[0].clone();
    let v = visit(&answered);
    assert_eq!((v["outcome"].as_str(), v["agent_id"].as_i64(), v["queue"].as_str()), (Some("answered"), Some(agent_1002), Some("Support")), "{v}");
    assert!(v["wait"].as_i64().unwrap() <= 3, "{v}");
    let v = visit(&abandoned);
    assert_eq!((v["outcome"].as_str(), v["agent_id"].as_i64()), (Some("abandoned"), None), "{v}");
    assert!((4..=8).contains(&v["wait"].as_i64().unwrap()), "about 6 s: {v}");
    let v = visit(&timed_out);
    assert_eq!(v["outcome"], "timed_out", "{v}");
    assert!((10..=13).contains(&v["wait"].as_i64().unwrap()), "about 10 s: {v}");
    assert_eq!((visit(&refused)["outcome"].as_str(), visit(&refused)["wait"].as_i64()), (Some("no_agents"), Some(0)));

    let admin = api.login("tenant@acme.test", "Demo-Tenant-2026").await;
    let (st, report) = api.call("GET", "/api/v1/queues/report", Some(&admin), None).await;
    assert_eq!(st, 200, "{report}");
    let days = report["days"].as_array().unwrap();
    assert_eq!(days.len(), 1, "{report}");
    let d = &days[0];
    assert_eq!(
        [&d["offered"], &d["answered"], &d["abandoned"], &d["timed_out"], &d["exited"], &d["refused"]].map(|v| v.as_i64().unwrap()),
        [3, 1, 1, 1, 0, 1],
        "{d}"
    );
    // One of three callers who wanted an agent got one within the 20 s target.
    assert_eq!((d["queue_id"].as_i64(), d["service_level_percent"].as_i64()), (Some(id), Some(33)), "{d}");
    let (st, csv) = api.call("GET", "/api/v1/queues/report?format=csv", Some(&admin), None).await;
    assert_eq!(st, 200);
    let lines: Vec<&str> = csv.as_str().unwrap().lines().collect();
    assert!(lines[0].starts_with("date,queue_id,queue,offered,answered,abandoned,timed_out,exited,refused,"), "{lines:?}");
    assert!(lines[1].contains(&format!(",{id},Support,3,1,1,1,0,1,")) && lines[1].ends_with(",33"), "{lines:?}");
    let (st, bad) = api.call("GET", "/api/v1/queues/report?from=yesterday", Some(&admin), None).await;
    assert_eq!(st, 422, "{bad}");

    // The wallboard's today agrees, and shows the agent logged out.
    let (_, monitor) = api.call("GET", "/api/v1/queues/monitor", Some(&admin), None).await;
    let q = monitor["queues"].as_array().unwrap().iter().find(|q| q["id"] == id).unwrap_or_else(|| panic!("{monitor}")).clone();
    let today = &q["today"];
    assert_eq!(
        [&today["offered"], &today["answered"], &today["abandoned"], &today["timed_out"], &today["refused"]].map(|v| v.as_i64().unwrap()),
        [3, 1, 1, 1, 1],
        "{q}"
    );
    assert_eq!(today["service_level_percent"], 33, "{q}");
    assert_eq!((q["agents"][0]["user_id"].as_i64(), q["agents"][0]["state"].as_str()), (Some(agent_1002), Some("logged_out")), "{q}");
    // The CDR list carries the visits too, and its CSV says them in words.
    let (_, csv) = api.call("GET", "/api/v1/cdrs.csv", Some(&admin), None).await;
    assert!(csv.as_str().unwrap_or_default().contains("Support timed_out after 1"), "{csv}");
}

/// A route that gives its callers a priority puts them ahead in line: a caller from the
/// VIP DID, arriving second, is put through first when the agent comes back; a priority
/// beyond the highest is refused when the route is saved.
#[tokio::test]
async fn a_vip_route_s_callers_go_ahead_of_those_already_waiting() {
    let acd = switchboard::acd::Acd::default();
    let p = pbx_with_queues(OPEN, std::time::Duration::from_millis(SECOND_MS), acd.clone()).await;
    let id = queue(&p, &["1002"], json!({}));
    let agent_1002 = agent(&p, "1002");
    p.store.set_agent_status(p.acme, agent_1002, "on_break").unwrap();
    let did = find(&p.store, &res::DIDS, Within::Everything, "number", "+12125550100")["id"].as_i64().unwrap();
    let q = ListQuery { page: 1, per_page: 500, filters: vec![("did_id".into(), did.to_string())], ..Default::default() };
    let route = p.store.list(&res::INBOUND_ROUTES, Within::Tenant(p.acme), None, &q).unwrap().items[0]["id"].as_i64().unwrap();
    let too_high = p.store.update(
        &res::INBOUND_ROUTES,
        Within::Tenant(p.acme),
        None,
        route,
        &obj(json!({ "destination": { "type": "queue", "id": id, "priority": 10 } })),
    );
    let why = format!("{:?}", too_high.unwrap_err());
    assert!(why.contains("priority must be 0 to 9"), "{why}");
    p.store
        .update(
            &res::INBOUND_ROUTES,
            Within::Tenant(p.acme),
            None,
            route,
            &obj(json!({ "destination": { "type": "queue", "id": id, "priority": 5 } })),
        )
        .unwrap();

    let sw = Switch::default();
    let mut first = caller();
    first.hangup_after_ms = Some(60 * SECOND_MS);
    first.targets = BTreeMap::from([(phone("1002"), Target::Answer { after_ms: 20, talk_ms: Some(50) })]);
    let first = {
        let (sw, srv) = (sw.clone(), p.srv.addr);
        tokio::spawn(async move { sw.call(srv, std::sync::Arc::new(first)).await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let mut vip = from_trunk("+12125550100", "+15557654321");
    vip.second_ms = SECOND_MS;
    vip.targets = BTreeMap::from([(phone("1002"), Target::Answer { after_ms: 20, talk_ms: Some(90 * SECOND_MS) })]);
    let vip = {
        let (sw, srv) = (sw.clone(), p.srv.addr);
        tokio::spawn(async move { sw.call(srv, std::sync::Arc::new(vip)).await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(acd.waiting(id).iter().map(|(c, _)| c.as_str()).collect::<Vec<_>>(), ["+15557654321", "1004"], "the VIP is first in line");
    acd.set_status(agent_1002, switchboard::acd::Status::Available);
    let (vip, first) = (vip.await.unwrap(), first.await.unwrap());
    assert_eq!(rung(&vip), ["1002"], "{:?}", apps(&vip));
    // The agent talks to the VIP until the first caller gives up.
    assert!(first.bridges.is_empty(), "{:?}", apps(&first));
}

/// An agent's own choice survives a restart of switchboard: set over the API, read back by
/// a new server over the same data, and acted on by its new engine (the agent on a break
/// is not offered the caller; once available, is).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_s_login_and_break_survive_a_restart() {
    let api = common::api::start_demo(|_| {}).await;
    let dir = api.dir.clone();
    let p = pbx_on(api.store.clone(), OPEN, std::time::Duration::from_millis(SECOND_MS), api.acd.clone()).await;
    // Not `queue()`: it logs the agents in.
    let q =
        json!({ "name": "Support", "number": "7000", "max_wait": 10, "agent_timeout": 5, "agents": [{ "user_id": agent(&p, "1002"), "tier": 1 }] });
    p.store.create(&res::CALL_QUEUES, Some(p.acme), &ADMIN, &obj(q)).unwrap();
    let set = async |api: &common::api::ApiServer, status: &str| {
        let token = api.login("agent@acme.test", "Demo-Agent-2026").await;
        let (st, me) = api.call("PUT", "/api/v1/queues/me", Some(&token), Some(&json!({ "status": status }))).await;
        assert_eq!((st, me["status"].as_str()), (200, Some(status)), "{me}");
    };
    let read = async |api: &common::api::ApiServer| {
        let token = api.login("agent@acme.test", "Demo-Agent-2026").await;
        api.call("GET", "/api/v1/queues/me", Some(&token), None).await.1["status"].as_str().unwrap().to_string()
    };
    let ring = async |api: &common::api::ApiServer| {
        let p = pbx_on(api.store.clone(), OPEN, std::time::Duration::from_millis(SECOND_MS), api.acd.clone()).await;
        let mut s = caller();
        s.targets = BTreeMap::from([(phone("1002"), Target::Answer { after_ms: 20, talk_ms: Some(50) })]);
        rung(&call(&p, s).await.0)
    };

    set(&api, "on_break").await;
    api.stop().await;
    let api = common::api::start_in(&dir, |_| {}).await;
    assert_eq!(read(&api).await, "on_break");
    assert!(ring(&api).await.is_empty(), "on a break after the restart: not offered");
    set(&api, "available").await;
    api.stop().await;
    let api = common::api::start_in(&dir, |_| {}).await;
    assert_eq!(read(&api).await, "available");
    assert_eq!(ring(&api).await, ["1002"], "logged in after the restart: offered");
}

/// Every `announce_every` seconds a waiting caller's music stops for its place in line and
/// the estimated wait (from the queue's answered waits), then goes on.
#[tokio::test]
async fn a_waiting_caller_is_told_its_place_in_line_and_the_expected_wait() {
    let acd = switchboard::acd::Acd::default();
    let p = pbx_with_queues(OPEN, std::time::Duration::from_millis(SECOND_MS), acd.clone()).await;
    let id = queue(&p, &["1002"], json!({ "announce_every": 5 }));
    let agent_1002 = agent(&p, "1002");
    let sw = Switch::default();
    let spawn = |s: Scenario| {
        let (sw, srv) = (sw.clone(), p.srv.addr);
        tokio::spawn(async move { sw.call(srv, std::sync::Arc::new(s)).await })
    };
    // A first caller, answered after a wait: the queue's history of waits.
    acd.set_status(agent_1002, switchboard::acd::Status::OnBreak);
    let mut first = caller();
    first.targets = BTreeMap::from([(phone("1002"), Target::Answer { after_ms: 20, talk_ms: Some(50) })]);
    let first = spawn(first);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    acd.set_status(agent_1002, switchboard::acd::Status::Available);
    assert_eq!(rung(&first.await.unwrap()), ["1002"]);
    assert!(acd.waiting(id).is_empty());
    // Two callers wait; the second is told it is number 2, and about a minute.
    acd.set_status(agent_1002, switchboard::acd::Status::OnBreak);
    let mut ahead = caller();
    ahead.hangup_after_ms = Some(800);
    let ahead = spawn(ahead);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let mut s = caller();
    s.hangup_after_ms = Some(400);
    let (r, _) = call_on(&sw, &p, s).await;
    let apps = apps(&r);
    let told = apps.iter().position(|a| a == "playback ivr/ivr-you_are_number.wav").unwrap_or_else(|| panic!("{apps:?}"));
    assert_eq!(
        apps[told..told + 4],
        [
            "playback ivr/ivr-you_are_number.wav",
            "say en number pronounced 2",
            "playback ivr/ivr-in_line.wav",
            "say en time_measurement pronounced 60"
        ],
        "{apps:?}"
    );
    assert!(apps[..told].iter().any(|a| a.starts_with("playback local_stream://")), "music before: {apps:?}");
    assert!(apps[told + 4..].iter().any(|a| a.starts_with("playback local_stream://")), "and after: {apps:?}");
    ahead.await.unwrap();
}

/// By default an agent's own phones ring, whatever their forwarding says; a queue that
/// follows the agents' rules rings where their forward-always or follow-me sends them, and
/// whichever leg answers is that agent's (the leg carries the agent, not only its number).
#[tokio::test]
async fn a_queue_that_follows_the_agents_rules_rings_their_forward_and_follow_me() {
    let p = pbx_q().await;
    let id = queue(&p, &["1002", "1003"], json!({ "strategy": "top_down" }));
    let e1002 = ext(&p, "1002")["id"].as_i64().unwrap();
    p.store.update(&res::EXTENSIONS, Within::Tenant(p.acme), None, e1002, &obj(json!({ "forward_always": "1004" }))).unwrap();
    let mut s = caller();
    s.caller_id_number = "1001".into();
    s.targets = BTreeMap::from([(phone("1002"), Target::Answer { after_ms: 20, talk_ms: Some(50) })]);
    let (r, _) = call(&p, s).await;
    assert_eq!(rung(&r), ["1002"], "the queue's default: the agent's own phone");

    p.store.update(&res::CALL_QUEUES, Within::Tenant(p.acme), None, id, &obj(json!({ "follow_agent_rules": true }))).unwrap();
    let mut s = caller();
    s.caller_id_number = "1001".into();
    s.targets = BTreeMap::from([(phone("1004"), Target::Answer { after_ms: 20, talk_ms: Some(50) })]);
    let (r, cdr) = call(&p, s).await;
    assert_eq!(rung(&r), ["1004"], "the agent's forward rings");
    assert!(r.bridges[0].dialstring.contains(&format!("sb_queue_agent={}", agent(&p, "1002"))), "{}", r.bridges[0].dialstring);
    let v = &cdr["queue_visits"][0];
    assert_eq!(
        (v["outcome"].as_str(), v["agent_id"].as_i64()),
        (Some("answered"), Some(agent(&p, "1002"))),
        "the forward's answer is the agent's: {cdr}"
    );

    // 1003's follow-me: its desk (itself) first, the warehouse phone two seconds later.
    let e1003 = ext(&p, "1003")["id"].as_i64().unwrap();
    let fm = json!({ "extension_id": e1003, "enabled": true,
                     "destinations": [{ "number": "1003", "delay": 0, "timeout": 20 }, { "number": "1004", "delay": 2, "timeout": 20 }] });
    p.store.create(&res::FOLLOW_ME, Some(p.acme), &ADMIN, &obj(fm)).unwrap();
    p.store.update(&res::EXTENSIONS, Within::Tenant(p.acme), None, e1002, &obj(json!({ "forward_always": "" }))).unwrap();
    p.store.set_agent_status(p.acme, agent(&p, "1002"), "on_break").unwrap();
    let acd = switchboard::acd::Acd::default();
    let p2 = pbx_on(p.store.clone(), OPEN, std::time::Duration::from_millis(SECOND_MS), acd).await;
    let mut s = caller();
    s.caller_id_number = "1001".into();
    s.targets = BTreeMap::from([(phone("1004"), Target::Answer { after_ms: 10, talk_ms: Some(50) })]);
    let (r, cdr) = call(&p2, s).await;
    let legs = &r.bridges[0].dialstring;
    assert!(legs.contains("leg_delay_start=2") && legs.contains("user/1003@") && legs.contains("user/1004@"), "{legs}");
    assert_eq!(cdr["queue_visits"][0]["agent_id"].as_i64(), Some(agent(&p, "1003")), "{cdr}");
}
