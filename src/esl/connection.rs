//! One ESL connection as a client sees it, inbound or outbound: a reader task that never stops
//! draining the socket, and callers that send one command at a time.
//!
//! FreeSWITCH answers commands strictly in order with no correlation id (mod_event_socket.c
//! 2756–2791), interleaving events and notices, so replies are matched FIFO and everything
//! else is dispatched as it comes: CHANNEL_EXECUTE_COMPLETE to the waiter whose Event-UUID it
//! echoes as Application-UUID (never by application name: shimaore/esl#35), BACKGROUND_JOB to
//! the waiter of its Job-UUID, and the rest to whoever subscribed. A slow caller never stops
//! the reader: FreeSWITCH kills a listener whose queue overflows (mod_event_socket.c:386–405).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::codec::FramedRead;

use super::codec::{CodecError, EslCodec, FrameReader};
use super::command::{Command, CommandError};
use super::event::Event;
use super::frame::{ContentType, Frame};

#[derive(Debug, Clone, thiserror::Error)]
pub enum EslError {
    #[error("the channel hung up{}", cause.as_deref().map(|c| format!(" ({c})")).unwrap_or_default())]
    Hangup { cause: Option<String> },
    #[error("the event socket closed: {reason}")]
    Closed { reason: String },
    #[error("{what} timed out after {after:?}")]
    Timeout { what: &'static str, after: Duration },
    #[error(
        "FreeSWITCH handed this call over without `full` control (Control: {control}); switchboard needs it to linger, \
         subscribe and run api commands. Fix the dialplan: <action application=\"socket\" data=\"127.0.0.1:8084 async full\"/>"
    )]
    NotFull { control: String },
    #[error("`{command}` was refused: {reply}")]
    Rejected { command: String, reply: String },
    #[error(transparent)]
    Command(#[from] CommandError),
    #[error("protocol: {0}")]
    Protocol(String),
}

impl EslError {
    pub fn is_hangup(&self) -> bool {
        matches!(self, EslError::Hangup { .. } | EslError::Closed { .. })
    }
}

/// What is known about the far end, published to waiters.
#[derive(Debug, Clone, Default)]
pub struct Status {
    /// The controlled channel went down: CHANNEL_HANGUP for its Unique-ID, or a linger notice.
    pub hangup: Option<Option<String>>,
    /// CHANNEL_HANGUP_COMPLETE of the controlled channel arrived (it carries billsec).
    pub hangup_complete: Option<Event>,
    /// The socket is gone (final disconnect notice, EOF or a protocol error) and why.
    pub closed: Option<String>,
    /// The controlled channel was answered (CHANNEL_ANSWER for its Unique-ID): when it did,
    /// as this process saw it.
    pub answered: Option<std::time::Instant>,
}

type Waiter<T> = oneshot::Sender<Result<T, EslError>>;

#[derive(Default)]
struct State {
    replies: VecDeque<oneshot::Sender<Frame>>,
    /// Replies to commands sent with [`Connection::send_all_unanswered`], to be checked by
    /// the next command sent, with each command as it may be shown.
    unchecked: Vec<(oneshot::Receiver<Frame>, String)>,
    executes: HashMap<String, Waiter<Event>>,
    jobs: HashMap<String, Waiter<Event>>,
    events: Option<mpsc::UnboundedSender<Box<Event>>>,
    session_uuid: Option<String>,
    down: Option<Option<String>>,
    closed: Option<String>,
}

struct Shared {
    state: Mutex<State>,
    status: watch::Sender<Status>,
    /// How long a command may wait for its reply, in ms (0: for ever). A peer that stops
    /// answering would otherwise hold the call, and its slot, with it.
    reply_timeout_ms: std::sync::atomic::AtomicU64,
    /// When a frame was last read, in ms after `born`.
    heard_ms: std::sync::atomic::AtomicU64,
    born: std::time::Instant,
    /// When the first `sendmsg execute` was written: an outbound call's first application.
    first_execute: std::sync::OnceLock<std::time::Instant>,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave it half-updated in a way that matters:
        // every update is a single insert/remove. Recover instead of poisoning every call.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The channel is down: every execute waiter ends now with Hangup.
    fn channel_down(&self, cause: Option<String>) {
        let waiters: Vec<_> = {
            let mut st = self.lock();
            if st.down.is_some() {
                if cause.is_some() && st.down == Some(None) {
                    st.down = Some(cause.clone());
                    self.status.send_modify(|s| s.hangup = Some(cause));
                }
                return;
            }
            st.down = Some(cause.clone());
            st.executes.drain().map(|(_, w)| w).collect()
        };
        for w in waiters {
            let _ = w.send(Err(EslError::Hangup { cause: cause.clone() }));
        }
        self.status.send_modify(|s| s.hangup = Some(cause));
    }

