//! One controlled call on an outbound socket (`<action application="socket" data="… async full"/>`).
//!
//! Handshake (docs/esl-protocol.md §4.3): FreeSWITCH connects and sends nothing; we must send
//! `connect` within 25 s (mod_event_socket.c:2712). Its reply is the channel data. Then, in
//! one write: filters for this call's events, the subscription, and a bounded `linger`, so
//! the hangup events and CHANNEL_HANGUP_COMPLETE reach us before the socket closes (without
//! linger they are flushed and lost, mod_event_socket.c:2806). Their replies are not waited
//! for: the handler's first command follows them at once and checks them
//! ([`Connection::send_all_unanswered`]).
//!
//! Why not `myevents`: it drops every event whose Unique-ID is not the controlled channel's
//! (mod_event_socket.c event_handler, the LFLAG_MYEVENTS check), so the keys the bridged
//! party presses (*1, *2, *4 during a call) never arrive. Instead: `event plain` with the
//! events the session waits on itself ([`SESSION_EVENTS`]) and those its handler reads
//! ([`OutboundOptions::events`]), and the OR'ed filters Unique-ID, Other-Leg-Unique-ID
//! (every leg this channel originates or is bridged to carries it, switch_channel.c
//! switch_channel_event_set_basic_data) and Job-Owner-UUID (this session's bgapi results).
//! The filters go first so no other call's event slips through in between
//! (docs/in-call-features.md).
//!
//! Why not myevents' whole list: FreeSWITCH serialises every subscribed event that passes
//! the filters for the socket (with the channel's variables, a few kilobytes each), and
//! switchboard reads and parses each. Of myevents' 23 names a call uses a handful; the rest
//! (CHANNEL_EXECUTE before every application, CHANNEL_STATE at every state change, TALK and
//! NOTALK while anyone speaks, the B leg's progress and origination) were work on both
//! sides that nobody read.

use std::time::Duration;

use futures_util::StreamExt;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio_util::codec::FramedRead;

use super::codec::EslCodec;
use super::command::{Command, EventFormat, SendMsg};
use super::connection::{Connection, EslError, Status};
use super::event::{ChannelData, Event};
use super::frame::ContentType;

/// myevents' fixed list (mod_event_socket.c:2104–2126, docs/esl-protocol.md §4.4).
pub const MYEVENTS: &[&str] = &[
    "CHANNEL_ANSWER",
    "CHANNEL_APPLICATION",
    "CHANNEL_BRIDGE",
    "CHANNEL_CREATE",
    "CHANNEL_DATA",
    "CHANNEL_DESTROY",
    "CHANNEL_EXECUTE",
    "CHANNEL_EXECUTE_COMPLETE",
    "CHANNEL_HANGUP",
    "CHANNEL_HANGUP_COMPLETE",
    "CHANNEL_ORIGINATE",
    "CHANNEL_UUID",
    "CHANNEL_OUTGOING",
    "CHANNEL_PARK",
    "CHANNEL_PROGRESS",
    "CHANNEL_PROGRESS_MEDIA",
    "CHANNEL_STATE",
    "CHANNEL_UNBRIDGE",
    "CHANNEL_UNPARK",
    "DETECTED_SPEECH",
    "DTMF",
    "NOTALK",
    "TALK",
];

/// The events an outbound session waits on itself: an application's completion (its
/// `execute` returns), the answer and the hangup (the call's status), the hangup's complete
/// record (the CDR's variables) and bgapi results (which myevents would not even deliver).
pub const SESSION_EVENTS: &[&str] = &["CHANNEL_ANSWER", "CHANNEL_EXECUTE_COMPLETE", "CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE", "BACKGROUND_JOB"];

/// What an outbound session subscribes to: [`SESSION_EVENTS`], then `extra` (what its
/// handler reads from [`Connection::subscribe`]), each name once.
pub fn session_events(extra: &[String]) -> Vec<String> {
    let mut names: Vec<String> = SESSION_EVENTS.iter().map(|n| n.to_string()).collect();
    for n in extra {
        if !names.contains(n) {
            names.push(n.clone());
        }
    }
    names
}

