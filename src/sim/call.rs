//! One simulated call handed to an outbound socket, as mod_event_socket runs it.
//!
//! Two tasks, like FreeSWITCH's two threads: the *listener* (listener_run,
//! mod_event_socket.c:2640–2866) reads commands and writes replies and events; the *session*
//! (the channel thread parked by the socket app, 542) runs queued applications one at a
//! time. In static mode there is no session task: the listener runs each application
//! inline, so nothing else is written until it returns (§5.3 of docs/esl-protocol.md).

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_util::codec::Decoder;

use super::apps;
use super::channel::Channel;
use super::event::SimEvent;
use super::scenario::{Dtmf, LingerNotice, Scenario};
use super::Switch;
use crate::esl::command::EventFormat;
use crate::esl::switch_side::{self, CommandReader, RawCommand};

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

/// A queued sendmsg execute.
struct QueuedApp {
    app: String,
    arg: String,
    event_uuid: Option<String>,
}

/// The listener's view: subscriptions, filters, linger.
struct Listener {
    myevents: bool,
    all: bool,
    names: HashSet<String>,
    format: EventFormat,
    filters: Vec<(String, String)>,
    linger: Option<i64>,
    uuid: String,
    /// A linger notice waiting for the socket app's completion (AfterSocketComplete).
    notice_due: Option<BytesMut>,
}

impl Listener {
    /// event_handler (mod_event_socket.c:322–383): subscription, then the myevents UUID
    /// filter, then the header filters (OR'ed; `-value` drops on a match; `/re/` is a regex).
    fn wants(&self, ev: &SimEvent) -> bool {
        if !(self.all || self.names.contains(&ev.name)) {
            return false;
        }
        if self.myevents && ev.unique_id() != Some(&self.uuid) && ev.get("Job-Owner-UUID") != Some(&self.uuid) {
            return false;
        }
        filters_pass(&self.filters, ev)
    }

    fn events_on(&self) -> bool {
        self.all || !self.names.is_empty()
    }
}

pub(crate) fn filters_pass(filters: &[(String, String)], ev: &SimEvent) -> bool {
    if filters.is_empty() {
        return true;
    }
    let mut pass = false;
    for (h, v) in filters {
        let Some(have) = ev.get(h) else { continue };
        let (negative, want) = match v.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, v.as_str()),
        };
        let hit = match want.strip_prefix('/') {
            Some(re) => regex::Regex::new(re.trim_end_matches('/')).map(|r| r.is_match(have)).unwrap_or(false),
            None => have.eq_ignore_ascii_case(want),
        };
        if hit && negative {
            return false;
        }
        if hit {
            pass = true;
        }
    }
    pass
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

