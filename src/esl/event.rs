//! Typed access to events and to the outbound channel data.
//!
//! An event arrives in one of three envelopes (switch_event.c):
//! - `text/event-plain`: the body is itself a header block with percent-encoded values,
//!   then, for events that carry one (BACKGROUND_JOB), an inner `Content-Length` and body
//!   (switch_event_serialize, 1528–1640);
//! - `text/event-json`: one JSON object, every value a string (or an array of strings for
//!   array headers), the body under `_body`, duplicate keys possible (cJSON does not dedupe);
//! - `text/event-xml`: `<event><headers>…</headers><Content-Length/><body/></event>` with
//!   values percent-encoded and XML-escaped.
//!
//! All three become the same [`Event`]: ordered headers plus an optional body.

use std::borrow::Cow;
use std::fmt;

use bytes::Bytes;
use serde::de::{Deserializer, MapAccess, Visitor};

use super::frame::{bytes_to_str, find_block_end, ContentType, Frame, FrameError, Headers, DEFAULT_MAX_BODY};

#[derive(Debug, Clone, thiserror::Error)]
pub enum EventError {
    #[error("event body: {0}")]
    Plain(#[from] FrameError),
    #[error("event-json body: {0}")]
    Json(String),
    #[error("event-xml body: {0}")]
    Xml(String),
    #[error("inner Content-Length {declared} but only {available} bytes follow")]
    ShortBody { declared: usize, available: usize },
}

#[derive(Clone)]
pub struct Event {
    pub headers: Headers,
    pub body: Option<Bytes>,
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event").field("name", &self.name()).field("unique_id", &self.unique_id()).finish_non_exhaustive()
    }
}

impl Event {
    /// The event carried by a frame, if it is an event frame.
    pub fn from_frame(frame: &Frame) -> Result<Option<Event>, EventError> {
        let body = frame.body.clone().unwrap_or_default();
        match frame.content_type {
            ContentType::EventPlain => parse_plain(body).map(Some),
            ContentType::EventJson => parse_json(&body).map(Some),
            ContentType::EventXml => parse_xml(&body).map(Some),
            _ => Ok(None),
        }
    }

    pub fn get(&self, name: &str) -> Option<Cow<'_, str>> {
        self.headers.get_str(name)
    }

    pub fn name(&self) -> Option<Cow<'_, str>> {
        self.get("Event-Name")
    }

    pub fn is(&self, name: &str) -> bool {
        self.headers.get_raw("Event-Name") == Some(name.as_bytes())
    }

    pub fn unique_id(&self) -> Option<Cow<'_, str>> {
        self.get("Unique-ID")
    }

    /// A channel variable as the event carries it (`variable_<name>`).
    pub fn variable(&self, name: &str) -> Option<Cow<'_, str>> {
        self.headers.get_str(&format!("variable_{name}"))
    }

    pub fn application(&self) -> Option<Cow<'_, str>> {
        self.get("Application")
    }

    /// Your `Event-UUID` from the sendmsg, echoed on CHANNEL_EXECUTE(_COMPLETE).
    pub fn application_uuid(&self) -> Option<Cow<'_, str>> {
        self.get("Application-UUID")
    }

    pub fn application_response(&self) -> Option<Cow<'_, str>> {
        self.get("Application-Response")
    }

    pub fn job_uuid(&self) -> Option<Cow<'_, str>> {
        self.get("Job-UUID")
    }

    pub fn hangup_cause(&self) -> Option<Cow<'_, str>> {
        self.get("Hangup-Cause")
    }

    pub fn body_str(&self) -> Option<Cow<'_, str>> {
        self.body.as_deref().map(String::from_utf8_lossy)
    }
}

fn parse_plain(body: Bytes) -> Result<Event, EventError> {
    // The inner block ends at its blank line; an event with no body ends the block with the
    // extra "\n" of switch_event_serialize, and a lenient reader takes a missing one as the end.
    let (block, rest) = match find_block_end(&body, 0) {
        Some(end) => (body.slice(..end), body.slice(end + 1..)),
        None => (body.clone(), Bytes::new()),
    };
    let headers = Headers::parse(block, true)?;
    let body = match headers.content_length(DEFAULT_MAX_BODY)? {
        Some(n) if n > rest.len() => return Err(EventError::ShortBody { declared: n, available: rest.len() }),
        Some(0) | None => None,
        Some(n) => Some(rest.slice(..n)),
    };
    Ok(Event { headers, body })
}

/// A JSON object read as ordered pairs: duplicate keys survive, arrays become `ARRAY::` values.
struct Pairs(Vec<(String, String)>, Option<String>);

impl<'de> serde::Deserialize<'de> for Pairs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Pairs, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Pairs;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object of event headers")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Pairs, A::Error> {
                let mut pairs = Vec::new();
                let mut body = None;
                while let Some(key) = map.next_key::<String>()? {
                    let value: serde_json::Value = map.next_value()?;
                    let text = match value {
                        serde_json::Value::String(s) => s,
                        serde_json::Value::Array(items) => {
                            let parts: Vec<String> = items.into_iter().map(json_scalar).collect();
                            format!("ARRAY::{}", parts.join("|:"))
                        }
                        other => json_scalar(other),
                    };
                    if key == "_body" {
                        body = Some(text);
                    } else {
                        pairs.push((key, text));
                    }
                }
                Ok(Pairs(pairs, body))
            }
        }
        d.deserialize_map(V)
    }
}

