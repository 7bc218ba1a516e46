//! Client → FreeSWITCH commands as data, encoded to exact bytes.
//!
//! FreeSWITCH reads a command up to the first blank line and cuts every header value at the
//! first `\r` or `\n` (mod_event_socket.c:1276–1312), so a CR or LF inside any field would end
//! the field early and start a second command: `playback x\n\napi system rm -rf /` is one
//! string that becomes two commands. Encoding therefore refuses CR, LF and NUL in every
//! field, and refuses spaces in fields that FreeSWITCH splits on spaces (names, UUIDs).

use std::fmt;

use bytes::{BufMut, BytesMut};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("{field} contains a line break or NUL: one string must never become two commands")]
    LineBreak { field: &'static str },
    #[error("{field} must be a single non-empty word")]
    NotAWord { field: &'static str },
    #[error("{field} is empty")]
    Empty { field: &'static str },
}

/// The event formats FreeSWITCH serializes to (`event plain|json|xml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventFormat {
    #[default]
    Plain,
    Json,
    Xml,
}

impl EventFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            EventFormat::Plain => "plain",
            EventFormat::Json => "json",
            EventFormat::Xml => "xml",
        }
    }
}

impl fmt::Display for EventFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `call-command` of a `sendmsg` (switch_ivr.c:506–513).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendMsg {
    /// Run a dialplan application. `event_uuid` comes back as `Application-UUID` on its
    /// CHANNEL_EXECUTE / CHANNEL_EXECUTE_COMPLETE (switch_core_session.c:2855–2860).
    Execute { app: String, arg: Option<String>, event_uuid: Option<String>, event_lock: bool, loops: Option<i32> },
    /// Hang the channel up with a cause name (default NORMAL_CLEARING, switch_ivr.c:765–772).
    Hangup { cause: String },
    /// Stream the channel's media to a UDP/TCP address (switch_ivr.c:709–733).
    Unicast { local_ip: String, local_port: u16, remote_ip: String, remote_port: u16, transport: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// The first command of an outbound session; its reply is the channel data.
    Connect,
    MyEvents {
        format: Option<EventFormat>,
    },
    /// `linger` keeps the socket after hangup until `exit` (None) or for N seconds.
    Linger {
        seconds: Option<u32>,
    },
    NoLinger,
    Event {
        format: EventFormat,
        names: Vec<String>,
    },
    NixEvent {
        names: Vec<String>,
    },
    NoEvents,
    Filter {
        header: String,
        value: String,
    },
    FilterDelete {
        header: String,
        value: Option<String>,
    },
    DivertEvents(bool),
    SendMsg {
        uuid: Option<String>,
        msg: SendMsg,
    },
    Api {
        command: String,
    },
    /// `job_uuid` picks the Job-UUID ourselves (mod_event_socket.c:2375–2380) so waiters and
    /// filters exist before the job can finish.
    BgApi {
        command: String,
        job_uuid: Option<String>,
    },
    GetVar {
        name: String,
    },
    Resume,
    Exit,
    Auth {
        password: String,
    },
    Log {
        level: String,
    },
    NoLog,
}

fn text<'a>(field: &'static str, v: &'a str) -> Result<&'a str, CommandError> {
    if v.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
        return Err(CommandError::LineBreak { field });
    }
    Ok(v)
}

fn nonempty<'a>(field: &'static str, v: &'a str) -> Result<&'a str, CommandError> {
    let v = text(field, v)?;
    if v.trim().is_empty() {
        return Err(CommandError::Empty { field });
    }
    Ok(v)
}

fn word<'a>(field: &'static str, v: &'a str) -> Result<&'a str, CommandError> {
    let v = text(field, v)?;
    if v.is_empty() || v.bytes().any(|b| b == b' ' || b == b'\t') {
        return Err(CommandError::NotAWord { field });
    }
    Ok(v)
}

impl Command {
    /// Shorthand: execute `app arg` on the controlled channel with an Event-UUID and event-lock.
    pub fn execute(app: &str, arg: Option<&str>, event_uuid: &str) -> Command {
        Command::SendMsg {
            uuid: None,
            msg: SendMsg::Execute {
                app: app.to_string(),
                arg: arg.map(str::to_string),
                event_uuid: Some(event_uuid.to_string()),
                event_lock: true,
                loops: None,
            },
        }
    }

    /// Appends the exact bytes of the command to `dst`, or refuses it without writing
    /// anything.
    pub fn encode(&self, dst: &mut BytesMut) -> Result<(), CommandError> {
        let mut out = String::with_capacity(64);
        self.write(&mut out)?;
        dst.put_slice(out.as_bytes());
        Ok(())
    }

    /// The exact bytes, as a string (golden tests, logs).
    pub fn to_wire(&self) -> Result<String, CommandError> {
        let mut out = String::with_capacity(64);
        self.write(&mut out)?;
        Ok(out)
    }