/// The parked session thread: runs queued applications in order until the channel goes
/// down or the socket lets go, then the socket app returns.
async fn session_loop(core: Arc<Core>, mut queue: mpsc::UnboundedReceiver<QueuedApp>) {
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

pub(crate) fn socket_data(s: &Scenario) -> String {
    format!("127.0.0.1:8084{}{}", if s.async_mode { " async" } else { "" }, if s.full { " full" } else { "" })
}

async fn listener_run(core: Arc<Core>, stream: TcpStream, mut out_rx: mpsc::UnboundedReceiver<Outgoing>, queue: mpsc::UnboundedSender<QueuedApp>) {
    let scenario = core.scenario.clone();
    let (mut rd, mut wr) = stream.into_split();
    let mut reader = CommandReader::default();
    let mut inbuf = BytesMut::with_capacity(4096);
    let mut out = BytesMut::with_capacity(16 * 1024);
    let mut pending: VecDeque<Outgoing> = VecDeque::new();
    let mut l = Listener {
        myevents: false,
        all: false,
        names: HashSet::new(),
        format: EventFormat::Plain,
        filters: Vec::new(),
        linger: None,
        uuid: core.uuid(),
        notice_due: None,
    };
    let mut down_rx = core.down.subscribe();
    let mut released_rx = core.released.subscribe();
    let mut connected = false;
    let mut noticed_down = false;
    let mut linger_deadline: Option<Instant> = None;
    let first_deadline = core.started + Duration::from_millis(scenario.first_command_timeout_ms);
    let mut connect_reply_at: Option<Instant> = None;
    let ended: String;
    'run: loop {
        // Commands first, one at a time, in order (mod_event_socket.c:2756–2791).
        loop {
            let cmd = match reader.decode(&mut inbuf) {
                Ok(Some(c)) => c,
                Ok(None) => break,
                Err(e) => {
                    core.lock().report.protocol_errors.push(e.to_string());
                    ended = format!("bad command: {e}");
                    break 'run;
                }
            };
            let first = !connected;
            if first {
                core.lock().report.timing.connect_to_first_command_us = Some(core.started.elapsed().as_micros() as u64);
            }
            {
                let mut st = core.lock();
                let line = if cmd.line.to_ascii_lowercase().starts_with("auth") { "auth <redacted>".to_string() } else { cmd.line.clone() };
                st.report.commands.push(line);
                if cmd.line.starts_with("sendmsg") && st.report.timing.channel_data_to_first_app_us.is_none() {
                    if let Some(at) = connect_reply_at {
                        st.report.timing.channel_data_to_first_app_us = Some(at.elapsed().as_micros() as u64);
                    }
                }
            }
            let mut reply = BytesMut::new();
            let action = handle_command(&core, &mut l, &cmd, &queue, &mut reply).await;
            if first && !cmd.line.to_ascii_lowercase().starts_with("connect") {
                // The first command's reply is never written: only connect writes its own
                // (mod_event_socket.c:2709–2725).
                reply.clear();
            }
            connected = true;
            if cmd.line.to_ascii_lowercase().starts_with("connect") {
                connect_reply_at = Some(Instant::now());
            }
            out.extend_from_slice(&reply);
            if let Action::Exit = action {
                flush_events(&mut l, &mut pending, &mut out_rx, &mut out);
                switch_side::disconnect_notice(Some(&l.uuid), &mut out);
                let _ = wr.write_all(&out).await;
                ended = "exit".into();
                break 'run;
            }
        }
        // Events are written only while no partial command is buffered (1375).
        if connected && !reader.is_mid_command(&inbuf) {
            if core.is_down() && !noticed_down {
                noticed_down = true;
                match l.linger {
                    None => {
                        // flush_listener drops what is queued; only a CHANNEL_HANGUP already
                        // on its way gets out (docs/esl-protocol.md §11.6).
                        while let Ok(o) = out_rx.try_recv() {
                            pending.push_back(o);
                        }
                        if scenario.full || scenario.async_mode {
                            for o in pending.drain(..) {
                                if let Outgoing::Event(ev) = o {
                                    if ev.name == "CHANNEL_HANGUP" && ev.unique_id() == Some(&l.uuid) && l.events_on() && l.wants(&ev) {
                                        ev.frame(l.format, &mut out);
                                    }
                                }
                            }
                        }
                        pending.clear();
                        switch_side::disconnect_notice(Some(&l.uuid), &mut out);
                        let _ = wr.write_all(&out).await;
                        ended = "no linger".into();
                        break 'run;
                    }
                    Some(secs) => {
                        let ch_name = core.lock().ch.name.clone();
                        let mut notice = BytesMut::new();
                        switch_side::linger_notice(&l.uuid, &ch_name, secs, &mut notice);
                        match scenario.linger_notice {
                            LingerNotice::BeforeHangup => out.extend_from_slice(&notice),
                            LingerNotice::AfterHangup => {
                                while let Ok(o) = out_rx.try_recv() {
                                    pending.push_back(o);
                                }
                                write_pending(&mut l, &mut pending, &mut out);
                                out.extend_from_slice(&notice);
                            }
                            // Static mode has no parked session to complete the socket app.
                            LingerNotice::AfterSocketComplete if scenario.async_mode => l.notice_due = Some(notice),
                            LingerNotice::AfterSocketComplete => out.extend_from_slice(&notice),
                        }
                        if secs >= 0 {
                            linger_deadline = Some(Instant::now() + Duration::from_secs(secs as u64));
                        }
                    }
                }
            }
            flush_events(&mut l, &mut pending, &mut out_rx, &mut out);
        }
        if !out.is_empty() {
            if wr.write_all(&out).await.is_err() {
                ended = "peer closed".into();
                break 'run;
            }
            out.clear();
        }
        if *released_rx.borrow() && core.lock().report.transferred_to.is_some() {
            // Transferred away: the socket app returned and the listener ends (CF_CONTROLLED
            // cleared, mod_event_socket.c:2846).
            flush_events(&mut l, &mut pending, &mut out_rx, &mut out);
            switch_side::disconnect_notice(Some(&l.uuid), &mut out);
            let _ = wr.write_all(&out).await;
            ended = "transferred".into();
            break 'run;
        }
        let linger_sleep = async {
            match linger_deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        let first_sleep = async {
            if connected {
                std::future::pending::<()>().await
            } else {
                tokio::time::sleep_until(first_deadline).await
            }
        };
        tokio::select! {
            r = rd.read_buf(&mut inbuf) => match r {
                Ok(0) | Err(_) => { ended = "peer closed".into(); break 'run; }
                Ok(_) => {}
            },
            o = out_rx.recv() => if let Some(o) = o { pending.push_back(o) },
            _ = down_rx.changed() => {},
            _ = released_rx.changed() => {},
            _ = linger_sleep => {
                flush_events(&mut l, &mut pending, &mut out_rx, &mut out);
                switch_side::disconnect_notice(Some(&l.uuid), &mut out);
                let _ = wr.write_all(&out).await;
                ended = "linger expired".into();
                break 'run;
            }
            _ = first_sleep => {
                // "Socket Error!" and the socket closes (mod_event_socket.c:2712).
                ended = "no first command".into();
                break 'run;
            }
        }
    }
    let _ = wr.shutdown().await;
    core.lock().report.ended = ended;
}

fn flush_events(l: &mut Listener, pending: &mut VecDeque<Outgoing>, rx: &mut mpsc::UnboundedReceiver<Outgoing>, out: &mut BytesMut) {
    while let Ok(o) = rx.try_recv() {
        pending.push_back(o);
    }
    write_pending(l, pending, out);
}

fn write_pending(l: &mut Listener, pending: &mut VecDeque<Outgoing>, out: &mut BytesMut) {
    for o in pending.drain(..) {
        match o {
            Outgoing::Event(ev) => {
                if l.events_on() && l.wants(&ev) {
                    ev.frame(l.format, out);
                }
            }
            Outgoing::SocketComplete => {
                if let Some(notice) = l.notice_due.take() {
                    out.extend_from_slice(&notice);
                }
            }
        }
    }
}

enum Action {
    Continue,
    Exit,
}

/// parse_command (mod_event_socket.c:1700–2630), for an outbound listener.
async fn handle_command(
    core: &Arc<Core>,
    l: &mut Listener,
    cmd: &RawCommand,
    queue: &mpsc::UnboundedSender<QueuedApp>,
    out: &mut BytesMut,
) -> Action {
    let line = cmd.line.trim();
    let lower = line.to_ascii_lowercase();
    let arg = line.split_once(' ').map(|(_, a)| a.trim()).unwrap_or("");
    let reply = |out: &mut BytesMut, t: &str| switch_side::command_reply(t, out);
    if lower.starts_with("exit") || lower.starts_with("...") {
        reply(out, "+OK bye");
        return Action::Exit;
    }
    if lower.starts_with("connect") {
        let ev = {
            let mut st = core.lock();
            let id = core.switch.identity();
            st.ch.connect_reply(&id, core.scenario.async_mode, core.scenario.full)
        };
        // The connect reply is the serialized event used as a header block, with no
        // Content-Length: the plain encoding minus the event envelope.
        let mut body = BytesMut::new();
        ev.frame(EventFormat::Plain, &mut body);
        let header_end = memchr::memmem::find(&body, b"\n\n").map(|p| p + 2).unwrap_or(0);
        out.extend_from_slice(&body[header_end..]);
        return Action::Continue;
    }
    if lower.starts_with("getvar") {
        let v = core.lock().ch.var(arg).map(str::to_string).unwrap_or_default();
        // An unset or empty variable reads as -ERR command not found (2621–2623).
        reply(out, if v.is_empty() { "-ERR command not found" } else { &v });
        return Action::Continue;
    }
    if lower.starts_with("myevents") {
        if l.myevents {
            reply(out, "-ERR aready enabled.");
        } else {
            l.myevents = true;
            l.names.extend(crate::esl::outbound::MYEVENTS.iter().map(|s| s.to_string()));
            if lower.contains("json") {
                l.format = EventFormat::Json;
            } else if lower.contains("xml") {
                l.format = EventFormat::Xml;
            }
            reply(out, "+OK Events Enabled");
        }
        return Action::Continue;
    }
    if lower.starts_with("divert_events") {
        reply(out, if arg.eq_ignore_ascii_case("on") { "+OK events diverted" } else { "+OK events not diverted" });
        return Action::Continue;
    }
    if lower.starts_with("filter") {
        reply(out, &apply_filter(&mut l.filters, arg));
        return Action::Continue;
    }
    if lower.starts_with("sendmsg") {
        handle_sendmsg(core, l, cmd, arg, queue, out).await;
        return Action::Continue;
    }
    if lower.starts_with("resume") {
        core.lock().ch.set_var("socket_resume", "true");
        reply(out, "+OK");
        return Action::Continue;
    }
    if !core.scenario.full {
        // Everything below needs `full` (mod_event_socket.c:2236–2238).
        reply(out, "-ERR command not found");
        return Action::Continue;
    }
    if lower.starts_with("api ") {
        let body = core.switch.api(arg, Some(&l.uuid)).await;
        switch_side::api_response(&body, out);
        return Action::Continue;
    }
    if lower.starts_with("bgapi ") {
        let job = cmd.header("Job-UUID").map(str::to_string).unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        switch_side::bgapi_reply(&job, out);
        let (c, a, owner) = (core.clone(), arg.to_string(), l.uuid.clone());
        tokio::spawn(async move {
            let result = c.switch.api(&a, Some(&owner)).await;
            let ev = c.switch.background_job(&job, &owner, &a, &result);
            c.fire(ev);
        });
        return Action::Continue;
    }
    if lower.starts_with("linger") {
        let secs = arg.parse::<i64>().ok().filter(|s| *s > 0);
        l.linger = Some(secs.unwrap_or(-1));
        match secs {
            Some(s) => reply(out, &format!("+OK will linger {s} seconds")),
            None => reply(out, "+OK will linger"),
        }
        return Action::Continue;
    }
    if lower.starts_with("nolinger") {
        l.linger = None;
        reply(out, "+OK will not linger");
        return Action::Continue;
    }
    if lower.starts_with("nixevent") {
        for n in arg.split_whitespace() {
            l.names.remove(n);
        }
        reply(out, "+OK events nixed");
        return Action::Continue;
    }
    if lower.starts_with("noevents") {
        l.names.clear();
        l.all = false;
        l.myevents = false;
        reply(out, "+OK no longer listening for events");
        return Action::Continue;
    }
    if lower.starts_with("event") {
        let mut words = arg.split_whitespace().peekable();
        match words.peek().map(|w| w.to_ascii_lowercase()) {
            Some(w) if w == "plain" => {
                l.format = EventFormat::Plain;
                words.next();
            }
            Some(w) if w == "json" => {
                l.format = EventFormat::Json;
                words.next();
            }
            Some(w) if w == "xml" => {
                l.format = EventFormat::Xml;
                words.next();
            }
            _ => {}
        }
        let mut any = false;
        for w in words {
            any = true;
            if w.eq_ignore_ascii_case("ALL") {
                l.all = true;
            } else {
                l.names.insert(w.to_string());
            }
        }
        if any {
            reply(out, &format!("+OK event listener enabled {}", l.format.as_str()));
        } else {
            reply(out, "-ERR no keywords supplied");
        }
        return Action::Continue;
    }
    if lower.starts_with("log") {
        reply(out, &format!("+OK log level {} [7]", if arg.is_empty() { "debug" } else { arg }));
        return Action::Continue;
    }
    if lower.starts_with("nolog") {
        reply(out, "+OK no longer logging");
        return Action::Continue;
    }
    reply(out, "-ERR command not found");
    Action::Continue
}

pub(crate) fn apply_filter(filters: &mut Vec<(String, String)>, arg: &str) -> String {
    let mut parts = arg.splitn(2, ' ');
    let first = parts.next().unwrap_or("");
    let rest = parts.next().unwrap_or("").trim();
    if first.eq_ignore_ascii_case("delete") {
        let mut p = rest.splitn(2, ' ');
        let h = p.next().unwrap_or("");
        let v = p.next().map(str::trim);
        if h.eq_ignore_ascii_case("all") {
            filters.clear();
        } else {
            filters.retain(|(fh, fv)| !(fh.eq_ignore_ascii_case(h) && v.is_none_or(|v| v == fv)));
        }
        return format!("+OK filter deleted. [{h}]{}", v.map(|v| format!("[{v}]")).unwrap_or_default());
    }
    if first.is_empty() || rest.is_empty() {
        return "-ERR invalid syntax".into();
    }
    filters.push((first.to_string(), rest.to_string()));
    format!("+OK filter added. [{first}]=[{rest}]")
}

async fn handle_sendmsg(core: &Arc<Core>, l: &Listener, cmd: &RawCommand, arg: &str, queue: &mpsc::UnboundedSender<QueuedApp>, out: &mut BytesMut) {
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
