//! The switch's half of the wire: reading commands the way mod_event_socket reads them and
//! writing the exact frames it writes. The simulator speaks through this module, so every
//! byte it sends is decided here, next to the citation of the FreeSWITCH line it copies.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio_util::codec::Decoder;

use super::command::EventFormat;

/// `SWITCH_URL_UNSAFE` (switch_utils.h:47).
const URL_UNSAFE: &[u8] = b"\r\n #%&+:;<=>?@[\\]^`{|}\"";
const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Which bytes `switch_url_encode` escapes: below 0x20, above 0x7E, and [`URL_UNSAFE`].
const ESCAPE: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = i < 0x20 || i > 0x7e;
        i += 1;
    }
    let mut j = 0;
    while j < URL_UNSAFE.len() {
        t[URL_UNSAFE[j] as usize] = true;
        j += 1;
    }
    t
};

/// `switch_url_encode_opt(.., double_encode = FALSE)` (switch_utils.c:3494–3542): bytes below
/// 0x20, above 0x7E and in [`URL_UNSAFE`] become `%XX` with uppercase hex — except a `%` that
/// is already followed by two *uppercase* hex digits, which is copied as is (the lossy quirk
/// of signalwire/freeswitch#85). Runs of safe bytes are copied whole: the simulator encodes
/// every header of every event with this.
pub fn url_encode_into(v: &[u8], out: &mut BytesMut) {
    let mut run = 0;
    for (i, &c) in v.iter().enumerate() {
        if !ESCAPE[c as usize] {
            continue;
        }
        out.put_slice(&v[run..i]);
        run = i + 1;
        if c == b'%' && i + 2 < v.len() && is_upper_hex(v[i + 1]) && is_upper_hex(v[i + 2]) {
            out.put_u8(c);
        } else {
            out.put_slice(&[b'%', HEX[(c >> 4) as usize], HEX[(c & 15) as usize]]);
        }
    }
    out.put_slice(&v[run..]);
}

fn is_upper_hex(c: u8) -> bool {
    c.is_ascii_digit() || (b'A'..=b'F').contains(&c)
}

pub fn url_encode(v: &str) -> String {
    let mut out = BytesMut::with_capacity(v.len() + 8);
    url_encode_into(v.as_bytes(), &mut out);
    String::from_utf8(out.to_vec()).expect("ascii")
}

/// Appends `Name: urlencode(value)\n`.
pub fn put_header(out: &mut BytesMut, name: &str, value: &str) {
    out.put_slice(name.as_bytes());
    out.put_slice(b": ");
    url_encode_into(value.as_bytes(), out);
    out.put_u8(b'\n');
}

/// An event's headers as `switch_event_serialize` writes them, without the trailing blank
/// line: the part of an event body that the simulator caches per channel.
pub fn serialize_plain_headers<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> BytesMut {
    let mut out = BytesMut::with_capacity(4096);
    for (n, v) in pairs {
        // An empty value serializes as `_undef_` (switch_event.c:1603).
        put_header(&mut out, n, if v.is_empty() { "_undef_" } else { v });
    }
    out
}

/// Finishes a plain event body: the inner Content-Length and body when there is one
/// (switch_event.c:1630), else the single extra `\n` that ends the block.
pub fn finish_plain_body(out: &mut BytesMut, body: Option<&str>) {
    match body {
        Some(b) if !b.is_empty() => {
            out.put_slice(format!("Content-Length: {}\n\n", b.len()).as_bytes());
            out.put_slice(b.as_bytes());
        }
        _ => out.put_u8(b'\n'),
    }
}

/// `switch_event_serialize_json` (switch_event.c:1819–1870): one unformatted object, every
/// value a string, arrays for `ARRAY::` values, duplicate keys kept, the body as `_body`.
pub fn serialize_json(pairs: &[(String, String)], body: Option<&str>) -> String {
    let mut out = String::with_capacity(pairs.len() * 40 + 64);
    out.push('{');
    let mut first = true;
    let mut push = |out: &mut String, k: &str, v: serde_json::Value| {
        if !first {
            out.push(',');
        }
        first = false;
        out.push_str(&serde_json::to_string(k).expect("string"));
        out.push(':');
        out.push_str(&v.to_string());
    };
    for (k, v) in pairs {
        let value = match v.strip_prefix("ARRAY::") {
            Some(rest) => serde_json::Value::Array(rest.split("|:").map(|s| serde_json::Value::String(s.into())).collect()),
            None => serde_json::Value::String(v.clone()),
        };
        push(&mut out, k, value);
    }
    if let Some(b) = body.filter(|b| !b.is_empty()) {
        push(&mut out, "Content-Length", serde_json::Value::String(b.len().to_string()));
        push(&mut out, "_body", serde_json::Value::String(b.into()));
    }
    out.push('}');
    out
}

