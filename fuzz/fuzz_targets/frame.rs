//! Arbitrary bytes into the frame parser: it must never panic, and feeding the same bytes
//! whole or split in two must give the same frames. Run (from the repository root):
//!
//!     cargo install cargo-fuzz
//!     mkdir -p fuzz/corpus && RUSTC_BOOTSTRAP=1 cargo fuzz run frame fuzz/corpus tests/data/esl/frames -- -max_total_time=60
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use switchboard::esl::codec::decode_all;
use switchboard::esl::{EslCodec, Event};
use tokio_util::codec::Decoder;

fuzz_target!(|data: &[u8]| {
    let (whole, err) = decode_all(data);
    for f in &whole {
        let _ = Event::from_frame(f);
        let _ = switchboard::esl::dump::frame_json(f);
    }
    let cut = if data.is_empty() { 0 } else { data[0] as usize % data.len() };
    let mut codec = EslCodec::new();
    let mut buf = BytesMut::from(&data[..cut]);
    let mut n = 0;
    let mut failed = false;
    for part in [&data[cut..], &[][..]] {
        buf.extend_from_slice(part);
        loop {
            let r = if part.is_empty() { codec.decode_eof(&mut buf) } else { codec.decode(&mut buf) };
            match r {
                Ok(Some(_)) => n += 1,
                Ok(None) => break,
                Err(_) => {
                    failed = true;
                    break;
                }
            }
        }
        if failed {
            break;
        }
    }
    assert_eq!(failed, err.is_some());
    if !failed {
        assert_eq!(n, whole.len());
    }
});
