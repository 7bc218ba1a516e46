//! The fuzz target's body (fuzz/fuzz_targets/frame.rs) run over mutations of every captured
//! stream, deterministically, so CI exercises it without a nightly toolchain. The property:
//! the parser never panics, and any byte split gives the same frames or the same error.

use bytes::BytesMut;
use switchboard::esl::codec::decode_all;
use switchboard::esl::{EslCodec, Event};
use tokio_util::codec::Decoder;

fn check(data: &[u8], split_seed: u64) {
    let (whole, err) = decode_all(data);
    for f in &whole {
        let _ = Event::from_frame(f);
    }
    let mut rng = fastrand::Rng::with_seed(split_seed);
    let mut codec = EslCodec::new();
    let mut buf = BytesMut::new();
    let mut got = Vec::new();
    let mut pos = 0;
    let mut failed = false;
    'feed: while pos < data.len() {
        let n = rng.usize(1..=64).min(data.len() - pos);
        buf.extend_from_slice(&data[pos..pos + n]);
        pos += n;
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(f)) => got.push(f.offset),
                Ok(None) => break,
                Err(_) => {
                    failed = true;
                    break 'feed;
                }
            }
        }
    }
    if !failed {
        loop {
            match codec.decode_eof(&mut buf) {
                Ok(Some(f)) => got.push(f.offset),
                Ok(None) => break,
                Err(_) => {
                    failed = true;
                    break;
                }
            }
        }
    }
    let want: Vec<u64> = whole.iter().map(|f| f.offset).collect();
    assert_eq!(failed, err.is_some(), "split and whole parses agree on failure");
    assert_eq!(got, want, "split and whole parses agree on frames");
}

#[test]
fn mutated_captures_never_panic_and_split_consistently() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/esl/streams");
    let mut rng = fastrand::Rng::with_seed(0x5eed);
    for entry in std::fs::read_dir(dir).unwrap() {
        let original = std::fs::read(entry.unwrap().path()).unwrap();
        let original = &original[..original.len().min(40_000)];
        for round in 0..60 {
            let mut data = original.to_vec();
            for _ in 0..rng.usize(1..8) {
                let i = rng.usize(..data.len());
                match rng.u8(..4) {
                    0 => data[i] = rng.u8(..),
                    1 => data.insert(i, b'\n'),
                    2 => {
                        data.remove(i);
                    }
                    _ => data.truncate(i),
                }
                if data.is_empty() {
                    break;
                }
            }
            check(&data, round);
        }
    }
}
