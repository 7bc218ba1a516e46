//! The outbound session against the simulator over real loopback sockets.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{corpus, handler, start};
use switchboard::call::Greeting;
use switchboard::esl::{EslError, OutboundOptions, OutboundSession};
use switchboard::sim::scenario::{Dtmf, LingerNotice};
use switchboard::sim::{Scenario, Switch};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

fn scenario() -> Scenario {
    Scenario { playback_ms: 20, ..Scenario::default() }
}

#[tokio::test]
async fn greeting_call_runs_answer_playback_hangup_in_order() {
    let srv = start(Arc::new(Greeting { file: "ivr/ivr-welcome.wav".into() })).await;
    let r = Switch::default().call(srv.addr, Arc::new(scenario())).await;
    // This call's events, its legs' and its jobs' (not myevents: it would hide the bridged
    // party's keys), filtered before the subscription starts, then linger. The subscription
    // is what the session waits on: this handler reads no events of its own.
    let events = "event plain CHANNEL_ANSWER CHANNEL_EXECUTE_COMPLETE CHANNEL_HANGUP CHANNEL_HANGUP_COMPLETE BACKGROUND_JOB".to_string();
    let setup = [
        "connect".to_string(),
        format!("filter Unique-ID {}", r.uuid),
        format!("filter Other-Leg-Unique-ID {}", r.uuid),
        format!("filter Job-Owner-UUID {}", r.uuid),
        events,
        "linger 30".into(),
    ];
    assert_eq!(r.commands[..6], setup);
    let apps: Vec<_> = r.apps.iter().map(|a| (a.app.as_str(), a.response.as_str())).collect();
    assert_eq!(apps, vec![("answer", "_none_"), ("playback", "FILE PLAYED")]);
    assert!(r.apps.iter().all(|a| a.event_uuid.is_some()), "every execute carries an Event-UUID");
    assert_eq!(r.hangup_by.as_deref(), Some("switchboard"));
    assert_eq!(r.hangup_cause.as_deref(), Some("NORMAL_CLEARING"));
    assert_eq!(r.ended, "exit", "switchboard ends a lingering socket with exit");
    assert!(r.answered);
    assert!(r.protocol_errors.is_empty());
}

#[tokio::test]
async fn static_and_json_and_every_linger_placement_work() {
    for (async_mode, notice) in [
        (false, LingerNotice::AfterHangup),
        (true, LingerNotice::BeforeHangup),
        (true, LingerNotice::AfterSocketComplete),
        (true, LingerNotice::AfterHangup),
    ] {
        let srv = start(Arc::new(Greeting { file: "x.wav".into() })).await;
        let s = Scenario { async_mode, linger_notice: notice, ..scenario() };
        let r = Switch::default().call(srv.addr, Arc::new(s)).await;
        assert_eq!(r.apps.len(), 2, "{async_mode} {notice:?}: {:?}", r.apps);
        assert_eq!(r.ended, "exit", "{async_mode} {notice:?}");
    }
}

#[tokio::test]
async fn caller_hangup_mid_command_ends_the_wait_at_once() {
    let seen = Arc::new(Mutex::new(None));
    let s2 = seen.clone();
    let h = handler(move |s: &OutboundSession| {
        let seen = s2.clone();
        Box::pin(async move {
            s.answer().await?;
            let t = tokio::time::Instant::now();
            let r = s.playback("long.wav").await;
            *seen.lock().unwrap() = Some((t.elapsed(), r.map(|_| ()).unwrap_err()));
            // After the hangup every execute fails at once without waiting.
            assert!(matches!(s.playback("again.wav").await, Err(EslError::Hangup { .. })));
            Ok(())
        })
    });
    let srv = start(h).await;
    let s = Scenario { hangup_after_ms: Some(150), files: [("long.wav".to_string(), 60_000)].into(), ..scenario() };
    let r = Switch::default().call(srv.addr, Arc::new(s)).await;
    let (took, err) = seen.lock().unwrap().take().unwrap();
    assert!(took < Duration::from_secs(5), "the 60 s playback wait ended with the hangup, took {took:?}");
    match err {
        EslError::Hangup { cause } => assert_eq!(cause.as_deref(), Some("NORMAL_CLEARING")),
        e => panic!("expected a hangup, got {e}"),
    }
    assert_eq!(r.hangup_by.as_deref(), Some("caller"));
    assert_eq!(r.apps.iter().find(|a| a.app == "playback").unwrap().response, "PLAYBACK ERROR");
    assert!(r.ignored_after_hangup.is_empty(), "the second playback was never sent");
}