/// `switch_event_xmlize` (switch_event.c:1892–1965): values percent-encoded, then
/// XML-escaped; two-space indentation.
pub fn serialize_xml(pairs: &[(String, String)], body: Option<&str>) -> String {
    let esc = |s: &str| quick_xml::escape::escape(s).into_owned();
    let mut out = String::from("<event>\n  <headers>\n");
    for (k, v) in pairs {
        out.push_str(&format!("    <{k}>{}</{k}>\n", esc(&url_encode(v))));
    }
    out.push_str("  </headers>\n");
    if let Some(b) = body.filter(|b| !b.is_empty()) {
        out.push_str(&format!("  <Content-Length>{}</Content-Length>\n  <body>{}</body>\n", b.len(), esc(b)));
    }
    out.push_str("</event>");
    out
}

/// An event frame around a serialized body (mod_event_socket.c:1449: Content-Length first).
pub fn event_frame(format: EventFormat, body: &[u8], out: &mut BytesMut) {
    out.reserve(body.len() + 64);
    out.put_slice(format!("Content-Length: {}\nContent-Type: text/event-{}\n\n", body.len(), format.as_str()).as_bytes());
    out.put_slice(body);
}

/// `Content-Type: command/reply\nReply-Text: <text>\n\n` (mod_event_socket.c:2785). FreeSWITCH
/// builds replies in `char reply[512]` (2641), so longer text is cut to 511 bytes.
pub fn command_reply(text: &str, out: &mut BytesMut) {
    let mut end = text.len().min(511);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    out.put_slice(b"Content-Type: command/reply\nReply-Text: ");
    out.put_slice(&text.as_bytes()[..end]);
    out.put_slice(b"\n\n");
}

/// The bgapi reply carries the Job-UUID twice (mod_event_socket.c:2382).
pub fn bgapi_reply(job_uuid: &str, out: &mut BytesMut) {
    out.put_slice(format!("Content-Type: command/reply\nReply-Text: +OK Job-UUID: {job_uuid}\nJob-UUID: {job_uuid}\n\n").as_bytes());
}

/// `api/response`; an empty result becomes `-ERR no reply\n` (mod_event_socket.c:1595–1599).
pub fn api_response(body: &str, out: &mut BytesMut) {
    let body = if body.is_empty() { "-ERR no reply\n" } else { body };
    out.put_slice(format!("Content-Type: api/response\nContent-Length: {}\n\n", body.len()).as_bytes());
    out.put_slice(body.as_bytes());
}

pub fn auth_request(out: &mut BytesMut) {
    out.put_slice(b"Content-Type: auth/request\n\n");
}

pub const GOODBYE: &str = "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n";

/// The final notice of an outbound socket (mod_event_socket.c:644–646), or of an inbound one
/// when `session` is None (648).
pub fn disconnect_notice(session: Option<&str>, out: &mut BytesMut) {
    out.put_slice(b"Content-Type: text/disconnect-notice\n");
    if let Some(uuid) = session {
        out.put_slice(format!("Controlled-Session-UUID: {uuid}\nContent-Disposition: disconnect\n").as_bytes());
    }
    out.put_slice(format!("Content-Length: {}\n\n{GOODBYE}", GOODBYE.len()).as_bytes());
}

/// The linger notice (mod_event_socket.c:1481–1487); `Channel-Name` is written raw, not
/// encoded, unlike the same value inside events.
pub fn linger_notice(uuid: &str, channel_name: &str, linger_secs: i64, out: &mut BytesMut) {
    out.put_slice(
        format!(
            "Content-Type: text/disconnect-notice\nControlled-Session-UUID: {uuid}\nContent-Disposition: linger\nChannel-Name: {channel_name}\nLinger-Time: {linger_secs}\nContent-Length: 0\n\n"
        )
        .as_bytes(),
    );
}

/// A command as mod_event_socket's `read_packet` sees it: the first line, then headers
/// (`Name: value`, value cut at the first CR/LF, not URL-decoded), then an optional body of
/// exactly `Content-Length` bytes (mod_event_socket.c:1276–1355).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawCommand {
    pub line: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Bytes>,
}

