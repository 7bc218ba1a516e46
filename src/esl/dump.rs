//! Frames as one JSON object per line, for operators reading a captured conversation
//! (`switchboard esl decode`). Values are percent-decoded where FreeSWITCH encodes them;
//! bytes that are not UTF-8 print as U+FFFD.

use std::io::{Read, Write};

use bytes::BytesMut;
use serde_json::{json, Value};
use tokio_util::codec::Decoder;

use super::codec::{CodecError, EslCodec};
use super::event::Event;
use super::frame::{ContentType, Frame, Headers};

fn pairs(h: &Headers) -> Value {
    Value::Array(h.iter().map(|(n, v)| json!([String::from_utf8_lossy(n), String::from_utf8_lossy(&v)])).collect())
}

/// The JSON object of one frame.
pub fn frame_json(frame: &Frame) -> Value {
    let event = match frame.content_type {
        ContentType::EventPlain | ContentType::EventJson => match Event::from_frame(frame) {
            Ok(Some(ev)) => json!({"headers": pairs(&ev.headers), "body": ev.body_str()}),
            Ok(None) => Value::Null,
            Err(e) => json!({"error": e.to_string()}),
        },
        _ => Value::Null,
    };
    json!({
        "offset": frame.offset,
        "content_type": frame.content_type.as_str(),
        "headers": pairs(&frame.headers),
        "body": frame.body_str(),
        "event": event,
    })
}

/// Reads `input` to the end, writing a line per frame. On malformed input the frames read so
/// far are written, then the error (naming the byte offset) is returned.
pub fn decode_stream(mut input: impl Read, mut out: impl Write) -> Result<u64, DumpError> {
    let mut codec = EslCodec::new();
    let mut buf = BytesMut::with_capacity(64 * 1024);
    let mut chunk = vec![0u8; 64 * 1024];
    let mut frames = 0u64;
    loop {
        let n = input.read(&mut chunk).map_err(DumpError::Read)?;
        if n > 0 {
            buf.extend_from_slice(&chunk[..n]);
        }
        loop {
            let next = if n == 0 { codec.decode_eof(&mut buf) } else { codec.decode(&mut buf) };
            match next {
                Ok(Some(frame)) => {
                    frames += 1;
                    writeln!(out, "{}", frame_json(&frame)).map_err(DumpError::Write)?;
                }
                Ok(None) => break,
                Err(CodecError::Io(e)) => return Err(DumpError::Truncated { offset: codec.position(), detail: e.to_string() }),
                Err(e) => return Err(DumpError::Malformed(e)),
            }
        }
        if n == 0 {
            return Ok(frames);
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    #[error("reading input: {0}")]
    Read(std::io::Error),
    #[error("writing output: {0}")]
    Write(std::io::Error),
    #[error("{0}")]
    Malformed(CodecError),
    #[error("input ends mid-frame at byte {offset}: {detail}")]
    Truncated { offset: u64, detail: String },
}