    /// The socket is gone: every waiter of any kind ends now.
    fn close(&self, reason: String) {
        let (replies, executes, jobs, down) = {
            let mut st = self.lock();
            if st.closed.is_some() {
                return;
            }
            st.closed = Some(reason.clone());
            st.events = None;
            (std::mem::take(&mut st.replies), std::mem::take(&mut st.executes), std::mem::take(&mut st.jobs), st.down.clone())
        };
        drop(replies);
        let err = match down {
            Some(cause) => EslError::Hangup { cause },
            None => EslError::Closed { reason: reason.clone() },
        };
        for (_, w) in executes {
            let _ = w.send(Err(err.clone()));
        }
        for (_, w) in jobs {
            let _ = w.send(Err(EslError::Closed { reason: reason.clone() }));
        }
        self.status.send_modify(|s| s.closed = Some(reason));
    }

    fn dispatch(&self, frame: Frame) {
        match frame.content_type {
            ContentType::CommandReply | ContentType::ApiResponse => {
                let waiter = self.lock().replies.pop_front();
                match waiter {
                    Some(w) => {
                        let _ = w.send(frame);
                    }
                    None => {
                        tracing::warn!(content_type = %frame.content_type, "reply with no command waiting for it")
                    }
                }
            }
            ct if ct.is_event() => match Event::from_frame(&frame) {
                Ok(Some(ev)) => self.dispatch_event(ev),
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(offset = frame.offset, error = %e, "unreadable event body skipped")
                }
            },
            ContentType::DisconnectNotice => {
                let disposition = frame.headers.get_str("Content-Disposition").map(|s| s.into_owned());
                if disposition.as_deref() == Some("linger") {
                    // The channel is down; events keep coming until exit or the linger time
                    // (mod_event_socket.c:1466–1504). Never stop reading on this notice.
                    if self.lock().session_uuid.is_some() {
                        self.channel_down(None);
                    }
                } else {
                    let text = frame.body_str().map(|s| s.trim().to_string()).unwrap_or_default();
                    self.close(format!("disconnect notice: {}", if text.is_empty() { "no text" } else { &text }));
                }
            }
            ContentType::RudeRejection => self.close(format!("rejected by FreeSWITCH: {}", frame.body_str().unwrap_or_default().trim())),
            ContentType::AuthRequest | ContentType::LogData => {}
            _ => {}
        }
    }

    fn dispatch_event(&self, ev: Event) {
        let mut hangup: Option<Option<String>> = None;
        let mut complete = false;
        let answered;
        let (exec, job, sink) = {
            let mut st = self.lock();
            let own = |st: &State| match (&st.session_uuid, ev.unique_id()) {
                (Some(s), Some(u)) => *s == *u,
                _ => false,
            };
            let exec = if ev.is("CHANNEL_EXECUTE_COMPLETE") { ev.application_uuid().and_then(|u| st.executes.remove(&*u)) } else { None };
            let job = if ev.is("BACKGROUND_JOB") { ev.job_uuid().and_then(|u| st.jobs.remove(&*u)) } else { None };
            if ev.is("CHANNEL_HANGUP") && own(&st) {
                hangup = Some(ev.hangup_cause().map(|c| c.into_owned()));
            }
            answered = ev.is("CHANNEL_ANSWER") && own(&st);
            if ev.is("CHANNEL_HANGUP_COMPLETE") && own(&st) {
                complete = true;
                if st.down.is_none() {
                    hangup = Some(ev.hangup_cause().map(|c| c.into_owned()));
                }
            }
            (exec, job, st.events.clone())
        };
        if let Some(w) = exec {
            let _ = w.send(Ok(ev.clone()));
        }
        if let Some(w) = job {
            let _ = w.send(Ok(ev.clone()));
        }
        if answered {
            self.status.send_if_modified(|s| s.answered.is_none() && s.answered.replace(std::time::Instant::now()).is_none());
        }
        if let Some(cause) = hangup {
            self.channel_down(cause);
        }
        if complete {
            let ev = ev.clone();
            self.status.send_modify(|s| s.hangup_complete = Some(ev));
        }
        if let Some(tx) = sink {
            let _ = tx.send(Box::new(ev));
        }
    }
}

