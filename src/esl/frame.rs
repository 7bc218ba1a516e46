//! The ESL frame grammar, FreeSWITCH → client. Pure: no I/O, no PBX knowledge.
//!
//! ```text
//! frame        = header-block [ body ]
//! header-block = *( name ":" *( " " / "\t" ) value "\n" ) "\n"
//! body         = exactly Content-Length bytes, present only when that header is
//! ```
//!
//! FreeSWITCH writes only `\n` (mod_event_socket.c:1449, 2785; no corpus file holds a `\r`).
//! Header order is free (`Content-Type` is header 161 of 164 in a connect reply), names are
//! matched case-insensitively (switch_event_get_header uses strcasecmp), duplicates are kept
//! in order (CHANNEL_HANGUP_COMPLETE carries `Hangup-Cause` twice, CODEC carries
//! `Channel-Read-Codec-Name` and `channel-read-codec-name`), and a value keeps every `:`
//! after the first (`Reply-Text: +OK Job-UUID: …`). See docs/esl-protocol.md.
//!
//! Values are kept as the raw bytes of the wire; where FreeSWITCH percent-encodes them
//! (event-plain bodies and the outbound `connect` reply, switch_event_serialize with
//! encode=TRUE) the [`Headers`] are marked encoded and decode lazily on lookup, so a frame
//! nobody reads costs one scan.

use std::borrow::Cow;
use std::fmt;

use bytes::Bytes;
use memchr::memmem;
use nom::bytes::complete::{take_till, take_till1, take_while};
use nom::character::complete::char;
use nom::combinator::opt;
use nom::{IResult, Parser};

/// libesl rejects a Content-Length above this (`ESL_MAX_CONTENT_LENGTH`, esl.h:220), and so does
/// mod_event_socket for commands (`MAX_CONTENT_LENGTH`, mod_event_socket.c:38).
pub const DEFAULT_MAX_BODY: usize = 16 * 1024 * 1024;
/// A connect reply is one header block with no Content-Length (6.5–8 KB seen, unbounded in
/// principle: every channel variable). libesl's 64 KiB cap truncates big ones
/// (signalwire/freeswitch#624); we allow far more.
pub const DEFAULT_MAX_HEADER_BLOCK: usize = 4 * 1024 * 1024;

/// What a frame is, from its `Content-Type`. An unknown type is a protocol error: a client
/// that silently dropped one would lose the reply it is waiting for and desynchronise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContentType {
    AuthRequest,
    CommandReply,
    ApiResponse,
    EventPlain,
    EventJson,
    EventXml,
    DisconnectNotice,
    RudeRejection,
    LogData,
}

impl ContentType {
    pub fn parse(raw: &[u8]) -> Option<ContentType> {
        Some(match raw {
            b"auth/request" => ContentType::AuthRequest,
            b"command/reply" => ContentType::CommandReply,
            b"api/response" => ContentType::ApiResponse,
            b"text/event-plain" => ContentType::EventPlain,
            b"text/event-json" => ContentType::EventJson,
            b"text/event-xml" => ContentType::EventXml,
            b"text/disconnect-notice" => ContentType::DisconnectNotice,
            b"text/rude-rejection" => ContentType::RudeRejection,
            b"log/data" => ContentType::LogData,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ContentType::AuthRequest => "auth/request",
            ContentType::CommandReply => "command/reply",
            ContentType::ApiResponse => "api/response",
            ContentType::EventPlain => "text/event-plain",
            ContentType::EventJson => "text/event-json",
            ContentType::EventXml => "text/event-xml",
            ContentType::DisconnectNotice => "text/disconnect-notice",
            ContentType::RudeRejection => "text/rude-rejection",
            ContentType::LogData => "log/data",
        }
    }

    pub fn is_event(self) -> bool {
        matches!(self, ContentType::EventPlain | ContentType::EventJson | ContentType::EventXml)
    }
}

impl fmt::Display for ContentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why bytes are not a frame. Each names what was wrong and, for sizes, the limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("header block exceeds {limit} bytes without its closing blank line ({size} bytes buffered)")]
    HeaderBlockTooLarge { size: usize, limit: usize },
    #[error("Content-Length {length} exceeds the {limit}-byte limit")]
    BodyTooLarge { length: u64, limit: usize },
    #[error("Content-Length {value:?} is not a byte count")]
    BadContentLength { value: String },
    #[error("header line {line} has no ':' ({text:?})")]
    MalformedHeader { line: usize, text: String },
    #[error("frame has no Content-Type header")]
    MissingContentType,
    #[error("unknown Content-Type {0:?}")]
    UnknownContentType(String),
}

/// One byte range of a header's name and value inside the block's buffer.
#[derive(Debug, Clone, Copy)]
struct Span {
    name: (u32, u32),
    value: (u32, u32),
}

