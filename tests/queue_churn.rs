//! Call queues under churn, through the simulator over real sockets: 300 callers against
//! 20 agents on 3 queues that share agents, with random hangups on both sides (a caller
//! gives up while waiting, while an agent's phone rings, while talking; an agent hangs up;
//! phones ring out, are busy, reject) and phones unregistering and coming back. Watched
//! all along from the switch's side; at the end, every caller left the line exactly one
//! way, nobody is stuck, and the figures equal the records.

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::pbx::*;
use serde_json::{json, Value};
use switchboard::access::{parse_tokens, Role};
use switchboard::acd::{Acd, Presence, State};
use switchboard::sim::{Switch, Target};
use switchboard::store::accounts::NewUser;
use switchboard::store::resources as res;

const SECOND_MS: u64 = 20;
const CALLERS: usize = 300;
const AGENTS: usize = 20;

/// The switch as the engine sees it: an agent's phone is on a call when the simulator has
/// a conversation up with it; some phones drop their registration for a while.
struct SimPresence {
    sw: Switch,
    unregistered: Mutex<HashSet<String>>,
}

impl Presence for SimPresence {
    fn on_a_call(&self, _: i64, extension: &str) -> bool {
        let leg = format!("sofia/internal/{extension}@");
        self.sw.conversations().iter().any(|(_, l)| l.starts_with(&leg))
    }

    fn registered(&self, _: i64, extension: &str) -> Option<bool> {
        Some(!self.unregistered.lock().unwrap().contains(extension))
    }
}

