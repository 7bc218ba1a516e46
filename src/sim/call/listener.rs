//! The listener task (listener_run, mod_event_socket.c:2640–2866): reads commands, writes
//! replies and the events the socket subscribed to and lets through its filters.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::codec::Decoder;

use crate::esl::command::EventFormat;
use crate::esl::switch_side::{self, CommandReader};
use crate::sim::event::SimEvent;
use crate::sim::scenario::LingerNotice;

use super::commands::{handle_command, Action};
use super::session::QueuedApp;
use super::*;

/// The listener's view: subscriptions, filters, linger.
pub(super) struct Listener {
    pub(super) myevents: bool,
    pub(super) all: bool,
    pub(super) names: HashSet<String>,
    pub(super) format: EventFormat,
    pub(super) filters: Vec<(String, String)>,
    pub(super) linger: Option<i64>,
    pub(super) uuid: String,
    /// A linger notice waiting for the socket app's completion (AfterSocketComplete).
    pub(super) notice_due: Option<BytesMut>,
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

pub(super) async fn listener_run(
    core: Arc<Core>,
    stream: TcpStream,
    mut out_rx: mpsc::UnboundedReceiver<Outgoing>,
    queue: mpsc::UnboundedSender<QueuedApp>,
) {
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