#[derive(Debug, Clone)]
pub struct OutboundOptions {
    /// How long to wait for the connect reply.
    pub connect_timeout: Duration,
    /// `linger N`: how long FreeSWITCH keeps the socket after hangup.
    pub linger: Duration,
    /// Refuse a socket without `full` (needed for linger, event, api).
    pub require_full: bool,
    /// Events subscribed besides [`SESSION_EVENTS`], for whoever reads
    /// [`Connection::subscribe`] (the outbound server adds its handler's).
    pub events: Vec<String>,
    /// How long any command may wait for its reply; past it the socket is given up. Every
    /// command a call sends is answered at once by FreeSWITCH in async mode (applications are
    /// queued, api commands are short), so this is only reached by a peer that went silent.
    /// A socket not in async mode (a hand-written dialplan) gets no reply timeout.
    pub reply_timeout: Duration,
    /// After this long without a frame from FreeSWITCH while the channel is up (a long
    /// bridge is quiet), the session asks `uuid_exists`: no answer within `reply_timeout`,
    /// or "false", ends the call and frees its slot.
    pub probe_after: Duration,
}

impl Default for OutboundOptions {
    fn default() -> Self {
        OutboundOptions {
            connect_timeout: Duration::from_secs(5),
            linger: Duration::from_secs(30),
            require_full: true,
            events: Vec::new(),
            reply_timeout: Duration::from_secs(30),
            probe_after: Duration::from_secs(60),
        }
    }
}

/// Digits a caller entered through `read` or `play_and_get_digits`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digits {
    /// What was collected (empty on timeout or invalid input).
    pub digits: String,
    /// `read_result`: success, timeout or failure (`read` only).
    pub result: Option<String>,
    /// The terminator pressed, if any.
    pub terminator: Option<String>,
    /// For play_and_get_digits: the input that failed the regex on the last try.
    pub invalid: Option<String>,
}

pub struct OutboundSession {
    conn: Connection,
    channel: ChannelData,
    uuid: String,
    /// When the channel data (the reply to `connect`) was read.
    channel_data_at: std::time::Instant,
}

impl OutboundSession {
    /// Runs the handshake on a freshly accepted socket.
    pub async fn start<S>(stream: S, opts: &OutboundOptions) -> Result<OutboundSession, EslError>
    where
        S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    {
        let (r, mut w) = tokio::io::split(stream);
        let mut reader = FramedRead::new(r, EslCodec::new());
        let wire = Command::Connect.to_wire()?;
        w.write_all(wire.as_bytes()).await.map_err(|e| EslError::Closed { reason: format!("sending connect: {e}") })?;
        let reply = tokio::time::timeout(opts.connect_timeout, reader.next())
            .await
            .map_err(|_| EslError::Timeout { what: "the connect reply", after: opts.connect_timeout })?;
        let channel_data_at = std::time::Instant::now();
        let frame = match reply {
            Some(Ok(f)) => f,
            Some(Err(e)) => return Err(EslError::Protocol(format!("connect reply: {e}"))),
            None => return Err(EslError::Closed { reason: "closed before the connect reply".into() }),
        };
        if frame.content_type != ContentType::CommandReply || !frame.is_channel_data() {
            return Err(EslError::Protocol(format!("expected the channel data in reply to connect, got {}", frame.content_type)));
        }
        // Only what a call reads is kept, so the reply and the buffer it was read into go now.
        let channel = ChannelData::from_reply(&frame.headers);
        drop(frame);
        let uuid = channel.unique_id().map(|u| u.into_owned()).ok_or_else(|| EslError::Protocol("channel data has no Unique-ID".into()))?;
        let control = channel.control().map(|c| c.into_owned()).unwrap_or_default();
        if opts.require_full && control != "full" {
            return Err(EslError::NotFull { control });
        }
        let conn = Connection::start(reader, w, Some(uuid.clone()));
        // In async mode FreeSWITCH answers each command at once (an application is queued);
        // without it a `sendmsg execute` is answered only when the application ends (a
        // bridge: the whole call), so there no reply can be bounded, only the quiet probed.
        if channel.socket_mode().as_deref() == Some("async") {
            conn.set_reply_timeout(opts.reply_timeout);
        }
        tokio::spawn(probe_when_quiet(conn.clone(), uuid.clone(), opts.probe_after));
        let session = OutboundSession { conn, channel, uuid, channel_data_at };
        let setup = if control == "full" {
            let filter = |h: &str| Command::Filter { header: h.into(), value: session.uuid.clone() };
            vec![
                filter("Unique-ID"),
                filter("Other-Leg-Unique-ID"),
                filter("Job-Owner-UUID"),
                Command::Event { format: EventFormat::Plain, names: session_events(&opts.events) },
                Command::Linger { seconds: Some(opts.linger.as_secs().max(1) as u32) },
            ]
        } else {
            // Without full control `event` and `linger` are refused; myevents still works.
            vec![Command::MyEvents { format: None }]
        };
        // Not waited for: the handler's first command follows in the same round trip, and
        // a refusal among these fails that command. A caller who hung up meanwhile (a
        // disconnect notice, or the socket closed) is found at the first command too, and
        // the handler writes the call's record as usual.
        match session.conn.send_all_unanswered(&setup).await {
            Ok(()) | Err(EslError::Closed { .. }) => Ok(session),
            Err(e) => Err(e),
        }
    }

