//! One simulated call handed to an outbound socket, as mod_event_socket runs it.
//!
//! Two tasks, like FreeSWITCH's two threads: the *listener* (listener_run,
//! mod_event_socket.c:2640–2866) reads commands and writes replies and events; the *session*
//! (the channel thread parked by the socket app, 542) runs queued applications one at a
//! time. In static mode there is no session task: the listener runs each application
//! inline, so nothing else is written until it returns (§5.3 of docs/esl-protocol.md).
//!
//! Here: what a call reports and the call's shared core, and `run_call`; the listener task in
//! `listener`, the commands it answers in `commands`, the session task and the applications
//! queued for it in `session`.

mod commands;
mod listener;
mod session;

pub(crate) use commands::apply_filter;
pub(crate) use listener::filters_pass;
use listener::listener_run;
use session::session_loop;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::apps;
use super::channel::Channel;
use super::event::SimEvent;
use super::scenario::{Dtmf, Scenario};
use super::Switch;
use crate::esl::switch_side::RawCommand;

/// What happened on a call, for tests and the load generator to check.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct CallReport {
    pub uuid: String,
    /// First line of every command received, in order (auth redacted).
    pub commands: Vec<String>,
    pub apps: Vec<AppRun>,
    pub bridges: Vec<BridgeRun>,
    /// sendmsg executes received after the hangup: answered +OK, never run.
    pub ignored_after_hangup: Vec<String>,
    pub answered: bool,
    pub hangup_cause: Option<String>,
    /// caller, switchboard (sendmsg hangup or the hangup app), switch (a failed bridge,
    /// an invalid application, sched_hangup, uuid_kill), dialplan (the socket closed while
    /// the call was up and the dialplan ran out).
    pub hangup_by: Option<String>,
    pub sched_hangup: Option<(u64, String)>,
    pub transferred_to: Option<String>,
    /// Where a bridged leg was sent by uuid_transfer.
    pub leg_transfers: Vec<String>,
    /// Attended transfers started by uuid_broadcast att_xfer on either leg.
    pub att_xfers: Vec<AttXferRun>,
    /// uuid_broadcast paths other than att_xfer, with their leg argument.
    pub broadcasts: Vec<String>,
    /// record_session and uuid_record start paths, in order.
    pub recordings: Vec<String>,
    /// uuid_record stop paths.
    pub stopped_recordings: Vec<String>,
    /// Each `conference` the call ran, and what became of it.
    pub conferences: Vec<ConferenceRun>,
    /// This call ran `intercept` and took over the ringing call with this UUID.
    pub picked_up: Option<String>,
    /// Why the socket ended: exit, linger expired, no linger, peer closed, no first command.
    pub ended: String,
    pub protocol_errors: Vec<String>,
    /// Channel variables when the socket ended.
    pub variables: Vec<(String, String)>,
    /// Each `rxfax` / `txfax` run: the application, its file, the pages that went across.
    pub faxes: Vec<(String, String, i64)>,
    pub timing: Timing,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Timing {
    /// TCP connected → the first complete command (`connect`) received, in µs.
    pub connect_to_first_command_us: Option<u64>,
    /// Connect reply written → the first sendmsg received, in µs.
    pub channel_data_to_first_app_us: Option<u64>,
    /// TCP connected → socket closed, in µs.
    pub whole_call_us: Option<u64>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct AppRun {
    pub app: String,
    pub arg: String,
    pub response: String,
    pub event_uuid: Option<String>,
    /// Milliseconds after the socket connected.
    pub started_ms: u64,
    pub ended_ms: u64,
}

/// One run of the `conference` application.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ConferenceRun {
    /// The room's name, without profile or PIN.
    pub room: String,
    /// How many times the caller was asked for the PIN.
    pub pin_prompts: u32,
    /// `joined`, `bad pin`, `full`, or `hung up` while asked for the PIN.
    pub outcome: String,
    /// Members in the room once this caller was in (joined only).
    pub members: usize,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct BridgeRun {
    pub dialstring: String,
    /// Each leg dialed and how it ended (SUCCESS for the one that answered).
    pub legs: Vec<(String, String)>,
    pub answered_by: Option<String>,
    pub cause: String,
    /// The caller ID the legs were offered (origination_caller_id_* from the dial string or
    /// effective_caller_id_* from the channel).
    pub caller_id_name: Option<String>,
    pub caller_id_number: Option<String>,
    /// The call that intercepted this one while it rang (cause PICKED_OFF).
    pub picked_by: Option<String>,
    /// When each leg rang, in ms from the start of the bridge (a delayed leg starts late).
    pub rang: Vec<LegTime>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct AttXferRun {
    /// The leg that ran att_xfer.
    pub presser: String,
    pub target: String,
    /// `joined` (the presser hung up and the target now talks to the held party), or the
    /// cause the consultation ended with (the held party is back with the presser).
    pub outcome: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct LegTime {
    pub endpoint: String,
    pub from_ms: u64,
    pub to_ms: u64,
}

pub(crate) enum Outgoing {
    Event(SimEvent),
    /// The socket app's own EXECUTE_COMPLETE has been queued (linger-notice placement).
    SocketComplete,
}

pub(crate) struct CallState {
    pub ch: Channel,
    pub report: CallReport,
    pub dtmf: VecDeque<Dtmf>,
    pub legs: Vec<Channel>,
    pub held: bool,
    /// Reaches the conversation in progress (uuid_kill / uuid_transfer / att_xfer of a leg).
    pub ctl: Option<mpsc::UnboundedSender<super::bridged::LegCtl>>,
    /// Keys still to be pressed in the first conversation.
    pub in_call: VecDeque<super::scenario::Press>,
    /// The call that intercepted this one's ringing bridge, to be bridged once that returns.
    pub intercepted: Option<Arc<Core>>,
}

/// The shared heart of one simulated call.
pub struct Core {
    pub(crate) switch: Switch,
    pub(crate) scenario: Arc<Scenario>,
    pub(crate) st: Mutex<CallState>,
    out: mpsc::UnboundedSender<Outgoing>,
    down: watch::Sender<bool>,
    /// The socket is gone (exit, close, transfer): the park loop ends.
    released: watch::Sender<bool>,
    pub(crate) started: Instant,
    /// `uuid_break`: the media application running now stops.
    pub(crate) brk: tokio::sync::Notify,
}

impl Core {
    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, CallState> {
        self.st.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn uuid(&self) -> String {
        self.lock().ch.uuid.clone()
    }

    pub(crate) fn elapsed_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    pub(crate) fn fire(&self, ev: SimEvent) {
        self.switch.publish(&ev);
        let _ = self.out.send(Outgoing::Event(ev));
    }

    /// Fires an event of the A-leg built under the lock.
    pub(crate) fn fire_a(&self, name: &str, origin: (&str, &str, u32), pre: Vec<(String, String)>, post: Vec<(String, String)>) {
        let ev = {
            let mut st = self.lock();
            let id = self.switch.identity();
            st.ch.event(&id, name, origin, pre, post)
        };
        self.fire(ev);
    }

    pub fn is_down(&self) -> bool {
        *self.down.borrow()
    }

    /// Hangs the A-leg up: CHANNEL_HANGUP (switch_channel_perform_hangup) and then the
    /// listener and the running application notice (mod_event_socket.c:1466).
    pub fn hangup(&self, cause: &str, by: &str) {
        let ev = {
            let mut st = self.lock();
            if !st.ch.is_up() {
                return;
            }
            let now = self.switch.identity().now_micros();
            st.ch.mark_hangup(now, cause);
            if let Some(leg) = st.ch.var("sim_leg") {
                self.switch.leg_down(leg);
            }
            st.report.hangup_cause = Some(cause.to_string());
            st.report.hangup_by = Some(by.to_string());
            let id = self.switch.identity();
            st.ch.event(&id, "CHANNEL_HANGUP", ("switch_channel.c", "switch_channel_perform_hangup", 3447), Vec::new(), Vec::new())
        };
        self.fire(ev);
        self.down.send_replace(true);
    }

    /// Sleeps `ms` unless the channel goes down first; true when the time ran out.
    pub(crate) async fn wait(&self, ms: u64) -> bool {
        let mut down = self.down.subscribe();
        if *down.borrow() {
            return false;
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(ms)) => true,
            _ = async { down.wait_for(|d| *d).await.map(|_| ()) } => false,
        }
    }

    pub(crate) fn down_watch(&self) -> watch::Receiver<bool> {
        self.down.subscribe()
    }

    /// Waits until the channel goes down (park, conference).
    pub(crate) async fn wait_down(&self) {
        let mut down = self.down.subscribe();
        let _ = down.wait_for(|d| *d).await;
    }

    pub(crate) fn release_socket(&self) {
        self.released.send_replace(true);
    }

    pub(crate) fn queue_marker(&self) {
        let _ = self.out.send(Outgoing::SocketComplete);
    }
}

/// Dials `target` like the socket app and plays FreeSWITCH until the socket closes.
pub async fn run_call(switch: Switch, target: std::net::SocketAddr, scenario: Arc<Scenario>) -> CallReport {
    let started = Instant::now();
    let stream = match TcpStream::connect(target).await {
        Ok(s) => s,
        Err(e) => {
            return CallReport { ended: format!("connect failed: {e}"), protocol_errors: vec![e.to_string()], ..CallReport::default() };
        }
    };
    // The socket app sets TCP_NODELAY (mod_event_socket.c:477–480).
    let _ = stream.set_nodelay(true);
    let id = switch.identity();
    let ch = Channel::inbound(&id, &scenario);
    let (out_tx, out_rx) = mpsc::unbounded_channel();
    let (down, _) = watch::channel(false);
    let (released, _) = watch::channel(false);
    let core = Arc::new(Core {
        switch: switch.clone(),
        scenario: scenario.clone(),
        st: Mutex::new(CallState {
            report: CallReport { uuid: ch.uuid.clone(), ..CallReport::default() },
            ch,
            dtmf: scenario.dtmf.iter().cloned().collect(),
            legs: Vec::new(),
            held: false,
            ctl: None,
            in_call: scenario.in_call.iter().cloned().collect(),
            intercepted: None,
        }),
        out: out_tx,
        down,
        released,
        started,
        brk: tokio::sync::Notify::new(),
    });
    switch.register(&core);
    // The channel was created before the dialplan reached `socket`: listeners on the inbound
    // face saw CHANNEL_CREATE then (switch_core_state_machine.c:580); the socket never does.
    let create = {
        let mut st = core.lock();
        st.ch.event(&id, "CHANNEL_CREATE", ("switch_core_state_machine.c", "switch_core_session_run", 580), Vec::new(), Vec::new())
    };
    switch.publish(&create);
    if let Some(ms) = scenario.hangup_after_ms {
        let c = core.clone();
        // The caller hangs up when they do, whatever became of the socket (a call still
        // bridged after switchboard went away included).
        tokio::spawn(async move {
            let mut down = c.down.subscribe();
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(ms)) => c.hangup("NORMAL_CLEARING", "caller"),
                _ = async { down.wait_for(|d| *d).await.map(|_| ()) } => {}
            }
        });
    }
    if !scenario.keys.is_empty() {
        let c = core.clone();
        // Keys pressed whatever is running (music, a bridge ringing): a DTMF event each.
        tokio::spawn(async move {
            let mut at = 0;
            for k in &c.scenario.keys {
                if !c.wait(k.after_ms.saturating_sub(at)).await {
                    return;
                }
                at = k.after_ms;
                for d in k.digits.chars() {
                    c.fire_a("DTMF", ("switch_channel.c", "switch_channel_queue_dtmf", 678), Vec::new(), crate::sim::bridged::dtmf_headers(d));
                }
            }
        });
    }
    let (queue_tx, queue_rx) = mpsc::unbounded_channel();
    let session = if scenario.async_mode { Some(tokio::spawn(session_loop(core.clone(), queue_rx))) } else { None };
    listener_run(core.clone(), stream, out_rx, queue_tx).await;
    core.release_socket();
    if let Some(s) = session {
        let _ = s.await;
    }
    // The socket is gone with the call still up: the dialplan has nothing after `socket`,
    // so the channel hangs up.
    if !core.is_down() && core.lock().report.transferred_to.is_none() {
        core.hangup("NORMAL_CLEARING", "dialplan");
    }
    switch.unregister(&core.uuid());
    let mut st = core.lock();
    st.report.answered = st.ch.is_answered();
    st.report.variables = st.ch.variables();
    st.report.timing.whole_call_us = Some(started.elapsed().as_micros() as u64);
    st.report.clone()
}

pub(crate) fn socket_data(s: &Scenario) -> String {
    format!("127.0.0.1:8084{}{}", if s.async_mode { " async" } else { "" }, if s.full { " full" } else { "" })
}

impl Core {
    /// A sendmsg aimed at this call from another connection.
    pub(crate) async fn apply_sendmsg(self: &Arc<Core>, cmd: &RawCommand) {
        match cmd.header("call-command").map(|c| c.to_ascii_lowercase()).as_deref() {
            Some("hangup") => self.hangup(cmd.header("hangup-cause").unwrap_or("NORMAL_CLEARING"), "switchboard"),
            Some("execute") => {
                let app = cmd.header("execute-app-name").unwrap_or("").to_string();
                let arg = cmd.header("execute-app-arg").unwrap_or("").to_string();
                let uuid = cmd.header("Event-UUID").map(str::to_string);
                let c = self.clone();
                tokio::spawn(async move { apps::execute(&c, &app, &arg, uuid.as_deref()).await });
            }
            _ => {}
        }
    }
}
