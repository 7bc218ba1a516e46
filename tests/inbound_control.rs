//! The control connection against the simulator's inbound face.

use std::sync::Arc;
use std::time::Duration;

use switchboard::esl::inbound::{InboundClient, Supervisor, SwitchState};
use switchboard::sim::{Scenario, Switch};

#[tokio::test]
async fn auth_api_bgapi_events_and_uuid_kill() {
    let switch = Switch::default();
    let (addr, _h) = switchboard::sim::inbound::serve(switch.clone(), "127.0.0.1:0".parse().unwrap(), "s3cret".into()).await.unwrap();

    let bad = InboundClient::connect(addr, "wrong", Duration::from_secs(2)).await.err().unwrap();
    assert!(bad.to_string().contains("-ERR invalid"), "{bad}");
    assert!(!bad.to_string().contains("wrong"), "the password never appears in errors");

    let c = InboundClient::connect(addr, "s3cret", Duration::from_secs(2)).await.unwrap();
    assert!(c.api("status").await.unwrap().contains("is ready"));
    assert_eq!(c.api("show channels as json").await.unwrap(), "{\"row_count\":0}");
    assert!(c.api("bogus").await.unwrap().starts_with("-ERR bogus Command not found"));
    let refused = c
        .connection()
        .send_ok(&switchboard::esl::Command::SendMsg {
            uuid: Some("no-such-uuid".into()),
            msg: switchboard::esl::SendMsg::Hangup { cause: "NORMAL_CLEARING".into() },
        })
        .await
        .unwrap_err();
    match refused {
        switchboard::esl::EslError::Rejected { reply, .. } => assert_eq!(reply, "-ERR invalid session id [no-such-uuid]"),
        e => panic!("expected a refusal, got {e}"),
    }
    assert!(c.api("status").await.unwrap().contains("is ready"), "a refused command leaves the connection usable");
    let mut events = c.connection().subscribe();
    c.events(&["BACKGROUND_JOB", "CHANNEL_HANGUP"]).await.unwrap();
    assert!(c.bgapi("status").await.unwrap().starts_with("UP "));

    // A call parked on a bare outbound socket shows up, and uuid_kill hangs it up.
    let sock = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let target = sock.local_addr().unwrap();
    let call = tokio::spawn({
        let sw = switch.clone();
        async move { sw.call(target, Arc::new(Scenario::default())).await }
    });
    let (stream, _) = sock.accept().await.unwrap();
    let session = switchboard::esl::OutboundSession::start(stream, &Default::default()).await.unwrap();
    let parked = tokio::spawn(async move {
        let r = session.execute("park", None).await;
        session.finish(Duration::from_secs(1)).await;
        r
    });
    let mut uuid = String::new();
    for _ in 0..50 {
        let rows: serde_json::Value = serde_json::from_str(&c.api("show channels as json").await.unwrap()).unwrap();
        if rows["row_count"] == 1 {
            uuid = rows["rows"][0]["uuid"].as_str().unwrap().to_string();
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!uuid.is_empty(), "the live call is listed");
    assert_eq!(c.api(&format!("uuid_kill {uuid} USER_BUSY")).await.unwrap(), "+OK\n");
    let err = parked.await.unwrap().unwrap_err();
    assert!(err.is_hangup(), "{err}");
    let report = call.await.unwrap();
    assert_eq!(report.hangup_cause.as_deref(), Some("USER_BUSY"));
    let hangup = loop {
        let ev = tokio::time::timeout(Duration::from_secs(2), events.recv()).await.unwrap().unwrap();
        if ev.is("CHANNEL_HANGUP") {
            break ev;
        }
    };
    assert_eq!(hangup.unique_id().unwrap(), uuid);
    assert_eq!(c.api(&format!("uuid_kill {uuid}")).await.unwrap(), "-ERR No such channel!\n");
    c.exit().await;
}

#[tokio::test]
async fn supervisor_reports_offline_then_online() {
    // Reserve a port, then free it so nothing listens there yet.
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = probe.local_addr().unwrap();
    drop(probe);
    let (_stop_tx, stop) = tokio::sync::watch::channel(false);
    let sup = Supervisor::spawn(addr, "ClueCon".into(), stop);
    let mut st = sup.state_watch();
    tokio::time::timeout(Duration::from_secs(5), st.wait_for(|s| matches!(s, SwitchState::Offline { .. }))).await.unwrap().unwrap();
    assert!(sup.client().is_none());
    let _fs = switchboard::sim::inbound::serve(Switch::default(), addr, "ClueCon".into()).await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), st.wait_for(|s| *s == SwitchState::Online)).await.unwrap().unwrap();
    let client = sup.client().expect("online client");
    assert!(client.api("status").await.unwrap().contains("is ready"));
}