#[tokio::test(start_paused = true)]
async fn a_sixty_second_call_takes_milliseconds_on_paused_time() {
    let h = handler(|s: &OutboundSession| {
        Box::pin(async move {
            s.answer().await?;
            s.execute("park", None).await?;
            Ok(())
        })
    });
    let srv = start(h).await;
    let wall = std::time::Instant::now();
    let r = Switch::default().call(srv.addr, Arc::new(Scenario { hangup_after_ms: Some(60_000), ..scenario() })).await;
    assert_eq!(r.hangup_by.as_deref(), Some("caller"));
    let billsec: u64 = r.variables.iter().find(|(k, _)| k == "billsec").unwrap().1.parse().unwrap();
    assert_eq!(billsec, 60, "the call lasted 60 simulated seconds");
    assert!(wall.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn digits_from_read_and_play_and_get_digits() {
    let got = Arc::new(Mutex::new(Vec::new()));
    let g2 = got.clone();
    let h = handler(move |s: &OutboundSession| {
        let got = g2.clone();
        Box::pin(async move {
            s.answer().await?;
            let d = s.read_digits(1, 6, "ivr/enter.wav", Duration::from_secs(3), "#").await?;
            got.lock().unwrap().push(d);
            let d = s
                .play_and_get_digits(1, 1, 3, Duration::from_secs(3), "#", "ivr/menu.wav", "ivr/invalid.wav", "^[12]$", Duration::from_secs(2))
                .await?;
            got.lock().unwrap().push(d);
            s.hangup("NORMAL_CLEARING").await
        })
    });
    let srv = start(h).await;
    let s = Scenario {
        dtmf: vec![
            Dtmf { digits: "1234#".into(), after_ms: 30 },
            Dtmf { digits: "9".into(), after_ms: 10 },
            Dtmf { digits: "2".into(), after_ms: 10 },
        ],
        ..scenario()
    };
    let r = Switch::default().call(srv.addr, Arc::new(s)).await;
    assert!(r.protocol_errors.is_empty());
    let got = got.lock().unwrap();
    assert_eq!(got[0].digits, "1234");
    assert_eq!(got[0].terminator.as_deref(), Some("#"));
    assert_eq!(got[0].result.as_deref(), Some("success"));
    assert_eq!(got[1].digits, "2", "9 fails the regex, the second try gives 2");
    assert_eq!(got[1].invalid.as_deref(), Some("9"));
}

#[tokio::test]
async fn bgapi_and_api_inside_the_session() {
    let out = Arc::new(Mutex::new(String::new()));
    let o2 = out.clone();
    let h = handler(move |s: &OutboundSession| {
        let out = o2.clone();
        Box::pin(async move {
            s.bgapi("status").await?;
            let ev = s.bgapi("status").await?;
            let api = s.api(&format!("uuid_getvar {} sip_from_user", s.uuid())).await?;
            *out.lock().unwrap() = format!("{}|{}", ev.body_str().unwrap_or_default(), String::from_utf8_lossy(&api));
            s.hangup("NORMAL_CLEARING").await
        })
    });
    let srv = start(h).await;
    let r = Switch::default().call(srv.addr, Arc::new(scenario())).await;
    assert_eq!(r.commands.iter().filter(|c| c.starts_with("event ")).count(), 1, "BACKGROUND_JOB is subscribed once per session: {:?}", r.commands);
    assert_eq!(r.commands.iter().filter(|c| c.starts_with("bgapi ")).count(), 2);
    let out = out.lock().unwrap();
    assert!(out.starts_with("UP "), "{out}");
    assert!(out.ends_with("|1001"), "{out}");
}

#[tokio::test]
async fn a_socket_without_full_is_refused_with_the_dialplan_fix() {
    let (listener, addr) = {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let a = l.local_addr().unwrap();
        (l, a)
    };
    let call = tokio::spawn(async move { Switch::default().call(addr, Arc::new(Scenario { full: false, ..scenario() })).await });
    let (stream, _) = listener.accept().await.unwrap();
    let err = OutboundSession::start(stream, &OutboundOptions::default()).await.err().unwrap();
    assert!(matches!(err, EslError::NotFull { .. }));
    assert!(err.to_string().contains("async full"), "{err}");
    let r = call.await.unwrap();
    assert_eq!(r.commands, vec!["connect"]);
}

/// A connected pair on loopback: the switch's end, and the one switchboard is handed.
async fn socket_pair() -> (tokio::net::TcpStream, tokio::net::TcpStream) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let peer = tokio::net::TcpStream::connect(l.local_addr().unwrap()).await.unwrap();
    let (s, _) = l.accept().await.unwrap();
    (peer, s)
}

/// Reads from `peer` until `got` holds `n` whole commands (each ends in a blank line).
async fn read_commands(peer: &mut tokio::net::TcpStream, got: &mut Vec<u8>, n: usize) {
    let mut buf = vec![0u8; 4096];
    while got.windows(2).filter(|w| w == b"\n\n").count() < n {
        let r = peer.read(&mut buf).await.unwrap();
        assert!(r > 0, "switchboard closed the socket");
        got.extend_from_slice(&buf[..r]);
    }
}

/// The replies FreeSWITCH gives the session set-up, in order.
const SETUP_REPLIES: [&str; 5] = [
    "+OK filter added. [Unique-ID]=[x]",
    "+OK filter added. [Other-Leg-Unique-ID]=[x]",
    "+OK filter added. [Job-Owner-UUID]=[x]",
    "+OK event listener enabled plain",
    "+OK will linger 30 seconds",
];

/// Plays FreeSWITCH for the session set-up switchboard sends in one write after `connect`:
/// three filters, the subscription and linger, each answered in order. Returns what was
/// read past them (the first command, which may come in the same read).
async fn answer_setup(peer: &mut tokio::net::TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    read_commands(peer, &mut got, 5).await;
    let text = String::from_utf8(got).unwrap();
    let lines: Vec<&str> = text.split("\n\n").collect();
    assert!(lines[..3].iter().all(|l| l.starts_with("filter ")) && lines[3].starts_with("event plain ") && lines[4] == "linger 30", "{lines:?}");
    for reply in SETUP_REPLIES {
        peer.write_all(format!("Content-Type: command/reply\nReply-Text: {reply}\n\n").as_bytes()).await.unwrap();
    }
    lines[5..].join("\n\n").into_bytes()
}

/// The set-up's replies are not waited for: the first application is written right behind
/// it, before FreeSWITCH has answered anything, and a set-up command FreeSWITCH refused
/// fails that first command instead of passing unnoticed.
#[tokio::test]
async fn the_first_command_follows_the_setup_at_once_and_answers_for_it() {
    let (mut peer, s) = socket_pair().await;
    let fs = tokio::spawn(async move {
        let mut got = Vec::new();
        read_commands(&mut peer, &mut got, 1).await; // connect
        peer.write_all(&corpus("01_")).await.unwrap();
        got.clear();
        // Nothing answered yet, and the sendmsg is here already.
        tokio::time::timeout(Duration::from_secs(5), read_commands(&mut peer, &mut got, 6)).await.expect("the first sendmsg came before any reply");
        let text = String::from_utf8(got).unwrap();
        assert!(text.split("\n\n").nth(5).unwrap().starts_with("sendmsg"), "{text}");
        for reply in &SETUP_REPLIES[..4] {
            peer.write_all(format!("Content-Type: command/reply\nReply-Text: {reply}\n\n").as_bytes()).await.unwrap();
        }
        peer.write_all(b"Content-Type: command/reply\nReply-Text: -ERR not allowed\n\n").await.unwrap();
        peer.write_all(b"Content-Type: command/reply\nReply-Text: +OK\n\n").await.unwrap();
        peer
    });
    let session = tokio::time::timeout(Duration::from_secs(5), OutboundSession::start(s, &OutboundOptions::default())).await.unwrap().unwrap();
    let err = tokio::time::timeout(Duration::from_secs(5), session.answer()).await.expect("no hang").unwrap_err();
    match &err {
        EslError::Rejected { command, reply } => {
            assert_eq!(command, "linger 30");
            assert_eq!(reply, "-ERR not allowed");
        }
        other => panic!("expected the linger refusal, got {other}"),
    }
    drop(fs.await.unwrap());
}

#[tokio::test]
async fn connect_timeout_and_peer_close_end_cleanly() {
    // A peer that never answers connect.
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let _silent = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (s, _) = l.accept().await.unwrap();
    let opts = OutboundOptions { connect_timeout: Duration::from_millis(200), ..OutboundOptions::default() };
    let err = OutboundSession::start(s, &opts).await.err().unwrap();
    assert!(matches!(err, EslError::Timeout { .. }), "{err}");

    // A peer that answers with real channel data and then goes away mid-command.
    let mut peer = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (s, _) = l.accept().await.unwrap();
    let fs = tokio::spawn(async move {
        let mut buf = vec![0u8; 4096];
        let _ = peer.read(&mut buf).await.unwrap(); // connect
        peer.write_all(&corpus("01_")).await.unwrap();
        let mut sendmsg = answer_setup(&mut peer).await;
        read_commands(&mut peer, &mut sendmsg, 1).await;
        drop(peer);
    });
    let session = OutboundSession::start(s, &OutboundOptions::default()).await.unwrap();
    assert_eq!(session.uuid(), "78b86350-4fb8-4d2b-a629-1eeafd7d2f74");
    let t = std::time::Instant::now();
    let err = session.playback("x.wav").await.unwrap_err();
    assert!(err.is_hangup(), "{err}");
    assert!(t.elapsed() < Duration::from_secs(2));
    fs.await.unwrap();
}

#[tokio::test]
async fn a_slow_handler_never_stops_the_reader() {
    let (mut peer, s) = socket_pair().await;
    let dtmf = corpus("16_");
    let fs = tokio::spawn(async move {
        let mut buf = vec![0u8; 4096];
        let _ = peer.read(&mut buf).await.unwrap();
        peer.write_all(&corpus("01_")).await.unwrap();
        answer_setup(&mut peer).await;
        // 1,000 events (3.2 MB, far beyond the socket buffers) while the handler sleeps.
        let t = std::time::Instant::now();
        for _ in 0..1000 {
            peer.write_all(&dtmf).await.unwrap();
        }
        t.elapsed()
    });
    let session = OutboundSession::start(s, &OutboundOptions::default()).await.unwrap();
    let mut events = session.connection().subscribe();
    tokio::time::sleep(Duration::from_millis(1500)).await; // the slow handler
    let wrote_in = fs.await.unwrap();
    assert!(wrote_in < Duration::from_millis(1500), "the switch could write all events while the handler slept ({wrote_in:?})");
    let mut n = 0;
    while let Ok(Some(ev)) = tokio::time::timeout(Duration::from_secs(2), events.recv()).await {
        assert_eq!(ev.get("DTMF-Digit").unwrap(), "#");
        n += 1;
    }
    assert_eq!(n, 1000, "every event reached the handler, none lost");
}

#[tokio::test]
async fn malformed_input_ends_one_call_and_others_carry_on() {
    let srv = start(Arc::new(Greeting { file: "x.wav".into() })).await;
    for garbage in [
        &b"Content-Type: text/event-plain\nContent-Length: 99999999999\n\n"[..],
        b"this is not a frame\n\n",
        b"Content-Type: application/evil\n\n",
        b"\xff\xfe\x00garbage-without-colon\n\n",
    ] {
        let mut bad = tokio::net::TcpStream::connect(srv.addr).await.unwrap();
        let mut buf = vec![0u8; 64];
        let n = bad.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"connect\n\n");
        bad.write_all(garbage).await.unwrap();
        // switchboard drops this connection…
        let mut rest = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), bad.read_to_end(&mut rest)).await.expect("connection closed");
        // …and a real call right after is served in full.
        let r = Switch::default().call(srv.addr, Arc::new(scenario())).await;
        assert_eq!(r.apps.len(), 2, "{:?}", r);
    }
    assert!(srv.stats.failed.load(std::sync::atomic::Ordering::Relaxed) >= 4);
}