fn json_scalar(v: serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    }
}

fn parse_json(body: &[u8]) -> Result<Event, EventError> {
    let Pairs(pairs, text) = serde_json::from_slice(body).map_err(|e| EventError::Json(e.to_string()))?;
    Ok(Event { headers: Headers::from_pairs(pairs, false), body: text.map(Bytes::from) })
}

fn parse_xml(body: &[u8]) -> Result<Event, EventError> {
    use quick_xml::events::Event as X;
    let mut reader = quick_xml::Reader::from_reader(body);
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut path: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut out_body = None;
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf).map_err(|e| EventError::Xml(e.to_string()))? {
            X::Start(e) => {
                path.push(String::from_utf8_lossy(e.name().as_ref()).into_owned());
                text.clear();
            }
            X::Text(t) => {
                let s = t.decode().map_err(|e| EventError::Xml(e.to_string()))?;
                let s = quick_xml::escape::unescape(&s).map_err(|e| EventError::Xml(e.to_string()))?;
                text.push_str(&s);
            }
            X::GeneralRef(r) => {
                let name = r.decode().map_err(|e| EventError::Xml(e.to_string()))?;
                let entity = format!("&{name};");
                let s = quick_xml::escape::unescape(&entity).map_err(|e| EventError::Xml(e.to_string()))?;
                text.push_str(&s);
            }
            X::CData(c) => text.push_str(&String::from_utf8_lossy(&c)),
            X::End(_) => {
                let name = path.pop().unwrap_or_default();
                match (path.len(), path.last().map(String::as_str)) {
                    (2, Some("headers")) => pairs.push((name, std::mem::take(&mut text))),
                    (1, Some("event")) if name == "body" => out_body = Some(std::mem::take(&mut text)),
                    (1, Some("event")) if name == "Content-Length" => pairs.push((name, std::mem::take(&mut text))),
                    _ => text.clear(),
                }
            }
            X::Empty(e) if path.len() == 2 && path.last().map(String::as_str) == Some("headers") => {
                pairs.push((String::from_utf8_lossy(e.name().as_ref()).into_owned(), String::new()));
            }
            X::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if pairs.is_empty() {
        return Err(EventError::Xml("no <event><headers> found".into()));
    }
    // The pretty-printer indents the closing tag inside <body>; the declared length is
    // the body (switch_event_xmlize, 1892–1965).
    if let (Some(b), Some((_, n))) = (out_body.as_mut(), pairs.iter().find(|(k, _)| k == "Content-Length")) {
        if let Ok(n) = n.parse::<usize>() {
            if n < b.len() && b.is_char_boundary(n) {
                b.truncate(n);
            }
        }
    }
    // Header values are percent-encoded inside the XML.
    Ok(Event { headers: Headers::from_pairs(pairs, true), body: out_body.map(Bytes::from) })
}

/// What is kept of the outbound `connect` reply, and the one list of it. FreeSWITCH sends
/// every channel variable there (about 160 headers, 6–8 KB, more with a long SIP INVITE);
/// a call holds its channel data as long as it is up, so keeping all of it cost every live
/// call the reply's whole read buffer and its index. Each name is here because something
/// reads it:
/// - the session ([`crate::esl::OutboundSession::start`]): `Unique-ID` (or
///   `Channel-Unique-ID`), `Control`, `Socket-Mode`;
/// - the accessors below, for the router and the call's log line: the caller's number and
///   name, the number dialed and the dialplan context, each under `Caller-` and `Channel-`;
/// - the router (src/call/route.rs): the profile the call came in on, a phone's caller id
///   from the directory, the domain a phone called from;
/// - the real-switch test's record of what the switch hands over (tests/real_switch.rs,
///   `scripted_call`): the call's direction and state, channel name, codec, and two
///   variables the wired dialplan sets.
///
/// A lookup of a name not listed is a bug (it would find nothing in production): debug
/// builds, and so every test, panic on it. Names match in any case, as header names do.
pub const CHANNEL_DATA_KEPT: &[&str] = &[
    "Unique-ID",
    "Channel-Unique-ID",
    "Control",
    "Socket-Mode",
    "Caller-Caller-ID-Number",
    "Channel-Caller-ID-Number",
    "Caller-Caller-ID-Name",
    "Channel-Caller-ID-Name",
    "Caller-Destination-Number",
    "Channel-Destination-Number",
    "Caller-Context",
    "Channel-Context",
    "variable_sofia_profile_name",
    "variable_effective_caller_id_number",
    "variable_effective_caller_id_name",
    "variable_domain_name",
    "variable_sip_from_host",
    "Call-Direction",
    "Answer-State",
    "Channel-Name",
    "Channel-Read-Codec-Name",
    "variable_hangup_after_bridge",
    "variable_socket_resume",
    // A fax job's call: which try it is (see fax_jobs).
    "variable_sb_fax_job",
    "variable_sb_fax_token",
    "variable_sb_fax_trunk",
];