    pub fn uuid(&self) -> &str {
        &self.uuid
    }

    pub fn channel(&self) -> &ChannelData {
        &self.channel
    }

    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// From the channel data read to the first application sent: the time switchboard took
    /// to decide what to do with the call. None until an application was sent.
    pub fn first_app_after(&self) -> Option<Duration> {
        self.conn.first_execute_at().map(|t| t.saturating_duration_since(self.channel_data_at))
    }

    /// Executes an application on this channel and waits for it to finish.
    pub async fn execute(&self, app: &str, arg: Option<&str>) -> Result<Event, EslError> {
        self.conn.execute_on(None, app, arg).await
    }

    pub async fn answer(&self) -> Result<Event, EslError> {
        self.execute("answer", None).await
    }

    pub async fn playback(&self, file: &str) -> Result<Event, EslError> {
        self.execute("playback", Some(file)).await
    }

    /// `set name=value` on this channel.
    pub async fn set_var(&self, name: &str, value: &str) -> Result<Event, EslError> {
        self.execute("set", Some(&format!("{name}={value}"))).await
    }

    /// Hangs the channel up with `cause` (sendmsg call-command: hangup).
    pub async fn hangup(&self, cause: &str) -> Result<(), EslError> {
        if self.conn.is_down() {
            return Ok(());
        }
        self.conn.send_ok(&Command::SendMsg { uuid: None, msg: SendMsg::Hangup { cause: cause.to_string() } }).await.map(|_| ())
    }

    /// `read <min> <max> <file> <var> <timeout_ms> <terminators>` and the digits from its
    /// CHANNEL_EXECUTE_COMPLETE (the app leaves Application-Response at `_none_`; the digits
    /// are in `variable_<var>`, corpus 17).
    pub async fn read_digits(&self, min: u32, max: u32, prompt: &str, timeout: Duration, terminators: &str) -> Result<Digits, EslError> {
        let var = "sb_digits";
        let arg = format!("{min} {max} {} {var} {} {}", quote_arg(prompt)?, timeout.as_millis(), word_or_none(terminators)?);
        let ev = self.execute("read", Some(&arg)).await?;
        Ok(Digits {
            digits: ev.variable(var).map(|v| v.into_owned()).unwrap_or_default(),
            result: ev.variable("read_result").map(|v| v.into_owned()),
            terminator: ev.variable("read_terminator_used").map(|v| v.into_owned()),
            invalid: None,
        })
    }

    /// `play_and_get_digits`: tries, a validating regex, and the invalid-input prompt.
    #[allow(clippy::too_many_arguments)]
    pub async fn play_and_get_digits(
        &self,
        min: u32,
        max: u32,
        tries: u32,
        timeout: Duration,
        terminators: &str,
        prompt: &str,
        invalid_prompt: &str,
        regex: &str,
        digit_timeout: Duration,
    ) -> Result<Digits, EslError> {
        let var = "sb_digits";
        let arg = format!(
            "{min} {max} {tries} {} {} {} {} {var} {} {}",
            timeout.as_millis(),
            word_or_none(terminators)?,
            quote_arg(prompt)?,
            quote_arg(invalid_prompt)?,
            quote_arg(regex)?,
            digit_timeout.as_millis()
        );
        let ev = self.execute("play_and_get_digits", Some(&arg)).await?;
        Ok(Digits {
            digits: ev.variable(var).map(|v| v.into_owned()).unwrap_or_default(),
            result: ev.variable("read_result").map(|v| v.into_owned()),
            terminator: ev.variable("read_terminator_used").map(|v| v.into_owned()),
            invalid: ev.variable(&format!("{var}_invalid")).map(|v| v.into_owned()),
        })
    }

    pub async fn api(&self, command: &str) -> Result<bytes::Bytes, EslError> {
        self.conn.api(command).await
    }