/// A connection's events, in the order they came. Each travels boxed: the channel keeps its
/// slots in blocks of 32 allocated whole, the first with the channel, so a held call would
/// keep 32 whole events' room (3 KiB) for the few it has long since read; boxed, 32 pointers.
pub struct Events(mpsc::UnboundedReceiver<Box<Event>>);

impl Events {
    pub(crate) fn channel() -> (mpsc::UnboundedSender<Box<Event>>, Events) {
        let (tx, rx) = mpsc::unbounded_channel();
        (tx, Events(rx))
    }

    /// The next event; None once the connection is gone and every event has been read.
    pub async fn recv(&mut self) -> Option<Event> {
        self.0.recv().await.map(|ev| *ev)
    }

    /// The next event if one is waiting.
    pub fn try_recv(&mut self) -> Result<Event, mpsc::error::TryRecvError> {
        self.0.try_recv().map(|ev| *ev)
    }

    /// The next event, blocking the thread (for a reader on a thread of its own).
    pub fn blocking_recv(&mut self) -> Option<Event> {
        self.0.blocking_recv().map(|ev| *ev)
    }
}

/// The writing half plus the shared dispatch state. Cloning shares the connection.
#[derive(Clone)]
pub struct Connection {
    shared: Arc<Shared>,
    writer: Arc<tokio::sync::Mutex<Box<dyn AsyncWrite + Send + Unpin>>>,
    status: watch::Receiver<Status>,
    /// Events buffered from the first frame on, until someone subscribes.
    early: Arc<Mutex<Option<Events>>>,
}