impl RawCommand {
    /// A header by name, any case (switch_event_get_header).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CommandReadError {
    #[error("command header block over {0} bytes")]
    TooLong(usize),
    #[error("command Content-Length {0:?} out of range")]
    BadContentLength(String),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

/// Reads commands as FreeSWITCH does: leading CR/LF skipped, a command ends at two `\n`
/// with only `\r` between them.
#[derive(Default)]
pub struct CommandReader {
    scanned: usize,
    pending: Option<(RawCommand, usize)>,
}

/// `max_len = 10485760` (mod_event_socket.c:1221).
const MAX_COMMAND_BLOCK: usize = 10 * 1024 * 1024;
/// `MAX_CONTENT_LENGTH` (mod_event_socket.c:38).
const MAX_COMMAND_BODY: usize = 16 * 1024 * 1024;

impl CommandReader {
    /// Whether part of a command sits in the buffer. FreeSWITCH writes events only while no
    /// partial command is buffered (`if (!*mbuf)`, mod_event_socket.c:1375).
    pub fn is_mid_command(&self, buf: &BytesMut) -> bool {
        self.pending.is_some() || buf.iter().any(|&b| b != b'\r' && b != b'\n')
    }
}

impl Decoder for CommandReader {
    type Item = RawCommand;
    type Error = CommandReadError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<RawCommand>, CommandReadError> {
        if self.pending.is_none() {
            let skip = src.iter().take_while(|&&b| b == b'\r' || b == b'\n').count();
            src.advance(skip);
            if skip > 0 {
                self.scanned = 0;
            }
            // End: "\n" followed by any number of "\r" and another "\n" (crcount logic).
            let mut end = None;
            let mut i = self.scanned;
            while i < src.len() {
                if src[i] == b'\n' {
                    let mut j = i + 1;
                    while j < src.len() && src[j] == b'\r' {
                        j += 1;
                    }
                    if j < src.len() && src[j] == b'\n' {
                        end = Some((i, j + 1));
                        break;
                    }
                    if j == src.len() {
                        break;
                    }
                }
                i += 1;
            }
            let Some((stop, consumed)) = end else {
                if src.len() > MAX_COMMAND_BLOCK {
                    return Err(CommandReadError::TooLong(MAX_COMMAND_BLOCK));
                }
                self.scanned = i;
                return Ok(None);
            };
            self.scanned = 0;
            let block = src.split_to(consumed);
            let text = String::from_utf8_lossy(&block[..stop]);
            let mut lines = text.split('\n').map(|l| l.trim_end_matches('\r'));
            let line = lines.next().unwrap_or_default().to_string();
            let mut headers = Vec::new();
            for l in lines {
                if let Some((n, v)) = l.split_once(':') {
                    headers.push((n.to_string(), v.trim_start_matches(' ').to_string()));
                }
            }
            let cmd = RawCommand { line, headers, body: None };
            let len = match cmd.header("Content-Length") {
                None => 0,
                Some(v) => match v.trim().parse::<usize>() {
                    Ok(n) if n <= MAX_COMMAND_BODY => n,
                    _ => return Err(CommandReadError::BadContentLength(v.to_string())),
                },
            };
            self.pending = Some((cmd, len));
        }
        let len = self.pending.as_ref().map_or(0, |p| p.1);
        if src.len() < len {
            return Ok(None);
        }
        let (mut cmd, len) = self.pending.take().expect("pending");
        if len > 0 {
            cmd.body = Some(src.split_to(len).freeze());
        }
        Ok(Some(cmd))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_encode_matches_switch_url_encode() {
        assert_eq!(url_encode("+OK\n"), "%2BOK%0A");
        assert_eq!(url_encode("1001@10.0.0.1"), "1001%4010.0.0.1");
        assert_eq!(url_encode("Tue, 06 Jan"), "Tue,%2006%20Jan");
        assert_eq!(url_encode("#"), "%23");
        assert_eq!(url_encode("a'b(c)*!$,-./_~"), "a'b(c)*!$,-./_~");
        // The double-encode quirk: `%41` survives, `%be` does not.
        assert_eq!(url_encode("%41%be%"), "%41%25be%25");
        assert_eq!(url_encode("é"), "%C3%A9");
    }

    #[test]
    fn reads_commands_like_read_packet() {
        let mut r = CommandReader::default();
        let mut buf = BytesMut::from(
            &b"\r\n\nsendmsg\ncall-command: execute\nexecute-app-arg: a:b\n\r\napi status\n\nbgapi x\nContent-Length: 3\n\nabcexit"[..],
        );
        let c = r.decode(&mut buf).unwrap().unwrap();
        assert_eq!(c.line, "sendmsg");
        assert_eq!(c.header("Execute-App-Arg"), Some("a:b"));
        assert_eq!(r.decode(&mut buf).unwrap().unwrap().line, "api status");
        let c = r.decode(&mut buf).unwrap().unwrap();
        assert_eq!(c.body.as_deref(), Some(&b"abc"[..]));
        assert!(r.decode(&mut buf).unwrap().is_none());
        assert!(r.is_mid_command(&buf));
    }
}