    /// bgapi inside the session (BACKGROUND_JOB is subscribed and Job-Owner-UUID filtered in
    /// at the handshake); waits for this job's result.
    pub async fn bgapi(&self, command: &str) -> Result<Event, EslError> {
        self.conn.bgapi(command).await
    }

    pub fn status(&self) -> Status {
        self.conn.status()
    }

    /// Waits (bounded) for CHANNEL_HANGUP_COMPLETE, which carries the durations for the CDR.
    pub async fn hangup_complete(&self, within: Duration) -> Option<Event> {
        let mut rx = self.conn.status_watch();
        let wait = async { rx.wait_for(|s| s.hangup_complete.is_some() || s.closed.is_some()).await.map(|s| s.hangup_complete.clone()) };
        tokio::time::timeout(within, wait).await.ok().and_then(|r| r.ok()).flatten()
    }

    /// Waits until the controlled channel hangs up or the socket closes: for a conversation
    /// FreeSWITCH carries on without an application of ours (after an `intercept`).
    pub async fn hangup_wait(&self) {
        let mut rx = self.conn.status_watch();
        let _ = rx.wait_for(|s| s.hangup.is_some() || s.closed.is_some()).await;
    }

    /// Ends the session: `exit`, then wait (bounded) for the final notice or EOF.
    pub async fn finish(&self, within: Duration) {
        if !self.conn.is_closed() {
            let _ = tokio::time::timeout(within, self.conn.send(&Command::Exit)).await;
            let _ = self.conn.closed(within).await;
        }
        self.conn.shutdown().await;
        // A peer that ignored `exit` must not keep the reader, or the socket, alive.
        self.conn.close("the call is over");
    }
}

/// Every bound on a call's life but one is a timeout on something switchboard waits for;
/// the exception is an application that runs as long as the caller wants (a bridge, a
/// conference). While one runs FreeSWITCH may say nothing for an hour, and so may a peer that
/// died without closing the socket (a host gone, a firewall dropping the flow, a hostile
/// client that sent channel data and nothing since). So when the socket has been quiet for
/// `after` and the channel is not known to be down, ask: `uuid_exists` is answered at once by
/// a live switch (mod_commands.c uuid_exists_function: "true"/"false"). No answer within the
/// reply timeout closes the connection (see [`Connection::send`]); "false" closes it too.
async fn probe_when_quiet(conn: Connection, uuid: String, after: Duration) {
    let mut status = conn.status_watch();
    loop {
        let quiet = conn.heard_ago();
        if quiet < after {
            tokio::select! {
                _ = tokio::time::sleep(after - quiet) => continue,
                _ = status.wait_for(|s| s.closed.is_some() || s.hangup.is_some()) => return,
            }
        }
        if conn.is_closed() || conn.is_down() {
            return;
        }
        // Boxed: the command's state is needed a moment a minute; unboxed it would be part of
        // this task, which lives as long as the call.
        match Box::pin(conn.api_cmd(&super::api::ApiCommand::UuidExists { uuid: uuid.clone() })).await {
            Ok(body) if body.trim_ascii() == b"false" => {
                tracing::warn!(%uuid, "the switch no longer has this call's channel; ending it");
                conn.close("the channel no longer exists on the switch");
                return;
            }
            Ok(_) => tokio::time::sleep(after).await,
            Err(e) => {
                tracing::warn!(%uuid, error = %e, "the switch did not answer a liveness probe; ending the call");
                conn.close(format!("liveness probe: {e}"));
                return;
            }
        }
    }
}

/// `read` and `play_and_get_digits` split their argument on spaces
/// (switch_separate_string), so an argument with spaces is single-quoted; a quote inside
/// cannot be escaped there and is refused.
fn quote_arg(v: &str) -> Result<String, EslError> {
    if v.is_empty() || v.contains('\'') || v.contains(['\r', '\n', '\0']) {
        return Err(EslError::Protocol(format!("argument {v:?} cannot be passed to read safely")));
    }
    Ok(if v.contains(' ') { format!("'{v}'") } else { v.to_string() })
}

fn word_or_none(v: &str) -> Result<String, EslError> {
    if v.is_empty() {
        return Ok("none".into());
    }
    if v.chars().all(|c| c.is_ascii_digit() || c == '#' || c == '*') {
        Ok(v.to_string())
    } else {
        Err(EslError::Protocol(format!("terminators {v:?} must be DTMF digits")))
    }
}