impl Connection {
    /// Starts the reader task over `reader` (already past any handshake). `session_uuid` is
    /// the controlled channel of an outbound socket: its hangup ends every execute waiter.
    pub fn start<R, W>(reader: FramedRead<R, EslCodec>, writer: W, session_uuid: Option<String>) -> Connection
    where
        R: AsyncRead + Send + Unpin + 'static,
        W: AsyncWrite + Send + Unpin + 'static,
    {
        let (status_tx, status) = watch::channel(Status::default());
        let mut state = State { session_uuid, ..State::default() };
        let early = if state.session_uuid.is_some() {
            let (tx, rx) = Events::channel();
            state.events = Some(tx);
            Some(rx)
        } else {
            None
        };
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            status: status_tx,
            reply_timeout_ms: Default::default(),
            heard_ms: Default::default(),
            born: std::time::Instant::now(),
            first_execute: std::sync::OnceLock::new(),
        });
        let task_shared = shared.clone();
        tokio::spawn(read_loop(reader, task_shared));
        Connection { shared, writer: Arc::new(tokio::sync::Mutex::new(Box::new(writer))), status, early: Arc::new(Mutex::new(early)) }
    }

    /// Sends a command and waits for its reply. The reply waiter is queued and the command
    /// written under the writer lock, so replies match commands in order; the lock is let go
    /// before the wait, so a command never waits on another's reply (an api call made while
    /// a bridge's sendmsg is still unanswered must not stall behind it). FreeSWITCH reads one
    /// command at a time and answers in order (mod_event_socket.c read_packet). Commands
    /// sent unanswered before it are checked first (see [`send_all_unanswered`](Self::send_all_unanswered)).
    pub async fn send(&self, cmd: &Command) -> Result<Frame, EslError> {
        let rx = self.write_all_commands(std::slice::from_ref(cmd)).await?.pop().expect("one waiter per command");
        let wait = async {
            self.check_unanswered().await?;
            rx.await.map_err(|_| self.closed_error())
        };
        match self.reply_timeout() {
            None => wait.await,
            Some(after) => match tokio::time::timeout(after, wait).await {
                Ok(r) => r,
                Err(_) => {
                    // Replies come in order: once one is missing, none after it can be
                    // matched. The connection is no use any more.
                    self.close(format!("no reply to `{}` within {after:?}", cmd.redacted()));
                    Err(EslError::Timeout { what: "a command reply", after })
                }
            },
        }
    }

    /// Bounds every later command's wait for its reply (see [`send`](Self::send)).
    pub fn set_reply_timeout(&self, after: Duration) {
        self.shared.reply_timeout_ms.store(after.as_millis().max(1) as u64, std::sync::atomic::Ordering::Relaxed);
    }

    fn reply_timeout(&self) -> Option<Duration> {
        match self.shared.reply_timeout_ms.load(std::sync::atomic::Ordering::Relaxed) {
            0 => None,
            ms => Some(Duration::from_millis(ms)),
        }
    }

    /// How long since the peer last sent anything.
    pub fn heard_ago(&self) -> Duration {
        let at = Duration::from_millis(self.shared.heard_ms.load(std::sync::atomic::Ordering::Relaxed));
        self.shared.born.elapsed().saturating_sub(at)
    }

    /// Gives the connection up: every waiter ends, the reader stops and the writing side
    /// is shut (the socket itself goes with the last clone of this connection).
    pub fn close(&self, reason: impl Into<String>) {
        self.shared.close(reason.into());
        // Tell the peer too (FIN), without waiting: a write stuck on a peer that reads
        // nothing holds the writer, and then the socket goes when the call lets go of it.
        let w = self.writer.clone();
        tokio::spawn(async move {
            let _ = w.lock().await.shutdown().await;
        });
    }

    /// Sends several commands in one write and returns without waiting for their replies:
    /// the next command sent goes out right behind them, and before its own reply is handed
    /// back their replies (which come first: FIFO) are checked, a `-ERR` among them failing
    /// it with [`EslError::Rejected`]. An outbound session's setup goes this way, so its
    /// first application leaves one round trip sooner. FreeSWITCH reads commands a byte at a
    /// time and runs each before reading the next (mod_event_socket.c:1240–1262, 2756–2791),
    /// so a subscription or filter sent first is in force before anything sent after it runs.
    pub async fn send_all_unanswered(&self, cmds: &[Command]) -> Result<(), EslError> {
        let rxs = self.write_all_commands(cmds).await?;
        self.shared.lock().unchecked.extend(rxs.into_iter().zip(cmds.iter().map(Command::redacted)));
        Ok(())
    }

    /// Writes `cmds` in one write under the writer lock, with a reply waiter queued for each.
    async fn write_all_commands(&self, cmds: &[Command]) -> Result<Vec<oneshot::Receiver<Frame>>, EslError> {
        let mut wire = String::new();
        for c in cmds {
            wire.push_str(&c.to_wire()?);
        }
        let mut w = self.writer.lock().await;
        let rxs = {
            let mut st = self.shared.lock();
            if let Some(reason) = &st.closed {
                return Err(EslError::Closed { reason: reason.clone() });
            }
            cmds.iter()
                .map(|_| {
                    let (tx, rx) = oneshot::channel();
                    st.replies.push_back(tx);
                    rx
                })
                .collect::<Vec<_>>()
        };
        // FreeSWITCH stops writing events while half a command is buffered
        // (mod_event_socket.c:1375): always write a whole command in one go.
        if let Err(e) = w.write_all(wire.as_bytes()).await {
            self.shared.close(format!("write failed: {e}"));
        }
        let _ = w.flush().await;
        if cmds.iter().any(|c| matches!(c, Command::SendMsg { msg: super::command::SendMsg::Execute { .. }, .. })) {
            self.shared.first_execute.get_or_init(std::time::Instant::now);
        }
        Ok(rxs)
    }

    /// When the first application was sent (`sendmsg` with `execute`), if one was.
    pub fn first_execute_at(&self) -> Option<std::time::Instant> {
        self.shared.first_execute.get().copied()
    }

    /// Waits for the replies to commands sent unanswered, if any are left to check.
    async fn check_unanswered(&self) -> Result<(), EslError> {
        let unchecked = std::mem::take(&mut self.shared.lock().unchecked);
        for (rx, command) in unchecked {
            let frame = rx.await.map_err(|_| self.closed_error())?;
            if frame.content_type == ContentType::CommandReply && !frame.is_ok() {
                return Err(EslError::Rejected { command, reply: frame.reply_text().unwrap_or_default().into_owned() });
            }
        }
        Ok(())
    }

    /// Like [`send`](Self::send), but a `-ERR` reply becomes [`EslError::Rejected`].
    pub async fn send_ok(&self, cmd: &Command) -> Result<Frame, EslError> {
        let frame = self.send(cmd).await?;
        if frame.content_type == ContentType::CommandReply && !frame.is_ok() {
            return Err(EslError::Rejected { command: cmd.redacted(), reply: frame.reply_text().unwrap_or_default().into_owned() });
        }
        Ok(frame)
    }

    fn closed_error(&self) -> EslError {
        let st = self.shared.lock();
        match (&st.down, &st.closed) {
            (_, Some(reason)) => EslError::Closed { reason: reason.clone() },
            (Some(cause), None) => EslError::Hangup { cause: cause.clone() },
            (None, None) => EslError::Closed { reason: "reader stopped".into() },
        }
    }

    /// Runs `app` on a channel (`uuid` None = the controlled one) and waits for its
    /// CHANNEL_EXECUTE_COMPLETE, matched by the Event-UUID we choose. Ends with Hangup at once
    /// when the channel goes down or the socket closes.
    pub async fn execute_on(&self, uuid: Option<&str>, app: &str, arg: Option<&str>) -> Result<Event, EslError> {
        let event_uuid = uuid::Uuid::new_v4().to_string();
        let cmd = Command::SendMsg {
            uuid: uuid.map(str::to_string),
            msg: super::command::SendMsg::Execute {
                app: app.to_string(),
                arg: arg.map(str::to_string),
                event_uuid: Some(event_uuid.clone()),
                event_lock: true,
                loops: None,
            },
        };
        let rx = {
            let mut st = self.shared.lock();
            if let Some(cause) = &st.down {
                return Err(EslError::Hangup { cause: cause.clone() });
            }
            if let Some(reason) = &st.closed {
                return Err(EslError::Closed { reason: reason.clone() });
            }
            let (tx, rx) = oneshot::channel();
            st.executes.insert(event_uuid.clone(), tx);
            rx
        };
        let reply = match self.send(&cmd).await {
            Ok(r) => r,
            Err(e) => {
                self.shared.lock().executes.remove(&event_uuid);
                return Err(e);
            }
        };
        if !reply.is_ok() {
            self.shared.lock().executes.remove(&event_uuid);
            return Err(EslError::Rejected { command: format!("execute {app}"), reply: reply.reply_text().unwrap_or_default().into_owned() });
        }
        match rx.await {
            Ok(r) => r,
            Err(_) => Err(self.closed_error()),
        }
    }

    /// An api command built as data: the body of its api/response.
    pub async fn api_cmd(&self, cmd: &super::api::ApiCommand) -> Result<Bytes, EslError> {
        self.api(&cmd.line()?).await
    }

    /// An api command built as data, that answers `+OK …` on success (see [`api_ok`](Self::api_ok)).
    pub async fn api_cmd_ok(&self, cmd: &super::api::ApiCommand) -> Result<Bytes, EslError> {
        self.api_ok(&cmd.line()?).await
    }

    /// `api <cmd>`: the body of the api/response.
    pub async fn api(&self, command: &str) -> Result<Bytes, EslError> {
        let frame = self.send(&Command::Api { command: command.to_string() }).await?;
        match frame.content_type {
            ContentType::ApiResponse => Ok(frame.body.unwrap_or_default()),
            _ => Err(EslError::Rejected { command: format!("api {command}"), reply: frame.reply_text().unwrap_or_default().into_owned() }),
        }
    }

    /// `api <cmd>` for commands that answer `+OK …` on success (uuid_kill, uuid_setvar, …):
    /// any other answer becomes [`EslError::Rejected`].
    pub async fn api_ok(&self, command: &str) -> Result<Bytes, EslError> {
        let frame = self.send(&Command::Api { command: command.to_string() }).await?;
        if frame.content_type == ContentType::ApiResponse && frame.is_ok() {
            return Ok(frame.body.unwrap_or_default());
        }
        let reply = match frame.content_type {
            ContentType::ApiResponse => String::from_utf8_lossy(frame.body.as_deref().unwrap_or_default()).trim().to_string(),
            _ => frame.reply_text().unwrap_or_default().into_owned(),
        };
        Err(EslError::Rejected { command: format!("api {command}"), reply })
    }

    /// `bgapi <cmd>` with a Job-UUID we choose, then its BACKGROUND_JOB. The caller must be
    /// subscribed to BACKGROUND_JOB (myevents alone does not deliver it).
    pub async fn bgapi(&self, command: &str) -> Result<Event, EslError> {
        let job = uuid::Uuid::new_v4().to_string();
        let rx = {
            let (tx, rx) = oneshot::channel();
            self.shared.lock().jobs.insert(job.clone(), tx);
            rx
        };
        let cmd = Command::BgApi { command: command.to_string(), job_uuid: Some(job.clone()) };
        match self.send_ok(&cmd).await {
            Ok(_) => {}
            Err(e) => {
                self.shared.lock().jobs.remove(&job);
                return Err(e);
            }
        }
        match rx.await {
            Ok(r) => r,
            Err(_) => Err(self.closed_error()),
        }
    }

    /// The connection's events. The first call on an outbound session gets every event
    /// since the handshake; later calls replace the subscriber and see events from then on.
    pub fn subscribe(&self) -> Events {
        if let Some(rx) = self.early.lock().unwrap_or_else(|p| p.into_inner()).take() {
            return rx;
        }
        let (tx, rx) = Events::channel();
        self.shared.lock().events = Some(tx);
        rx
    }

    pub fn status(&self) -> Status {
        self.status.borrow().clone()
    }

    pub fn status_watch(&self) -> watch::Receiver<Status> {
        self.status.clone()
    }

    pub fn is_down(&self) -> bool {
        self.shared.lock().down.is_some()
    }

    pub fn is_closed(&self) -> bool {
        self.shared.lock().closed.is_some()
    }

    /// Waits until the socket is gone (or `after`), returning why.
    pub async fn closed(&self, after: Duration) -> Result<String, EslError> {
        let mut rx = self.status.clone();
        let wait = async { rx.wait_for(|s| s.closed.is_some()).await.map(|s| s.closed.clone()) };
        match tokio::time::timeout(after, wait).await {
            Ok(Ok(s)) => Ok(s.unwrap_or_default()),
            Ok(Err(_)) => Ok("reader stopped".into()),
            Err(_) => Err(EslError::Timeout { what: "waiting for the socket to close", after }),
        }
    }

    /// Shuts the writing side, which makes FreeSWITCH end the listener.
    pub async fn shutdown(&self) {
        let mut w = self.writer.lock().await;
        let _ = w.shutdown().await;
    }
}

async fn read_loop<R: AsyncRead + Unpin>(reader: FramedRead<R, EslCodec>, shared: Arc<Shared>) {
    let mut reader = FrameReader::new(reader);
    let mut status = shared.status.subscribe();
    let reason = loop {
        let next = tokio::select! {
            n = reader.next() => n,
            // Closed from this side (a reply that never came, the call over): stop reading,
            // which lets go of the socket.
            _ = status.wait_for(|s| s.closed.is_some()) => return,
        };
        match next {
            Some(Ok(frame)) => {
                shared.heard_ms.store(shared.born.elapsed().as_millis() as u64, std::sync::atomic::Ordering::Relaxed);
                shared.dispatch(frame);
                if shared.lock().closed.is_some() {
                    return;
                }
            }
            Some(Err(CodecError::Io(e))) if e.kind() == std::io::ErrorKind::UnexpectedEof => break format!("{e}"),
            Some(Err(e)) => {
                tracing::warn!(error = %e, "event socket protocol error; closing the connection");
                break format!("protocol error: {e}");
            }
            None => break "connection closed by the peer".to_string(),
        }
    };
    shared.close(reason);
}