    fn write(&self, o: &mut String) -> Result<(), CommandError> {
        use std::fmt::Write;
        match self {
            Command::Connect => o.push_str("connect\n\n"),
            Command::MyEvents { format: None } => o.push_str("myevents\n\n"),
            Command::MyEvents { format: Some(f) } => {
                let _ = write!(o, "myevents {f}\n\n");
            }
            Command::Linger { seconds: None } => o.push_str("linger\n\n"),
            Command::Linger { seconds: Some(s) } => {
                let _ = write!(o, "linger {s}\n\n");
            }
            Command::NoLinger => o.push_str("nolinger\n\n"),
            Command::Event { format, names } => {
                if names.is_empty() {
                    return Err(CommandError::Empty { field: "event names" });
                }
                let _ = write!(o, "event {format}");
                for n in names {
                    o.push(' ');
                    o.push_str(word("event name", n)?);
                }
                o.push_str("\n\n");
            }
            Command::NixEvent { names } => {
                if names.is_empty() {
                    return Err(CommandError::Empty { field: "event names" });
                }
                o.push_str("nixevent");
                for n in names {
                    o.push(' ');
                    o.push_str(word("event name", n)?);
                }
                o.push_str("\n\n");
            }
            Command::NoEvents => o.push_str("noevents\n\n"),
            Command::Filter { header, value } => {
                let _ = write!(o, "filter {} {}\n\n", word("filter header", header)?, nonempty("filter value", value)?);
            }
            Command::FilterDelete { header, value } => {
                let _ = write!(o, "filter delete {}", word("filter header", header)?);
                if let Some(v) = value {
                    let _ = write!(o, " {}", nonempty("filter value", v)?);
                }
                o.push_str("\n\n");
            }
            Command::DivertEvents(on) => {
                let _ = write!(o, "divert_events {}\n\n", if *on { "on" } else { "off" });
            }
            Command::SendMsg { uuid, msg } => {
                o.push_str("sendmsg");
                if let Some(u) = uuid {
                    o.push(' ');
                    o.push_str(word("sendmsg uuid", u)?);
                }
                o.push('\n');
                match msg {
                    SendMsg::Execute { app, arg, event_uuid, event_lock, loops } => {
                        o.push_str("call-command: execute\n");
                        let _ = writeln!(o, "execute-app-name: {}", word("execute-app-name", app)?);
                        if let Some(a) = arg {
                            if !a.is_empty() {
                                let _ = writeln!(o, "execute-app-arg: {}", text("execute-app-arg", a)?);
                            }
                        }
                        if *event_lock {
                            o.push_str("event-lock: true\n");
                        }
                        if let Some(n) = loops {
                            let _ = writeln!(o, "loops: {n}");
                        }
                        if let Some(u) = event_uuid {
                            let _ = writeln!(o, "Event-UUID: {}", word("Event-UUID", u)?);
                        }
                    }
                    SendMsg::Hangup { cause } => {
                        o.push_str("call-command: hangup\n");
                        let _ = writeln!(o, "hangup-cause: {}", word("hangup-cause", cause)?);
                    }
                    SendMsg::Unicast { local_ip, local_port, remote_ip, remote_port, transport } => {
                        o.push_str("call-command: unicast\n");
                        let _ = writeln!(o, "local-ip: {}", word("local-ip", local_ip)?);
                        let _ = writeln!(o, "local-port: {local_port}");
                        let _ = writeln!(o, "remote-ip: {}", word("remote-ip", remote_ip)?);
                        let _ = writeln!(o, "remote-port: {remote_port}");
                        let _ = writeln!(o, "transport: {}", word("transport", transport)?);
                    }
                }
                o.push('\n');
            }
            Command::Api { command } => {
                let _ = write!(o, "api {}\n\n", nonempty("api command", command)?);
            }
            Command::BgApi { command, job_uuid } => {
                let _ = writeln!(o, "bgapi {}", nonempty("bgapi command", command)?);
                if let Some(j) = job_uuid {
                    let _ = writeln!(o, "Job-UUID: {}", word("Job-UUID", j)?);
                }
                o.push('\n');
            }
            Command::GetVar { name } => {
                let _ = write!(o, "getvar {}\n\n", word("variable name", name)?);
            }
            Command::Resume => o.push_str("resume\n\n"),
            Command::Exit => o.push_str("exit\n\n"),
            Command::Auth { password } => {
                let _ = write!(o, "auth {}\n\n", nonempty("password", password)?);
            }
            Command::Log { level } => {
                let _ = write!(o, "log {}\n\n", word("log level", level)?);
            }
            Command::NoLog => o.push_str("nolog\n\n"),
        }
        Ok(())
    }

