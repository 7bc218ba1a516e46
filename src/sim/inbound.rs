//! The simulated switch's inbound event socket (port 8021 on a real box): `auth/request`,
//! `auth <password>`, then api, bgapi, event subscriptions and filters over every channel.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::Decoder;

use super::call::{apply_filter, filters_pass};
use super::{SimEvent, Switch};
use crate::esl::command::EventFormat;
use crate::esl::switch_side::{self, CommandReader};

/// Listens on `addr` and serves every connection until the returned handle is aborted.
pub async fn serve(switch: Switch, addr: SocketAddr, password: String) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let password = Arc::new(password);
    let handle = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let (sw, pw) = (switch.clone(), password.clone());
            tokio::spawn(async move { connection(sw, stream, &pw).await });
        }
    });
    Ok((local, handle))
}

async fn connection(switch: Switch, stream: TcpStream, password: &str) {
    let _ = stream.set_nodelay(true);
    let (mut rd, mut wr) = stream.into_split();
    let mut out = BytesMut::new();
    switch_side::auth_request(&mut out);
    if wr.write_all(&out).await.is_err() {
        return;
    }
    out.clear();
    let mut reader = CommandReader::default();
    let mut inbuf = BytesMut::new();
    let mut held: std::collections::VecDeque<std::sync::Arc<crate::sim::event::SimEvent>> = std::collections::VecDeque::new();
    let mut authed = false;
    let mut names: HashSet<String> = HashSet::new();
    let mut subclasses: HashSet<String> = HashSet::new();
    let mut all = false;
    let mut format = EventFormat::Plain;
    let mut filters: Vec<(String, String)> = Vec::new();
    let mut bus = switch.subscribe();
    loop {
        while let Ok(Some(cmd)) = reader.decode(&mut inbuf) {
            let line = cmd.line.trim().to_string();
            let lower = line.to_ascii_lowercase();
            let arg = line.split_once(' ').map(|(_, a)| a.trim().to_string()).unwrap_or_default();
            if !authed {
                if let Some(pw) = lower.strip_prefix("auth ").map(|_| line[5..].trim()) {
                    if pw == password {
                        authed = true;
                        switch_side::command_reply("+OK accepted", &mut out);
                    } else {
                        switch_side::command_reply("-ERR invalid", &mut out);
                        switch_side::disconnect_notice(None, &mut out);
                        let _ = wr.write_all(&out).await;
                        return;
                    }
                } else {
                    // Unauthenticated commands: refused, connection kept (§11.12).
                    switch_side::command_reply("-ERR command not found", &mut out);
                }
                continue;
            }
            if lower.starts_with("exit") || lower.starts_with("...") {
                switch_side::command_reply("+OK bye", &mut out);
                switch_side::disconnect_notice(None, &mut out);
                let _ = wr.write_all(&out).await;
                return;
            }
            if lower.starts_with("api ") {
                let body = switch.api(&arg, None).await;
                switch_side::api_response(&body, &mut out);
            } else if lower.starts_with("bgapi ") {
                let job = cmd.header("Job-UUID").map(str::to_string).unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
                switch_side::bgapi_reply(&job, &mut out);
                let sw = switch.clone();
                tokio::spawn(async move {
                    let result = sw.api(&arg, None).await;
                    // The result reaches every subscribed listener through the bus.
                    sw.publish(&sw.background_job(&job, "", &arg, &result));
                });
            } else if lower.starts_with("event") {
                let mut any = false;
                // Words after CUSTOM are subclass names (mod_event_socket.c:2495–2528).
                let mut custom = false;
                for w in arg.split_whitespace() {
                    if custom {
                        subclasses.insert(w.to_string());
                        continue;
                    }
                    match w.to_ascii_lowercase().as_str() {
                        "plain" => format = EventFormat::Plain,
                        "json" => format = EventFormat::Json,
                        "xml" => format = EventFormat::Xml,
                        "all" => {
                            all = true;
                            any = true;
                        }
                        "custom" => {
                            names.insert("CUSTOM".into());
                            custom = true;
                            any = true;
                        }
                        _ => {
                            names.insert(w.to_string());
                            any = true;
                        }
                    }
                }
                let t = if any { format!("+OK event listener enabled {}", format.as_str()) } else { "-ERR no keywords supplied".into() };
                switch_side::command_reply(&t, &mut out);
            } else if lower.starts_with("nixevent") {
                for w in arg.split_whitespace() {
                    names.remove(w);
                }
                switch_side::command_reply("+OK events nixed", &mut out);
            } else if lower.starts_with("noevents") {
                names.clear();
                subclasses.clear();
                all = false;
                switch_side::command_reply("+OK no longer listening for events", &mut out);
            } else if lower.starts_with("filter") {
                let t = apply_filter(&mut filters, &arg);
                switch_side::command_reply(&t, &mut out);
            } else if lower.starts_with("sendmsg") {
                match switch.find(&arg) {
                    Some(core) => {
                        switch_side::command_reply("+OK", &mut out);
                        core.apply_sendmsg(&cmd).await;
                    }
                    None => switch_side::command_reply(&format!("-ERR invalid session id [{arg}]"), &mut out),
                }
            } else if lower.starts_with("linger") || lower.starts_with("nolinger") {
                switch_side::command_reply("-ERR not controlling a session", &mut out);
            } else {
                switch_side::command_reply("-ERR command not found", &mut out);
            }
        }
        // Events held while a command was part-read go out, in order, once it is whole.
        if !held.is_empty() && !reader.is_mid_command(&inbuf) {
            for ev in held.drain(..) {
                ev.frame(format, &mut out);
            }
        }
        if !out.is_empty() {
            if wr.write_all(&out).await.is_err() {
                return;
            }
            out.clear();
        }
        // A CUSTOM event goes out when its subclass was asked for (mod_event_socket.c:316).
        let wants = |ev: &SimEvent| {
            let named = if ev.name == "CUSTOM" {
                all || (names.contains("CUSTOM") && ev.get("Event-Subclass").is_some_and(|s| subclasses.contains(s)))
            } else {
                all || names.contains(&ev.name)
            };
            authed && named && filters_pass(&filters, ev)
        };
        tokio::select! {
            r = rd.read_buf(&mut inbuf) => match r { Ok(0) | Err(_) => return, Ok(_) => {} },
            ev = bus.recv() => match ev {
                // Kept in the listener's queue while a command is part-read, never dropped
                // (the queue is written out once no partial command is buffered,
                // mod_event_socket.c:1375–1420).
                Ok(ev) => if wants(&ev) {
                    if reader.is_mid_command(&inbuf) {
                        held.push_back(ev);
                    } else {
                        for e in held.drain(..) {
                            e.frame(format, &mut out);
                        }
                        ev.frame(format, &mut out);
                    }
                },
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    // FreeSWITCH kills a listener that falls behind (mod_event_socket.c:386–405).
                    let _ = n;
                    let text = "killed listener because of lost events\n";
                    let bye = format!("Content-Type: text/disconnect-notice\nContent-Length: {}\n\n{text}", text.len());
                    let _ = wr.write_all(bye.as_bytes()).await;
                    return;
                }
                Err(_) => return,
            },
        }
    }
}
