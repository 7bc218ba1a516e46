//! Parsing throughput over the captured streams: `cargo bench --bench esl_parse`.
//! Prints MB/s for framing alone and for framing plus event decoding.

use std::time::{Duration, Instant};

use switchboard::esl::codec::decode_all;
use switchboard::esl::Event;

fn main() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/esl/streams");
    let streams: Vec<Vec<u8>> = std::fs::read_dir(dir).unwrap().map(|e| std::fs::read(e.unwrap().path()).unwrap()).collect();
    let total: usize = streams.iter().map(Vec::len).sum();
    for (label, events) in [("frames only", false), ("frames + event bodies + 3 lookups", true)] {
        let mut bytes = 0usize;
        let mut frames = 0usize;
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(3) {
            for s in &streams {
                let (fs, err) = decode_all(s);
                assert!(err.is_none());
                if events {
                    for f in &fs {
                        if let Ok(Some(ev)) = Event::from_frame(f) {
                            std::hint::black_box((ev.name(), ev.unique_id(), ev.application_uuid()));
                        }
                    }
                }
                frames += fs.len();
                bytes += s.len();
            }
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "esl_parse {label:<36} {:>8.1} MB/s  {:>9.0} frames/s  ({} bytes of captures per pass)",
            bytes as f64 / secs / 1e6,
            frames as f64 / secs,
            total
        );
    }
}