#[tokio::test]
async fn shutdown_lets_live_calls_finish() {
    let srv = start(Arc::new(Greeting { file: "x.wav".into() })).await;
    let call = tokio::spawn({
        let addr = srv.addr;
        async move { Switch::default().call(addr, Arc::new(Scenario { playback_ms: 400, ..scenario() })).await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    srv.stop.send_replace(true);
    srv.task.await.unwrap();
    let r = call.await.unwrap();
    assert_eq!(r.apps.last().unwrap().response, "FILE PLAYED", "the live call finished its greeting");
    assert!(tokio::net::TcpStream::connect(srv.addr).await.is_err(), "no new calls after shutdown");
}

/// The simulator's `intercept`, as switch_ivr_intercept_session does it: the ringing call's
/// bridge gives up with PICKED_OFF (its legs hung up with that cause) and returns, the
/// caller is answered and talks to the interceptor; when the interceptor hangs up, the
/// caller follows. Intercepting a call that is not ringing does nothing.
#[tokio::test]
async fn intercept_takes_a_ringing_call() {
    let ringing_uuid = Arc::new(std::sync::Mutex::new(String::new()));
    let seen = ringing_uuid.clone();
    let h = handler(move |s: &OutboundSession| {
        let seen = seen.clone();
        Box::pin(async move {
            if s.channel().destination_number().as_deref() == Some("*8") {
                let target = seen.lock().unwrap().clone();
                let done = s.execute("intercept", Some(&target)).await?;
                s.set_var("intercept_answered", done.get("Answer-State").as_deref().unwrap_or("")).await?;
            } else {
                *seen.lock().unwrap() = s.uuid().to_string();
                s.set_var("hangup_after_bridge", "true").await?;
                s.set_var("continue_on_fail", "true").await?;
                let done = s.execute("bridge", Some("user/1003@x,user/1004@x")).await?;
                s.set_var("bridge_said", done.variable("originate_disposition").as_deref().unwrap_or("")).await?;
            }
            let mut st = s.connection().status_watch();
            let _ = st.wait_for(|s| s.hangup.is_some()).await;
            Ok(())
        })
    });
    let srv = start(h).await;
    let sw = Switch::default();
    let ringing = Scenario { destination: "1003".into(), default_target: switchboard::sim::Target::NoAnswer, ..scenario() };
    let picker = Scenario { destination: "*8".into(), hangup_after_ms: Some(300), ..scenario() };
    let (a, b) = tokio::join!(sw.call(srv.addr, Arc::new(ringing)), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        sw.call(srv.addr, Arc::new(picker)).await
    });
    assert_eq!(a.bridges[0].cause, "PICKED_OFF", "{:?}", a.bridges);
    assert_eq!(a.bridges[0].legs, vec![("user/1003@x".to_string(), "PICKED_OFF".to_string()), ("user/1004@x".into(), "PICKED_OFF".into())]);
    assert_eq!(a.bridges[0].picked_by.as_deref(), Some(b.uuid.as_str()));
    assert_eq!(b.picked_up.as_deref(), Some(a.uuid.as_str()));
    let set =
        |r: &switchboard::sim::CallReport, name: &str| r.apps.iter().rev().find(|x| x.app == "set" && x.arg.starts_with(name)).map(|x| x.arg.clone());
    assert_eq!(set(&a, "bridge_said").as_deref(), Some("bridge_said=PICKED_OFF"), "the bridge returned before the conversation");
    assert_eq!(set(&b, "intercept_answered").as_deref(), Some("intercept_answered=answered"));
    assert!(a.answered, "the intercepted caller is answered");
    assert_eq!(a.hangup_by.as_deref(), Some("switch"), "the picker hung up and the caller followed");
    // Nothing ringing: intercept returns and changes nothing; the interceptor stays
    // unanswered, with the early media the core gave it for intercept (an app that needs
    // media: switch_core_session.c:2789–2796).
    let alone = Scenario { destination: "*8".into(), hangup_after_ms: Some(100), ..scenario() };
    let c = sw.call(srv.addr, Arc::new(alone)).await;
    assert_eq!(c.picked_up, None);
    assert_eq!(set(&c, "intercept_answered").as_deref(), Some("intercept_answered=early"));
    assert_eq!(c.hangup_by.as_deref(), Some("caller"));
}

/// An api call made while an execute's sendmsg is still unanswered — and its future not
/// being polled, as in a select! arm acting on an in-call key — must not wait behind it.
#[tokio::test]
async fn a_command_never_waits_on_another_s_unpolled_reply() {
    let (mut peer, s) = socket_pair().await;
    let fs = tokio::spawn(async move {
        let mut buf = vec![0u8; 4096];
        let _ = peer.read(&mut buf).await.unwrap();
        peer.write_all(&corpus("01_")).await.unwrap();
        // The sendmsg, then the api: answered in order, as FreeSWITCH does.
        let mut got = answer_setup(&mut peer).await;
        while !String::from_utf8_lossy(&got).contains("api status") {
            let n = peer.read(&mut buf).await.unwrap();
            got.extend_from_slice(&buf[..n]);
        }
        peer.write_all(b"Content-Type: command/reply\nReply-Text: +OK\n\n").await.unwrap();
        peer.write_all(b"Content-Type: api/response\nContent-Length: 3\n\nUP\n").await.unwrap();
        peer
    });
    let session = OutboundSession::start(s, &OutboundOptions::default()).await.unwrap();
    let exec = session.execute("bridge", Some("user/1003@x"));
    tokio::pin!(exec);
    // Poll the execute once: it writes its sendmsg, then is left alone.
    assert!(futures_util::poll!(&mut exec).is_pending());
    let body = tokio::time::timeout(Duration::from_secs(2), session.api("status")).await.expect("the api call must not stall").unwrap();
    assert_eq!(&body[..], b"UP\n");
    drop(fs.await.unwrap());
}

/// api_ok: `+OK …` is success, anything else (FreeSWITCH's `-ERR No such channel!`) a
/// refusal that names the command and the switch's answer.
#[tokio::test]
async fn api_ok_tells_a_refusal_from_success() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    let h = handler(move |s: &OutboundSession| {
        let seen = s2.clone();
        Box::pin(async move {
            let ok = s.connection().api_ok(&format!("uuid_setvar {} hangup_after_bridge false", s.uuid())).await;
            let refused = s.connection().api_ok("uuid_kill 00000000-0000-0000-0000-000000000000").await;
            seen.lock().unwrap().push((ok.map(|b| String::from_utf8_lossy(&b).into_owned()), refused.map_err(|e| e.to_string())));
            s.hangup("NORMAL_CLEARING").await
        })
    });
    let srv = start(h).await;
    Switch::default().call(srv.addr, Arc::new(scenario())).await;
    let seen = seen.lock().unwrap();
    let (ok, refused) = &seen[0];
    assert_eq!(ok.as_ref().unwrap().trim(), "+OK");
    let err = refused.as_ref().unwrap_err();
    assert!(err.contains("uuid_kill") && err.contains("No such channel"), "{err}");
}

/// `switchboard simulate`'s load run: every call counted once, as completed or as an error,
/// with at most five error samples, and each call's timings in the percentiles once.
#[tokio::test]
async fn a_load_run_counts_every_call_once() {
    let n = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let h = handler(move |s: &OutboundSession| {
        let i = n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Box::pin(async move {
            // Every third call is hung up (a `sendmsg hangup`) without an application: the
            // load run must call it an error.
            if i % 3 != 2 {
                s.answer().await?;
            }
            s.hangup("NORMAL_CLEARING").await
        })
    });
    let srv = start(h).await;
    let plain = Scenario { playback_ms: 0, ..Scenario::default() };
    let r = switchboard::sim::load::run(srv.addr, 300, 0.0, 20, plain).await;
    assert_eq!((r.calls, r.completed, r.errors), (300, 200, 100), "{r:?}");
    assert_eq!(r.error_samples.len(), 5, "{r:?}");
    assert!(r.error_samples.iter().all(|e| e.contains("no application ran")), "{r:?}");
    assert_eq!(r.connect_to_first_command.count, 300, "every call sent `connect`");
    assert_eq!(r.channel_data_to_first_app.count, 300, "every call sent a sendmsg");
    assert_eq!(r.whole_call.count, 300);
    assert!(r.calls_per_second > 0.0);
}

/// A socket that sends its channel data and then nothing, not even the set-up's replies,
/// would hold its call's slot for ever: every command's reply is waited for within the
/// reply timeout, and then the socket is given up and the slot is free for the next call.
#[tokio::test]
async fn a_socket_that_goes_silent_after_its_channel_data_gives_its_call_slot_back() {
    let opts = OutboundOptions { reply_timeout: Duration::from_millis(300), ..OutboundOptions::default() };
    let h = handler(|s| Box::pin(async move { s.answer().await.map(|_| ()) }));
    // One slot: the second socket is not even read until the first call is over.
    let srv = switchboard::server::OutboundServer::bind("127.0.0.1:0".parse().unwrap(), h, opts, 1).await.unwrap();
    let (addr, stats) = (srv.local_addr().unwrap(), srv.stats());
    let (stop, rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(srv.run(rx, Duration::from_secs(1)));
    let mut silent = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut got = Vec::new();
    read_commands(&mut silent, &mut got, 1).await;
    assert_eq!(got, b"connect\n\n");
    silent.write_all(&corpus("01_")).await.unwrap();
    assert!(common::closed_within(&mut silent, Duration::from_secs(5)).await, "switchboard gave the silent socket up");
    let mut next = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut got = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), read_commands(&mut next, &mut got, 1)).await.expect("the next call got the freed slot");
    assert_eq!(got, b"connect\n\n");
    assert_eq!(stats.failed.load(std::sync::atomic::Ordering::Relaxed), 1, "the silent call counted as failed");
    stop.send_replace(true);
    drop(next);
    let _ = task.await;
}