/// Reconciliation: a slot whose call the switch does not list is freed, a live call's slot
/// stays; a reservation no call task owns is settled once, at what it held, when its call
/// is gone (a crash left it), and a second pass changes nothing.
#[tokio::test]
async fn reconciliation_frees_ghost_slots_and_settles_orphaned_reservations() {
    use switchboard::call::caps::Caps;
    use switchboard::store::{ledger::Payment, Store, TenantId};
    let switch = Switch::default();
    let (addr, _h) = switchboard::sim::inbound::serve(switch.clone(), "127.0.0.1:0".parse().unwrap(), "s3cret".into()).await.unwrap();
    let c = InboundClient::connect(addr, "s3cret", Duration::from_secs(2)).await.unwrap();

    // One live call, parked on a bare socket.
    let sock = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let target = sock.local_addr().unwrap();
    let sw = switch.clone();
    let phone = Scenario { hangup_after_ms: Some(2000), context: "acme.switchboard.test".into(), ..Scenario::default() };
    let call = tokio::spawn(async move { sw.call(target, Arc::new(phone)).await });
    let (stream, _) = sock.accept().await.unwrap();
    let session = switchboard::esl::OutboundSession::start(stream, &Default::default()).await.unwrap();
    let live = session.uuid().to_string();

    let dir = std::env::temp_dir().join(format!("sb-reconcile-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = Store::open(&dir.join("t.db")).unwrap();
    switchboard::store::seed::demo(&store, &|p| format!("plain:{p}")).unwrap();
    let t = TenantId(1);
    store.pay(t, &Payment { amount: 10_000_000, payment_type: "cash".into(), date: String::new(), note: String::new(), user_id: None }).unwrap();
    let rate = switchboard::billing::rating::Rate { per_minute: 60_000, connection_charge: 0, first_increment: 60, next_increment: 60 };
    let pkg = store
        .create(
            &switchboard::store::resources::PACKAGES,
            None,
            &switchboard::store::resource::Actor { user_id: 0, admin: true, enforce_packages: false },
            &serde_json::json!({ "name": "None" }).as_object().unwrap().clone(),
        )
        .unwrap();
    store.subscribe(t, pkg["id"].as_i64().unwrap()).unwrap();
    assert_eq!(store.hold(t, "crashed-call", &rate, 120).unwrap(), 120);
    assert_eq!(store.hold(t, &live, &rate, 60).unwrap(), 60);

    let caps = Arc::new(Caps::default());
    let _live_slot = caps.tenant(&live, 1, 0).unwrap();
    let _ghost = caps.tenant("ghost", 1, 0).unwrap();
    let mut waiting = switchboard::call::reconcile::Waiting::default();
    let pass = switchboard::call::reconcile::once(&caps, &store, &c, Duration::ZERO, &|_| None, &mut waiting).await.unwrap();
    assert_eq!(pass.freed, vec!["ghost".to_string()]);
    assert_eq!(pass.settled, Vec::<String>::new(), "a gone call the switch has not reported waits one pass for its figure");
    let pass = switchboard::call::reconcile::once(&caps, &store, &c, Duration::ZERO, &|_| None, &mut waiting).await.unwrap();
    assert_eq!(pass.settled, vec!["crashed-call".to_string()], "the live call's reservation stays");
    assert_eq!(caps.tenant_calls(1), 1);
    let credit = store.credit(t).unwrap();
    assert_eq!((credit.balance, credit.held), (10_000_000 - 120_000, 60_000));
    let again = switchboard::call::reconcile::once(&caps, &store, &c, Duration::ZERO, &|_| None, &mut waiting).await.unwrap();
    assert_eq!(again, switchboard::call::reconcile::Pass::default(), "nothing twice");
    assert_eq!(store.credit(t).unwrap().balance, 10_000_000 - 120_000);
    session.finish(Duration::from_secs(1)).await;
    let _ = call.await;
    // The call's task is over, and the switch still lists the call for a moment (its row
    // goes with CHANNEL_DESTROY, through the core's SQL queue): it is not taken for a call
    // routed before a restart, which would hold a slot of the tenant's cap.
    drop(_live_slot);
    let listed = c.api("show channels as json").await.unwrap();
    assert!(listed.contains(&live), "the switch lists a call briefly after its socket closed: {listed}");
    let after = switchboard::call::reconcile::once(&caps, &store, &c, Duration::ZERO, &|_| None, &mut waiting).await.unwrap();
    assert_eq!(after.adopted, Vec::<String>::new());
    assert_eq!(caps.tenant_calls(1), 0);
    let _ = std::fs::remove_dir_all(&dir);
}