    /// A form safe to log: the password of `auth` never reaches a log line.
    pub fn redacted(&self) -> String {
        match self {
            Command::Auth { .. } => "auth <redacted>".to_string(),
            other => other.to_wire().map(|w| w.trim_end().replace('\n', " | ")).unwrap_or_else(|e| format!("<invalid: {e}>")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(c: Command) -> String {
        c.to_wire().unwrap()
    }

    #[test]
    fn golden_bytes() {
        assert_eq!(wire(Command::Connect), "connect\n\n");
        assert_eq!(wire(Command::MyEvents { format: None }), "myevents\n\n");
        assert_eq!(wire(Command::MyEvents { format: Some(EventFormat::Json) }), "myevents json\n\n");
        assert_eq!(wire(Command::Linger { seconds: None }), "linger\n\n");
        assert_eq!(wire(Command::Linger { seconds: Some(30) }), "linger 30\n\n");
        assert_eq!(wire(Command::NoLinger), "nolinger\n\n");
        assert_eq!(
            wire(Command::Event { format: EventFormat::Plain, names: vec!["BACKGROUND_JOB".into(), "CUSTOM".into(), "sofia::register".into()] }),
            "event plain BACKGROUND_JOB CUSTOM sofia::register\n\n"
        );
        assert_eq!(wire(Command::NixEvent { names: vec!["DTMF".into()] }), "nixevent DTMF\n\n");
        assert_eq!(wire(Command::NoEvents), "noevents\n\n");
        assert_eq!(wire(Command::Filter { header: "Unique-ID".into(), value: "abc".into() }), "filter Unique-ID abc\n\n");
        assert_eq!(wire(Command::FilterDelete { header: "Unique-ID".into(), value: None }), "filter delete Unique-ID\n\n");
        assert_eq!(wire(Command::DivertEvents(true)), "divert_events on\n\n");
        assert_eq!(
            wire(Command::execute("playback", Some("/tmp/a b.wav"), "3b9b")),
            "sendmsg\ncall-command: execute\nexecute-app-name: playback\nexecute-app-arg: /tmp/a b.wav\nevent-lock: true\nEvent-UUID: 3b9b\n\n"
        );
        assert_eq!(
            wire(Command::SendMsg { uuid: Some("u-1".into()), msg: SendMsg::Hangup { cause: "USER_BUSY".into() } }),
            "sendmsg u-1\ncall-command: hangup\nhangup-cause: USER_BUSY\n\n"
        );
        assert_eq!(
            wire(Command::SendMsg {
                uuid: None,
                msg: SendMsg::Unicast {
                    local_ip: "127.0.0.1".into(),
                    local_port: 8025,
                    remote_ip: "127.0.0.1".into(),
                    remote_port: 8026,
                    transport: "udp".into()
                }
            }),
            "sendmsg\ncall-command: unicast\nlocal-ip: 127.0.0.1\nlocal-port: 8025\nremote-ip: 127.0.0.1\nremote-port: 8026\ntransport: udp\n\n"
        );
        assert_eq!(wire(Command::Api { command: "show channels as json".into() }), "api show channels as json\n\n");
        assert_eq!(wire(Command::BgApi { command: "status".into(), job_uuid: Some("j-1".into()) }), "bgapi status\nJob-UUID: j-1\n\n");
        assert_eq!(wire(Command::GetVar { name: "sip_from_user".into() }), "getvar sip_from_user\n\n");
        assert_eq!(wire(Command::Resume), "resume\n\n");
        assert_eq!(wire(Command::Exit), "exit\n\n");
        assert_eq!(wire(Command::Auth { password: "ClueCon".into() }), "auth ClueCon\n\n");
        assert_eq!(wire(Command::Log { level: "DEBUG".into() }), "log DEBUG\n\n");
        assert_eq!(wire(Command::NoLog), "nolog\n\n");
    }

    #[test]
    fn refuses_line_breaks_in_every_field() {
        for evil in ["x\n\napi system", "x\rapi", "x\0y"] {
            let cases = vec![
                Command::execute("playback", Some(evil), "u"),
                Command::execute(evil, None, "u"),
                Command::execute("playback", None, evil),
                Command::Api { command: evil.into() },
                Command::BgApi { command: evil.into(), job_uuid: None },
                Command::Filter { header: "Unique-ID".into(), value: evil.into() },
                Command::Auth { password: evil.into() },
                Command::GetVar { name: evil.into() },
                Command::SendMsg { uuid: Some(evil.into()), msg: SendMsg::Hangup { cause: "NORMAL_CLEARING".into() } },
                Command::SendMsg { uuid: None, msg: SendMsg::Hangup { cause: evil.into() } },
                Command::Event { format: EventFormat::Plain, names: vec![evil.into()] },
            ];
            for c in cases {
                let mut buf = BytesMut::new();
                let err = c.encode(&mut buf).unwrap_err();
                assert!(matches!(err, CommandError::LineBreak { .. } | CommandError::NotAWord { .. }), "{c:?} gave {err:?}");
                assert!(buf.is_empty(), "nothing is written for a refused command");
            }
        }
    }

    #[test]
    fn words_stay_words() {
        assert_eq!(Command::execute("play back", None, "u").to_wire(), Err(CommandError::NotAWord { field: "execute-app-name" }));
        assert_eq!(Command::Api { command: "  ".into() }.to_wire(), Err(CommandError::Empty { field: "api command" }));
        assert_eq!(Command::Auth { password: "secret".into() }.redacted(), "auth <redacted>");
    }
}