fn is_kept(name: &[u8]) -> bool {
    CHANNEL_DATA_KEPT.iter().any(|k| k.as_bytes().eq_ignore_ascii_case(name))
}

/// The outbound `connect` reply's [`CHANNEL_DATA_KEPT`] headers: the controlled channel's
/// data, percent-decoded on lookup.
#[derive(Clone, Debug)]
pub struct ChannelData {
    headers: Headers,
}

impl ChannelData {
    /// Keeps a connect reply's listed headers, in a buffer of their own.
    pub fn from_reply(headers: &Headers) -> ChannelData {
        ChannelData { headers: headers.retain_copy(is_kept) }
    }

    /// How many headers were kept.
    pub fn len(&self) -> usize {
        self.headers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.headers.is_empty()
    }

    fn checked(name: &str) -> &str {
        debug_assert!(is_kept(name.as_bytes()), "channel data header {name:?} is read but not kept: add it to CHANNEL_DATA_KEPT");
        name
    }

    pub fn get(&self, name: &str) -> Option<Cow<'_, str>> {
        self.headers.get_str(Self::checked(name))
    }

    pub fn variable(&self, name: &str) -> Option<Cow<'_, str>> {
        self.headers.get_str(Self::checked(&format!("variable_{name}")))
    }

    pub fn unique_id(&self) -> Option<Cow<'_, str>> {
        self.get("Unique-ID").or_else(|| self.get("Channel-Unique-ID"))
    }

    /// `Control: full` or `single-channel` (without `full` in the dialplan's socket data).
    pub fn control(&self) -> Option<Cow<'_, str>> {
        self.get("Control")
    }

    /// `Socket-Mode: async` or `static`.
    pub fn socket_mode(&self) -> Option<Cow<'_, str>> {
        self.get("Socket-Mode")
    }

    pub fn caller_id_number(&self) -> Option<Cow<'_, str>> {
        self.get("Caller-Caller-ID-Number").or_else(|| self.get("Channel-Caller-ID-Number"))
    }

    pub fn caller_id_name(&self) -> Option<Cow<'_, str>> {
        self.get("Caller-Caller-ID-Name").or_else(|| self.get("Channel-Caller-ID-Name"))
    }

    pub fn destination_number(&self) -> Option<Cow<'_, str>> {
        self.get("Caller-Destination-Number").or_else(|| self.get("Channel-Destination-Number"))
    }

    pub fn context(&self) -> Option<Cow<'_, str>> {
        self.get("Caller-Context").or_else(|| self.get("Channel-Context"))
    }

    /// A header value as raw bytes (a Latin-1 caller name stays as it was sent).
    pub fn get_bytes(&self, name: &str) -> Option<Cow<'_, [u8]>> {
        self.headers.get(Self::checked(name))
    }
}

/// Text of a header value, lossy; shared by the decoders' users.
pub fn lossy(v: Cow<'_, [u8]>) -> String {
    bytes_to_str(v).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply() -> Headers {
        let block = "Event-Name: CHANNEL_DATA\nUnique-ID: 7f4de4bc-17d7-11dd-b7a0-db4edd065621\nCaller-Caller-ID-Name: Jane%20O%27Hara\n\
                     Caller-Destination-Number: 1002\nvariable_sip_h_X-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\nvariable_domain_name: acme.test\n\
                     Content-Type: command/reply\nReply-Text: %2BOK%0A\nSocket-Mode: async\nControl: full\n";
        Headers::parse(Bytes::from(block), true).unwrap()
    }

    #[test]
    fn channel_data_keeps_the_listed_headers_decoded_and_drops_the_rest() {
        let ch = ChannelData::from_reply(&reply());
        assert_eq!(ch.len(), 6, "Unique-ID, the name, the number dialed, domain_name, Socket-Mode, Control: {ch:?}");
        assert_eq!(ch.unique_id().as_deref(), Some("7f4de4bc-17d7-11dd-b7a0-db4edd065621"));
        assert_eq!(ch.caller_id_name().as_deref(), Some("Jane O'Hara"));
        assert_eq!(ch.destination_number().as_deref(), Some("1002"));
        assert_eq!(ch.variable("domain_name").as_deref(), Some("acme.test"));
        assert_eq!(ch.socket_mode().as_deref(), Some("async"));
        assert_eq!(ch.get("control").as_deref(), Some("full"), "names in any case");
        assert_eq!(ch.caller_id_number(), None);
    }

    /// A header read but not kept would read as missing in production: every test that
    /// takes a call down that path fails instead.
    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "add it to CHANNEL_DATA_KEPT")]
    fn reading_a_variable_that_is_not_kept_fails_in_tests() {
        let _ = ChannelData::from_reply(&reply()).variable("sip_h_X-Long");
    }
}