/// An ordered multimap of header lines over one shared buffer.
#[derive(Clone)]
pub struct Headers {
    buf: Bytes,
    spans: Vec<Span>,
    encoded: bool,
}

impl Headers {
    /// Parses a header block: the bytes of its lines, each ending in `\n` (the last one may
    /// lack it), without the closing blank line.
    pub fn parse(block: Bytes, encoded: bool) -> Result<Headers, FrameError> {
        let spans = index_block(&block)?;
        Ok(Headers { buf: block, spans, encoded })
    }

    /// Builds headers from owned pairs (JSON and XML events, tests). Values are stored as
    /// given; `encoded` says whether lookups percent-decode them.
    pub fn from_pairs<N: AsRef<[u8]>, V: AsRef<[u8]>>(pairs: impl IntoIterator<Item = (N, V)>, encoded: bool) -> Headers {
        let mut buf = Vec::new();
        let mut spans = Vec::new();
        for (n, v) in pairs {
            let ns = buf.len() as u32;
            buf.extend_from_slice(n.as_ref());
            let vs = buf.len() as u32;
            buf.extend_from_slice(v.as_ref());
            spans.push(Span { name: (ns, vs), value: (vs, buf.len() as u32) });
        }
        Headers { buf: Bytes::from(buf), spans, encoded }
    }

    /// Moves the headers into an allocation of their own (from a slice of a larger one).
    pub(crate) fn detach(&mut self) {
        self.buf = Bytes::copy_from_slice(&self.buf);
    }

    /// Whether values are percent-encoded on the wire (and decoded by lookups).
    pub fn is_encoded(&self) -> bool {
        self.encoded
    }

    pub(crate) fn set_encoded(&mut self, encoded: bool) {
        self.encoded = encoded;
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    fn name_of(&self, s: &Span) -> &[u8] {
        &self.buf[s.name.0 as usize..s.name.1 as usize]
    }

    fn raw_of(&self, s: &Span) -> &[u8] {
        &self.buf[s.value.0 as usize..s.value.1 as usize]
    }

    fn value_of(&self, s: &Span) -> Cow<'_, [u8]> {
        let raw = self.raw_of(s);
        if self.encoded {
            percent_decode(raw)
        } else {
            Cow::Borrowed(raw)
        }
    }

    /// The first value under `name` (any case), decoded.
    pub fn get(&self, name: &str) -> Option<Cow<'_, [u8]>> {
        self.find(name).map(|s| self.value_of(s))
    }

    /// The first value under `name` as text; bytes that are not UTF-8 become U+FFFD.
    pub fn get_str(&self, name: &str) -> Option<Cow<'_, str>> {
        self.get(name).map(bytes_to_str)
    }

    /// The value exactly as it was on the wire, before percent-decoding.
    pub fn get_raw(&self, name: &str) -> Option<&[u8]> {
        self.find(name).map(|s| self.raw_of(s))
    }

    /// Every value under `name` (any case), in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = Cow<'a, [u8]>> + 'a {
        self.spans.iter().filter(move |s| self.name_of(s).eq_ignore_ascii_case(name.as_bytes())).map(move |s| self.value_of(s))
    }

    /// A FreeSWITCH array header (`ARRAY::a|:b|:c`, switch_event.c:1141–1176) as its items;
    /// a plain value is a one-item array.
    pub fn get_array(&self, name: &str) -> Option<Vec<Vec<u8>>> {
        let v = self.get(name)?;
        Some(split_array(&v))
    }

    /// The headers whose names `keep` accepts, in order, copied into a buffer of their own
    /// sized to them: what is kept of a large block (a connect reply) no longer holds the
    /// block, or the read buffer it was cut from. Values stay as they were on the wire.
    pub fn retain_copy(&self, keep: impl Fn(&[u8]) -> bool) -> Headers {
        let kept: Vec<&Span> = self.spans.iter().filter(|s| keep(self.name_of(s))).collect();
        let size = kept.iter().map(|s| (s.name.1 - s.name.0 + s.value.1 - s.value.0) as usize).sum();
        let mut buf = Vec::with_capacity(size);
        let mut spans = Vec::with_capacity(kept.len());
        for s in kept {
            let ns = buf.len() as u32;
            buf.extend_from_slice(self.name_of(s));
            let vs = buf.len() as u32;
            buf.extend_from_slice(self.raw_of(s));
            spans.push(Span { name: (ns, vs), value: (vs, buf.len() as u32) });
        }
        Headers { buf: Bytes::from(buf), spans, encoded: self.encoded }
    }

    /// Name and decoded value of every header, in wire order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], Cow<'_, [u8]>)> + '_ {
        self.spans.iter().map(move |s| (self.name_of(s), self.value_of(s)))
    }

    fn find(&self, name: &str) -> Option<&Span> {
        let name = name.as_bytes();
        self.spans.iter().find(|s| {
            let n = self.name_of(s);
            n.len() == name.len() && n.eq_ignore_ascii_case(name)
        })
    }

    /// The `Content-Length` header as a byte count, checked against `limit`.
    pub fn content_length(&self, limit: usize) -> Result<Option<usize>, FrameError> {
        let Some(raw) = self.find("Content-Length").map(|s| self.raw_of(s)) else {
            return Ok(None);
        };
        let text = std::str::from_utf8(raw).ok().map(str::trim);
        match text.and_then(|t| t.parse::<u64>().ok()) {
            Some(n) if n > limit as u64 => Err(FrameError::BodyTooLarge { length: n, limit }),
            Some(n) => Ok(Some(n as usize)),
            None => Err(FrameError::BadContentLength { value: String::from_utf8_lossy(raw).into_owned() }),
        }
    }
}

