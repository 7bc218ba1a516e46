//! tokio-util codec over [`frame`](super::frame): "not enough bytes yet" is `Ok(None)`, never
//! an error. Decodes FreeSWITCH → client frames and encodes client → FreeSWITCH commands.

use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::AsyncRead;
use tokio_util::codec::{Decoder, Encoder, FramedRead};

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

    /// Between frames: no header block half-searched, no body awaited. Only then may the
    /// caller swap the read buffer for another (see the connection's reader).
    pub fn is_idle(&self) -> bool {
        self.scanned == 0 && self.pending.is_none()
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
            // A reply is copied out of the read buffer: one kept past its read (a command's
            // reply a call holds on to) pinned the whole 8 KiB buffer it came in, for as long
            // as the call was up. Events stay slices of it: they are read and dropped at
            // once, and copying each (two allocations an event, freed on another thread)
            // cost 5% of the server's CPU per call in mimalloc's cross-thread frees.
            if !content_type.is_event() {
                headers.detach();
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
            if p.content_type.is_event() {
                Some(src.split_to(p.body_len).freeze())
            } else {
                let body = Bytes::copy_from_slice(&src[..p.body_len]);
                src.advance(p.body_len);
                Some(body)
            }
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

/// What a quiet connection keeps to read into. A held call (a bridge, a conference) is
/// quiet for minutes, and tens of thousands may be: its read buffer, sized for the
/// events of the call's busy start, would be most of what the call costs.
const QUIET_BUFFER: usize = 512;
/// How long the socket must be quiet, with nothing half-read, before the read buffer is
/// let go for a [`QUIET_BUFFER`]: longer than the gaps inside a burst (a command's reply
/// and its events), so a busy call keeps its buffer and pays no extra read for it.
const QUIET_AFTER: Duration = Duration::from_millis(200);
/// How much a read may take in at once while frames are arriving (FramedRead's 8 KiB).
const READ_CHUNK: usize = 8 * 1024;

/// The socket's frames, like `FramedRead`, with a read buffer that shrinks when the socket
/// goes quiet (FramedRead keeps the largest it ever grew to, and the allocation the last
/// frames were cut from stays alive in it).
pub(crate) struct FrameReader<R> {
    io: R,
    codec: EslCodec,
    buf: BytesMut,
    eof: bool,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    pub(crate) fn new(framed: FramedRead<R, EslCodec>) -> FrameReader<R> {
        let parts = framed.into_parts();
        FrameReader { io: parts.io, codec: parts.codec, buf: parts.read_buf, eof: false }
    }

    /// The next frame; None at a clean end of stream. Cancel-safe: only `read_buf` awaits,
    /// and it reads nothing unless it completes.
    pub(crate) async fn next(&mut self) -> Option<Result<Frame, CodecError>> {
        use tokio::io::AsyncReadExt;
        loop {
            if self.eof {
                return self.codec.decode_eof(&mut self.buf).transpose();
            }
            match self.codec.decode(&mut self.buf) {
                Ok(Some(frame)) => return Some(Ok(frame)),
                Ok(None) => {}
                Err(e) => return Some(Err(e)),
            }
            if self.buf.capacity() - self.buf.len() < QUIET_BUFFER {
                self.buf.reserve(READ_CHUNK);
            }
            let between_frames = self.buf.is_empty() && self.codec.is_idle();
            let read = if between_frames && self.buf.capacity() > QUIET_BUFFER {
                match tokio::time::timeout(QUIET_AFTER, self.io.read_buf(&mut self.buf)).await {
                    Ok(read) => read,
                    Err(_) => {
                        self.buf = BytesMut::with_capacity(QUIET_BUFFER);
                        continue;
                    }
                }
            } else {
                self.io.read_buf(&mut self.buf).await
            };
            match read {
                Ok(0) => self.eof = true,
                Ok(_) => {}
                Err(e) => return Some(Err(CodecError::Io(e))),
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    fn event(size: usize) -> String {
        let body = format!("Event-Name: DTMF\nvariable_pad: {}\n\n", "x".repeat(size));
        format!("Content-Length: {}\nContent-Type: text/event-plain\n\n{body}", body.len())
    }

    /// A socket that goes quiet lets its read buffer go (a held call keeps a few hundred
    /// bytes, not the largest frame it read), and the frames after it read whole.
    #[tokio::test(start_paused = true)]
    async fn a_quiet_socket_keeps_a_small_read_buffer_and_reads_on() {
        let (mut sw, ours) = tokio::io::duplex(64 * 1024);
        let mut r = FrameReader::new(FramedRead::new(ours, EslCodec::new()));
        sw.write_all(event(20_000).as_bytes()).await.unwrap();
        sw.write_all(b"Content-Type: command/reply\nReply-Text: +OK\n\n").await.unwrap();
        let big = r.next().await.unwrap().unwrap();
        assert_eq!(big.body.as_ref().map(|b| b.len()), Some(event(20_000).split_once("\n\n").unwrap().1.len()));
        assert!(r.next().await.unwrap().unwrap().is_ok());
        drop(big);
        let quiet = tokio::time::timeout(QUIET_AFTER * 5, r.next()).await;
        assert!(quiet.is_err(), "nothing to read");
        assert_eq!(r.buf.capacity(), QUIET_BUFFER);
        sw.write_all(event(10_000).as_bytes()).await.unwrap();
        let ev = r.next().await.unwrap().unwrap();
        assert_eq!(ev.headers.get_str("Content-Type").as_deref(), Some("text/event-plain"));
        drop(sw);
        assert!(r.next().await.is_none(), "a clean end");
    }

    /// A reply that lives on owns its bytes: it does not hold on to the read buffer it came
    /// in, which can take the next reads in the same allocation.
    #[test]
    fn a_kept_reply_does_not_pin_the_read_buffer() {
        let mut codec = EslCodec::new();
        for frame in ["Content-Type: command/reply\nReply-Text: +OK\n\n", "Content-Type: api/response\nContent-Length: 4\n\n+OK\n"] {
            let mut buf = BytesMut::with_capacity(8 * 1024);
            buf.extend_from_slice(frame.as_bytes());
            let kept = codec.decode(&mut buf).unwrap().expect("a whole frame");
            assert!(buf.is_empty());
            assert!(buf.try_reclaim(8 * 1024), "the whole buffer is free again while the reply lives");
            assert!(kept.reply_text().is_some() || kept.body.as_deref() == Some(&b"+OK\n"[..]));
        }
    }
}
