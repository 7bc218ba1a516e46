//! tokio-util codec over [`frame`](super::frame): "not enough bytes yet" is `Ok(None)`, never
//! an error. Decodes FreeSWITCH → client frames and encodes client → FreeSWITCH commands.

use bytes::{Buf, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use super::command::{Command, CommandError};
use super::frame::{find_block_end, is_serialized_event, ContentType, Frame, FrameError, Headers, DEFAULT_MAX_BODY, DEFAULT_MAX_HEADER_BLOCK};

/// Errors on an ESL connection: the bytes were not a frame, or the socket failed.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("malformed frame at byte {offset}: {error}")]
    Frame { offset: u64, error: FrameError },
    #[error(transparent)]
    Command(#[from] CommandError),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

/// A header block whose body has not fully arrived yet.
struct Pending {
    headers: Headers,
    content_type: ContentType,
    body_len: usize,
    offset: u64,
}

pub struct EslCodec {
    max_header_block: usize,
    max_body: usize,
    /// How far the current header block has been searched for its end.
    scanned: usize,
    pending: Option<Pending>,
    /// Bytes consumed from the stream so far: the next frame's offset.
    consumed: u64,
}

impl Default for EslCodec {
    fn default() -> Self {
        EslCodec::new()
    }
}

impl EslCodec {
    pub fn new() -> EslCodec {
        EslCodec::with_limits(DEFAULT_MAX_HEADER_BLOCK, DEFAULT_MAX_BODY)
    }

    pub fn with_limits(max_header_block: usize, max_body: usize) -> EslCodec {
        EslCodec { max_header_block, max_body, scanned: 0, pending: None, consumed: 0 }
    }

    /// Offset in the stream of the next byte the codec will look at.
    pub fn position(&self) -> u64 {
        self.consumed
    }

    fn fail(&self, offset: u64, error: FrameError) -> CodecError {
        CodecError::Frame { offset, error }
    }
}

impl Decoder for EslCodec {
    type Item = Frame;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, CodecError> {
        if self.pending.is_none() {
            // FreeSWITCH skips stray newlines before a command (mod_event_socket.c:1270); a
            // capture may hold one before a frame (the fsock corpus file starts with one).
            while self.scanned == 0 && src.first() == Some(&b'\n') {
                src.advance(1);
                self.consumed += 1;
            }
            if src.is_empty() {
                return Ok(None);
            }
            let Some(end) = find_block_end(src, self.scanned) else {
                if src.len() > self.max_header_block {
                    return Err(self.fail(self.consumed, FrameError::HeaderBlockTooLarge { size: src.len(), limit: self.max_header_block }));
                }
                self.scanned = src.len();
                return Ok(None);
            };
            if end > self.max_header_block {
                return Err(self.fail(self.consumed, FrameError::HeaderBlockTooLarge { size: end, limit: self.max_header_block }));
            }
            self.scanned = 0;
            let offset = self.consumed;
            let block = src.split_to(end + 1).freeze();
            self.consumed += block.len() as u64;
            // `end` is the blank line's `\n`: the lines are everything before it.
            let mut headers = Headers::parse(block.slice(..end), false).map_err(|e| self.fail(offset, e))?;
            let ct_raw = headers.get_raw("Content-Type").ok_or_else(|| self.fail(offset, FrameError::MissingContentType))?;
            let content_type = ContentType::parse(ct_raw)
                .ok_or_else(|| self.fail(offset, FrameError::UnknownContentType(String::from_utf8_lossy(ct_raw).into_owned())))?;
            let body_len = headers.content_length(self.max_body).map_err(|e| self.fail(offset, e))?.unwrap_or(0);
            // The outbound connect reply: every value percent-encoded (`Reply-Text: %2BOK%0A`).
            if is_serialized_event(content_type, &headers) {
                headers.set_encoded(true);
            }
            self.pending = Some(Pending { headers, content_type, body_len, offset });
        }
        let want = self.pending.as_ref().map_or(0, |p| p.body_len);
        if src.len() < want {
            src.reserve(want - src.len());
            return Ok(None);
        }
        let p = self.pending.take().expect("pending frame");
        // `Content-Length: 0` (the linger notice) means no body at all.
        let body = if p.body_len > 0 {
            self.consumed += p.body_len as u64;
            Some(src.split_to(p.body_len).freeze())
        } else {
            None
        };
        Ok(Some(Frame { content_type: p.content_type, headers: p.headers, body, offset: p.offset }))
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, CodecError> {
        match self.decode(buf)? {
            Some(frame) => Ok(Some(frame)),
            None if buf.is_empty() && self.pending.is_none() => Ok(None),
            None => {
                let have = buf.len();
                let what = match &self.pending {
                    Some(p) => format!("connection closed inside a body: {have} of {} bytes", p.body_len),
                    None => format!("connection closed inside a header block ({have} bytes)"),
                };
                Err(CodecError::Io(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, what)))
            }
        }
    }
}

impl Encoder<&Command> for EslCodec {
    type Error = CodecError;

    fn encode(&mut self, cmd: &Command, dst: &mut BytesMut) -> Result<(), CodecError> {
        cmd.encode(dst)?;
        Ok(())
    }
}

impl Encoder<Command> for EslCodec {
    type Error = CodecError;

    fn encode(&mut self, cmd: Command, dst: &mut BytesMut) -> Result<(), CodecError> {
        cmd.encode(dst)?;
        Ok(())
    }
}

/// Splits a whole buffer into frames (tests, `esl decode`, benchmarks). Returns the frames
/// read and, if the bytes end badly, the error.
pub fn decode_all(bytes: &[u8]) -> (Vec<Frame>, Option<CodecError>) {
    let mut codec = EslCodec::new();
    let mut buf = BytesMut::from(bytes);
    let mut frames = Vec::new();
    loop {
        match codec.decode_eof(&mut buf) {
            Ok(Some(f)) => frames.push(f),
            Ok(None) => return (frames, None),
            Err(e) => return (frames, Some(e)),
        }
    }
}