/// A long application (a bridge) may leave the socket quiet for an hour, and so may a dead
/// peer. After the quiet time the session asks the switch `uuid_exists`: "true" keeps the
/// call, "false" ends it at once, and the socket is closed.
#[tokio::test]
async fn a_quiet_call_is_probed_and_ended_when_the_switch_no_longer_has_it() {
    let (mut peer, s) = socket_pair().await;
    let fs = tokio::spawn(async move {
        let mut got = Vec::new();
        read_commands(&mut peer, &mut got, 1).await; // connect
        peer.write_all(&corpus("01_")).await.unwrap();
        let mut got = answer_setup(&mut peer).await;
        read_commands(&mut peer, &mut got, 1).await;
        assert!(got.starts_with(b"sendmsg"), "{}", String::from_utf8_lossy(&got));
        peer.write_all(b"Content-Type: command/reply\nReply-Text: +OK\n\n").await.unwrap();
        let mut probes = Vec::new();
        for answer in ["true", "false"] {
            let mut got = Vec::new();
            read_commands(&mut peer, &mut got, 1).await;
            probes.push(String::from_utf8(got).unwrap());
            peer.write_all(format!("Content-Type: api/response\nContent-Length: {}\n\n{answer}", answer.len()).as_bytes()).await.unwrap();
        }
        let closed = common::closed_within(&mut peer, Duration::from_secs(5)).await;
        (probes, closed)
    });
    let opts = OutboundOptions { probe_after: Duration::from_millis(300), ..OutboundOptions::default() };
    let session = OutboundSession::start(s, &opts).await.unwrap();
    let t = std::time::Instant::now();
    let err = tokio::time::timeout(Duration::from_secs(10), session.execute("bridge", Some("user/1002@x")))
        .await
        .expect("the probe ended the wait")
        .unwrap_err();
    assert!(err.is_hangup(), "{err}");
    assert!(t.elapsed() >= Duration::from_millis(600), "a \"true\" kept the call through the first probe ({:?})", t.elapsed());
    let (probes, closed) = fs.await.unwrap();
    assert_eq!(probes, ["api uuid_exists 78b86350-4fb8-4d2b-a629-1eeafd7d2f74\n\n"; 2]);
    assert!(closed, "switchboard closed the socket");
}