impl fmt::Debug for Headers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_list();
        for (n, v) in self.iter() {
            m.entry(&(String::from_utf8_lossy(n), String::from_utf8_lossy(&v)));
        }
        m.finish()
    }
}

/// Splits an `ARRAY::` value on `|:` (esl.c:1316); anything else is one item.
pub fn split_array(v: &[u8]) -> Vec<Vec<u8>> {
    match v.strip_prefix(b"ARRAY::") {
        None => vec![v.to_vec()],
        Some(rest) => {
            let mut out = Vec::new();
            let mut start = 0;
            for pos in memmem::find_iter(rest, b"|:") {
                out.push(rest[start..pos].to_vec());
                start = pos + 2;
            }
            out.push(rest[start..].to_vec());
            out
        }
    }
}

/// Text from bytes that may not be UTF-8 (a Latin-1 caller name after decoding): lossy, as
/// freeswitch-esl-tokio learned to do after strict decoding crashed in production.
pub fn bytes_to_str(v: Cow<'_, [u8]>) -> Cow<'_, str> {
    match v {
        Cow::Borrowed(b) => String::from_utf8_lossy(b),
        Cow::Owned(b) => match String::from_utf8(b) {
            Ok(s) => Cow::Owned(s),
            Err(e) => Cow::Owned(String::from_utf8_lossy(e.as_bytes()).into_owned()),
        },
    }
}

/// One header line: `Name: value\n`. The value runs to the end of the line, so every `:`
/// after the first belongs to it (mod_event_socket.c:1290–1312 splits the same way, and
/// esl.c:1306–1308 strips spaces and tabs after the colon).
fn header_line(i: &[u8]) -> IResult<&[u8], (&[u8], &[u8])> {
    let (i, name) = take_till1(|c| c == b':' || c == b'\n').parse(i)?;
    let (i, _) = char(':').parse(i)?;
    let (i, _) = take_while(|c| c == b' ' || c == b'\t').parse(i)?;
    let (i, value) = take_till(|c| c == b'\n').parse(i)?;
    let (i, _) = opt(char('\n')).parse(i)?;
    Ok((i, (name, value)))
}

fn index_block(block: &[u8]) -> Result<Vec<Span>, FrameError> {
    let base = block.as_ptr() as usize;
    let off = |s: &[u8]| (s.as_ptr() as usize - base) as u32;
    // A connect reply has ~160 headers, a channel event ~200: one allocation for most.
    let mut spans = Vec::with_capacity(block.len() / 40 + 4);
    let mut rest = block;
    let mut line = 1;
    while !rest.is_empty() {
        match header_line(rest) {
            Ok((next, (name, mut value))) => {
                // Captures that went through a CRLF tool: the `\r` is not part of the value.
                if let [head @ .., b'\r'] = value {
                    value = head;
                }
                spans.push(Span { name: (off(name), off(name) + name.len() as u32), value: (off(value), off(value) + value.len() as u32) });
                rest = next;
            }
            Err(_) => {
                let end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
                let text = String::from_utf8_lossy(&rest[..end.min(80)]).into_owned();
                return Err(FrameError::MalformedHeader { line, text });
            }
        }
        line += 1;
    }
    Ok(spans)
}

/// Where the header block that starts at `buf[0]` ends: the index of the `\n` of its blank
/// line, searching from `from` (a resumable scan: bytes already searched are not searched
/// again when more arrive, so a 1 MiB connect reply read a byte at a time stays linear).
pub fn find_block_end(buf: &[u8], from: usize) -> Option<usize> {
    if buf.first() == Some(&b'\n') {
        return Some(0);
    }
    let start = from.saturating_sub(1);
    memmem::find(&buf[start..], b"\n\n").map(|p| start + p + 1)
}

/// `%XX` with hex digits in either case becomes the byte; a malformed `%` stays as it is and
/// `+` is never a space (switch_url_decode, switch_utils.c:3544–3561; esl_url_decode).
pub fn percent_decode(v: &[u8]) -> Cow<'_, [u8]> {
    let Some(first) = memchr::memchr(b'%', v) else {
        return Cow::Borrowed(v);
    };
    let mut out = Vec::with_capacity(v.len());
    out.extend_from_slice(&v[..first]);
    let mut i = first;
    while i < v.len() {
        let c = v[i];
        if c == b'%' && i + 2 < v.len() {
            if let (Some(h), Some(l)) = (hex(v[i + 1]), hex(v[i + 2])) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    Cow::Owned(out)
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// A command/reply whose header block is a whole serialized event: the outbound `connect`
/// reply (mod_event_socket.c:2025–2046), whose every value is percent-encoded.
pub fn is_serialized_event(content_type: ContentType, headers: &Headers) -> bool {
    content_type == ContentType::CommandReply && headers.get_raw("Event-Name").is_some()
}

/// A whole frame: its headers, its body when it has one, and where it began in the stream.
#[derive(Clone, Debug)]
pub struct Frame {
    pub content_type: ContentType,
    pub headers: Headers,
    pub body: Option<Bytes>,
    /// Byte offset of the frame's first byte in the connection's stream.
    pub offset: u64,
}

impl Frame {
    /// `Reply-Text` of a command/reply, decoded (a connect reply encodes it as `%2BOK%0A`).
    pub fn reply_text(&self) -> Option<Cow<'_, str>> {
        self.headers.get_str("Reply-Text")
    }

    /// Whether a command/reply or api/response says `+OK`.
    pub fn is_ok(&self) -> bool {
        match self.content_type {
            ContentType::ApiResponse => self.body.as_deref().is_some_and(|b| b.starts_with(b"+OK")),
            _ => self.reply_text().is_some_and(|t| t.starts_with("+OK")),
        }
    }

    /// The body as text (lossy).
    pub fn body_str(&self) -> Option<Cow<'_, str>> {
        self.body.as_deref().map(String::from_utf8_lossy)
    }

    /// The outbound `connect` reply: a whole CHANNEL_DATA event serialized as the header
    /// block of a command/reply (mod_event_socket.c:2025–2046).
    pub fn is_channel_data(&self) -> bool {
        is_serialized_event(self.content_type, &self.headers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_hex_in_either_case_and_keeps_malformed_percent() {
        assert_eq!(&*percent_decode(b"%2BOK%0A"), b"+OK\n");
        assert_eq!(&*percent_decode(b"a%2bb"), b"a+b");
        assert_eq!(&*percent_decode(b"100%"), b"100%");
        assert_eq!(&*percent_decode(b"%zz%4"), b"%zz%4");
        assert_eq!(&*percent_decode(b"a+b"), b"a+b");
        assert_eq!(&*percent_decode(b"%E9t%E9"), b"\xe9t\xe9");
    }

    #[test]
    fn keeps_colons_duplicates_and_case() {
        let h = Headers::parse(Bytes::from_static(b"Reply-Text: +OK Job-UUID: 1-2\nHangup-Cause: A\nhangup-cause: B\nX:\tv\n"), false).unwrap();
        assert_eq!(h.get_str("reply-text").unwrap(), "+OK Job-UUID: 1-2");
        assert_eq!(h.get_all("HANGUP-CAUSE").collect::<Vec<_>>(), vec![Cow::Borrowed(&b"A"[..]), Cow::Borrowed(&b"B"[..])]);
        assert_eq!(h.get_str("x").unwrap(), "v");
        assert_eq!(h.len(), 4);
    }

    #[test]
    fn a_line_without_colon_is_an_error() {
        let e = Headers::parse(Bytes::from_static(b"A: 1\ngarbage\n"), false).unwrap_err();
        assert!(matches!(e, FrameError::MalformedHeader { line: 2, .. }), "{e}");
    }

    #[test]
    fn splits_arrays() {
        assert_eq!(split_array(b"ARRAY::3|:3"), vec![b"3".to_vec(), b"3".to_vec()]);
        assert_eq!(split_array(b"plain"), vec![b"plain".to_vec()]);
    }

    #[test]
    fn content_length_is_checked() {
        let h = Headers::parse(Bytes::from_static(b"Content-Length: 20000000\n"), false).unwrap();
        assert_eq!(h.content_length(DEFAULT_MAX_BODY), Err(FrameError::BodyTooLarge { length: 20000000, limit: DEFAULT_MAX_BODY }));
        let h = Headers::parse(Bytes::from_static(b"Content-Length: -1\n"), false).unwrap();
        assert!(matches!(h.content_length(DEFAULT_MAX_BODY), Err(FrameError::BadContentLength { .. })));
    }
}