fn extension_of(leg: &str) -> &str {
    leg.trim_start_matches("sofia/internal/").split('@').next().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hundred_callers_twenty_agents_three_queues_nobody_stuck_and_the_figures_equal_the_records() {
    let sw = Switch::default();
    let presence = Arc::new(SimPresence { sw: sw.clone(), unregistered: Mutex::default() });
    let acd = Acd::new(presence.clone());
    let breaks = Arc::new(Mutex::new(HashSet::new()));
    {
        let breaks = breaks.clone();
        acd.on_break(Box::new(move |user, _, _| {
            breaks.lock().unwrap().insert(user);
        }));
    }
    let p = pbx_with_queues(OPEN, Duration::from_millis(SECOND_MS), acd.clone()).await;
    set_tenant(&p, json!({ "max_concurrent_calls": 1000 }));

    // Twenty agents, each with a phone 3001…3020.
    let mut agents = Vec::new();
    for i in 1..=AGENTS {
        let u = p
            .store
            .create_user(
                &NewUser {
                    tenant: Some(p.acme),
                    email: format!("agent{i}@acme.test"),
                    name: format!("Agent {i}"),
                    role: Role::Agent,
                    password_hash: "plain:x".into(),
                    permissions: parse_tokens(["call_queues"]).unwrap(),
                    fax_email: String::new(),
                },
                &BTreeMap::new(),
            )
            .unwrap();
        let number = format!("{}", 3000 + i);
        p.store
            .create(&res::EXTENSIONS, Some(p.acme), &ADMIN, &obj(json!({ "number": number, "display_name": format!("Agent {i}"), "user_id": u.id })))
            .unwrap();
        p.store.set_agent_status(p.acme, u.id, "available").unwrap();
        agents.push((u.id, number));
    }
    // Three queues sharing agents (an agent of two queues must never take two calls).
    let mut queues = Vec::new();
    // (Wrap-up is in the engine's real seconds: one queue has it, the others none.)
    for (k, (strategy, range, wrap_up)) in [("ring_all", 0..10, 1), ("longest_idle", 5..15, 0), ("round_robin", 10..20, 0)].into_iter().enumerate() {
        let q = json!({
            "name": format!("Q{k}"), "number": format!("{}", 7000 + k), "strategy": strategy, "max_wait": 60,
            "agent_timeout": 5, "wrap_up": wrap_up, "reject_delay": 2, "max_no_answer": 4, "tier_escalation": 0,
            "timeout_destination": { "type": "hangup", "cause": "NO_ANSWER" },
            "agents": agents[range].iter().map(|(u, _)| json!({ "user_id": u, "tier": 1 })).collect::<Vec<_>>(),
        });
        queues.push(p.store.create(&res::CALL_QUEUES, Some(p.acme), &ADMIN, &obj(q)).unwrap()["id"].as_i64().unwrap());
    }

    // Watching from the switch's side: no phone in two conversations, no caller bridged
    // to two phones, no agent in two queue calls in the engine.
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (sw, acd, stop, agents) = (sw.clone(), acd.clone(), stop.clone(), agents.clone());
        tokio::spawn(async move {
            let mut faults = Vec::new();
            let mut samples = 0;
            while !stop.load(Ordering::Relaxed) {
                let talks = sw.conversations();
                let mut per_phone: HashMap<&str, usize> = HashMap::new();
                let mut per_caller: HashMap<&str, usize> = HashMap::new();
                for (a, leg) in &talks {
                    *per_phone.entry(extension_of(leg)).or_default() += 1;
                    *per_caller.entry(a.as_str()).or_default() += 1;
                }
                faults.extend(per_phone.iter().filter(|(_, n)| **n > 1).map(|(p, n)| format!("phone {p} in {n} conversations")));
                faults.extend(per_caller.iter().filter(|(_, n)| **n > 1).map(|(c, n)| format!("caller {c} bridged to {n} phones")));
                faults.extend(agents.iter().filter(|(u, _)| acd.talking(*u) > 1).map(|(u, _)| format!("agent {u} in two queue calls")));
                samples += 1;
                tokio::time::sleep(Duration::from_millis(3)).await;
            }
            (faults, samples)
        })
    };
    // Phones dropping their registration for a while, and coming back.
    let flapper = {
        let (presence, stop, agents) = (presence.clone(), stop.clone(), agents.clone());
        tokio::spawn(async move {
            let mut rng = fastrand::Rng::with_seed(7);
            while !stop.load(Ordering::Relaxed) {
                let ext = agents[rng.usize(..agents.len())].1.clone();
                {
                    let mut down = presence.unregistered.lock().unwrap();
                    if !down.remove(&ext) && down.len() < 3 {
                        down.insert(ext);
                    }
                }
                tokio::time::sleep(Duration::from_millis(40)).await;
            }
            presence.unregistered.lock().unwrap().clear();
        })
    };

    // The callers: one every 10 ms, each to a random queue, each with its own hangup and
    // its own idea of how every agent's phone behaves.
    let mut rng = fastrand::Rng::with_seed(2026);
    let mut calls = Vec::new();
    for _ in 0..CALLERS {
        let mut s = from_phone(ACME, "1004", &format!("{}", 7000 + rng.usize(..3)));
        s.second_ms = SECOND_MS;
        // A third never hang up first (they time out or talk until the agent hangs up).
        s.hangup_after_ms = (rng.u8(..3) != 0).then(|| rng.u64(30..1200));
        s.targets = agents
            .iter()
            .map(|(_, n)| {
                let t = match rng.u8(..10) {
                    0..=5 => Target::Answer { after_ms: rng.u64(5..70), talk_ms: Some(rng.u64(10..300)) },
                    6 => Target::Busy { after_ms: rng.u64(0..20) },
                    7 => Target::Reject { after_ms: rng.u64(0..20) },
                    _ => Target::NoAnswer,
                };
                (format!("user/{n}@{ACME}"), t)
            })
            .collect();
        let (sw, srv) = (sw.clone(), p.srv.addr);
        calls.push(tokio::spawn(async move { sw.call(srv, Arc::new(s)).await }));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut reports = Vec::new();
    for c in calls {
        reports.push(tokio::time::timeout(Duration::from_secs(60), c).await.expect("every call ends").unwrap());
    }
    stop.store(true, Ordering::Relaxed);
    let (faults, samples) = watcher.await.unwrap();
    flapper.await.unwrap();
    assert!(faults.is_empty(), "{} faults in {samples} samples, first: {:?}", faults.len(), &faults[..faults.len().min(5)]);
    assert!(samples > 100, "watched all along ({samples} samples)");

    // Each caller left the line exactly one way; an answered one by one agent's phone.
    let mut outcomes: HashMap<String, usize> = HashMap::new();
    for r in &reports {
        let mut cdr = Value::Null;
        for _ in 0..250 {
            if let Some(c) = p.store.cdr(&r.uuid).unwrap() {
                cdr = c;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let visits = cdr["queue_visits"].as_array().unwrap_or_else(|| panic!("a record for {}: {cdr}", r.uuid));
        assert_eq!(visits.len(), 1, "{cdr}");
        let outcome = visits[0]["outcome"].as_str().unwrap().to_string();
        let answered: Vec<&String> = r.bridges.iter().filter_map(|b| b.answered_by.as_ref()).collect();
        match outcome.as_str() {
            "answered" => {
                assert_eq!(answered.len(), 1, "answered by exactly one phone: {:?}", r.bridges);
                let agent = visits[0]["agent_id"].as_i64().unwrap();
                let phone = &agents.iter().find(|(u, _)| *u == agent).unwrap().1;
                assert!(answered[0].contains(&format!("user/{phone}@")), "the agent recorded is the phone that answered: {} vs {phone}", answered[0]);
            }
            "abandoned" | "timed_out" => assert!(answered.is_empty(), "{outcome} but bridged: {:?}", r.bridges),
            other => panic!("no caller is turned away or exits here: {other}"),
        }
        *outcomes.entry(outcome).or_default() += 1;
    }
    for o in ["answered", "abandoned", "timed_out"] {
        assert!(outcomes.get(o).copied().unwrap_or(0) > 0, "the churn exercised {o}: {outcomes:?}");
    }

    // After the last wrap-up, nobody is stuck: every agent is available, or on the break
    // the no-answer rule put them on (and the feed was told); nobody waits or talks.
    // (The engine keeps wrap-up in real seconds: the simulator's short seconds are the
    // switch's, not the engine's.)
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let breaks = breaks.lock().unwrap().clone();
    for (u, n) in &agents {
        let (state, _) = acd.state(*u).unwrap_or_else(|| panic!("agent {n} known to the engine"));
        let expected = if breaks.contains(u) { State::OnBreak } else { State::Available };
        assert_eq!(state, expected, "agent {n}");
        assert_eq!(acd.talking(*u), 0, "agent {n}");
    }
    let mut answered = 0;
    let mut abandoned = 0;
    let mut timed_out = 0;
    let mut offered = 0;
    for q in &queues {
        assert!(acd.waiting(*q).is_empty(), "queue {q}'s line is empty");
        let c = acd.counters(*q);
        (answered, abandoned, timed_out, offered) = (answered + c.answered, abandoned + c.abandoned, timed_out + c.timed_out, offered + c.offered);
    }
    let n = |o: &str| outcomes.get(o).copied().unwrap_or(0) as u64;
    assert_eq!((offered, answered, abandoned, timed_out), (CALLERS as u64, n("answered"), n("abandoned"), n("timed_out")), "{outcomes:?}");
    eprintln!("churn: {outcomes:?}, {} agents put on break, {samples} samples watched", breaks.len());
}