/// Without `async` FreeSWITCH answers a `sendmsg execute` only when the application ends
/// (a bridge: the whole call), so such a socket's replies are not timed; in async mode a
/// reply slower than the reply timeout gives the socket up.
#[tokio::test]
async fn replies_are_timed_only_on_an_async_socket() {
    for (mode, answered) in [("async", false), ("static", true)] {
        let (mut peer, s) = socket_pair().await;
        let data = String::from_utf8(corpus("01_")).unwrap().replace("Socket-Mode: async", &format!("Socket-Mode: {mode}"));
        let fs = tokio::spawn(async move {
            let mut got = Vec::new();
            read_commands(&mut peer, &mut got, 1).await; // connect
            peer.write_all(data.as_bytes()).await.unwrap();
            let mut got = answer_setup(&mut peer).await;
            read_commands(&mut peer, &mut got, 1).await;
            tokio::time::sleep(Duration::from_millis(600)).await;
            let _ = peer.write_all(b"Content-Type: api/response\nContent-Length: 3\n\n+OK").await;
            common::closed_within(&mut peer, Duration::from_secs(3)).await
        });
        let opts = OutboundOptions { reply_timeout: Duration::from_millis(200), ..OutboundOptions::default() };
        let session = OutboundSession::start(s, &opts).await.unwrap();
        let reply = session.api("status").await;
        assert_eq!(reply.is_ok(), answered, "{mode}: {reply:?}");
        if !answered {
            assert!(matches!(reply, Err(EslError::Timeout { .. })), "{mode}: {reply:?}");
        }
        drop(session);
        fs.await.unwrap();
    }
}
