//! The commands an outbound socket sends (parse_command, mod_event_socket.c:1700–2630) and
//! their replies: event subscriptions, filters, linger, api/bgapi, sendmsg and the rest.

use std::sync::Arc;

use bytes::BytesMut;
use tokio::sync::mpsc;

use crate::esl::command::EventFormat;
use crate::esl::switch_side::{self, RawCommand};

use super::listener::Listener;
use super::session::{handle_sendmsg, QueuedApp};
use super::*;

pub(super) enum Action {
    Continue,
    Exit,
}

/// parse_command (mod_event_socket.c:1700–2630), for an outbound listener.
pub(super) async fn handle_command(
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
