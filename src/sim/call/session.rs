//! The session task: the parked channel thread that runs queued `sendmsg` executes one at
//! a time, and the `sendmsg` handling that queues them (or runs them inline in static mode).

use std::sync::Arc;

use bytes::BytesMut;
use tokio::sync::mpsc;

use crate::esl::switch_side::{self, RawCommand};
use crate::sim::apps;

use super::listener::Listener;
use super::*;

/// A queued sendmsg execute.
pub(super) struct QueuedApp {
    pub(super) app: String,
    pub(super) arg: String,
    pub(super) event_uuid: Option<String>,
}

/// The parked session thread: runs queued applications in order until the channel goes
/// down or the socket lets go, then the socket app returns.
pub(super) async fn session_loop(core: Arc<Core>, mut queue: mpsc::UnboundedReceiver<QueuedApp>) {
    let mut down = core.down.subscribe();
    let mut released = core.released.subscribe();
    loop {
        tokio::select! {
            biased;
            _ = async { down.wait_for(|d| *d).await.map(|_| ()) } => break,
            _ = async { released.wait_for(|r| *r).await.map(|_| ()) } => break,
            msg = queue.recv() => match msg {
                Some(m) => {
                    if core.is_down() {
                        core.lock().report.ignored_after_hangup.push(m.app);
                        continue;
                    }
                    apps::execute(&core, &m.app, &m.arg, m.event_uuid.as_deref()).await;
                }
                None => break,
            },
        }
    }
    // The socket app returns: its own EXECUTE_COMPLETE carries the previous application's
    // response (docs/esl-protocol.md §11.10), then the state machine reports the hangup.
    let (data, response) = {
        let st = core.lock();
        (
            st.ch.var("current_application_data").unwrap_or_default().to_string(),
            st.ch.var("current_application_response").unwrap_or("_none_").to_string(),
        )
    };
    let data = if core.lock().report.apps.is_empty() { data } else { socket_data(&core.scenario) };
    core.fire_a(
        "CHANNEL_EXECUTE_COMPLETE",
        ("switch_core_session.c", "switch_core_session_exec", 2978),
        Vec::new(),
        vec![
            ("Application".into(), "socket".into()),
            ("Application-Data".into(), data),
            ("Application-Response".into(), response),
            ("Application-UUID".into(), uuid::Uuid::new_v4().to_string()),
        ],
    );
    core.queue_marker();
    if !core.is_down() {
        // Released while up (exit or transfer): the channel goes on without us.
        return;
    }
    let ev = {
        let mut st = core.lock();
        let id = core.switch.identity();
        let answered = st.ch.answered_us;
        let hung = st.ch.hangup_us;
        let created = st.ch.created_us;
        // Seconds of the scenario's clock (second_ms per second).
        let us_per_second = core.scenario.second_ms.max(1) * 1000;
        let billsec = if answered > 0 { (hung.saturating_sub(answered)) / us_per_second } else { 0 };
        st.ch.set_var("duration", &((hung.saturating_sub(created)) / us_per_second).to_string());
        st.ch.set_var("billsec", &billsec.to_string());
        st.ch.set_var("billmsec", &(if answered > 0 { hung.saturating_sub(answered) / 1000 } else { 0 }).to_string());
        let cause = st.ch.hangup_cause.clone().unwrap_or_default();
        // Hangup-Cause twice: switch_core_state_machine.c:944 and again in the basic data.
        st.ch.event(
            &id,
            "CHANNEL_HANGUP_COMPLETE",
            ("switch_core_state_machine.c", "switch_core_session_reporting_state", 944),
            vec![("Hangup-Cause".into(), cause)],
            Vec::new(),
        )
    };
    core.fire(ev);
}

pub(super) async fn handle_sendmsg(
    core: &Arc<Core>,
    l: &Listener,
    cmd: &RawCommand,
    arg: &str,
    queue: &mpsc::UnboundedSender<QueuedApp>,
    out: &mut BytesMut,
) {
    if !arg.is_empty() && arg != l.uuid {
        match core.switch.find(arg) {
            Some(other) => {
                switch_side::command_reply("+OK", out);
                other.apply_sendmsg(cmd).await;
            }
            None => switch_side::command_reply(&format!("-ERR invalid session id [{arg}]"), out),
        }
        return;
    }
    match cmd.header("call-command").map(|c| c.to_ascii_lowercase()).as_deref() {
        Some("execute") => {
            let app = cmd.header("execute-app-name").unwrap_or("").to_string();
            // The body is the argument only when execute-app-arg is absent (switch_ivr.c:567).
            let app_arg = cmd
                .header("execute-app-arg")
                .map(str::to_string)
                .or_else(|| cmd.body.as_ref().map(|b| String::from_utf8_lossy(b).into_owned()))
                .unwrap_or_default();
            let event_uuid = cmd.header("Event-UUID").map(str::to_string);
            if core.is_down() {
                core.lock().report.ignored_after_hangup.push(app);
                switch_side::command_reply("+OK", out);
                return;
            }
            if core.scenario.async_mode || cmd.header("async").is_some_and(|a| a.eq_ignore_ascii_case("true")) {
                let _ = queue.send(QueuedApp { app, arg: app_arg, event_uuid });
                switch_side::command_reply("+OK", out);
            } else {
                // Static: the app runs inline on the listener thread; +OK when it returns.
                apps::execute(core, &app, &app_arg, event_uuid.as_deref()).await;
                switch_side::command_reply("+OK", out);
            }
        }
        Some("hangup") => {
            let cause = cmd.header("hangup-cause").unwrap_or("NORMAL_CLEARING").to_string();
            core.hangup(&cause, "switchboard");
            switch_side::command_reply("+OK", out);
        }
        // unicast, nomedia, xferext: accepted; the simulator has no media to move.
        Some(_) => switch_side::command_reply("+OK", out),
        // Missing call-command: "Invalid Command!" in the log, +OK on the wire.
        None => switch_side::command_reply("+OK", out),
    }
}
