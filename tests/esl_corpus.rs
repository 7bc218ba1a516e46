//! Every captured FreeSWITCH frame in tests/data/esl (copied from ../shared/esl-corpus with its
//! SOURCES.md) must parse, whole, whatever the TCP segmentation.

use std::path::{Path, PathBuf};

use bytes::BytesMut;
use switchboard::esl::codec::decode_all;
use switchboard::esl::{ContentType, EslCodec, Event, Frame};
use tokio_util::codec::Decoder;

fn data(dir: &str) -> Vec<PathBuf> {
    let mut v: Vec<_> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/esl").join(dir)).unwrap().map(|e| e.unwrap().path()).collect();
    v.sort();
    v
}

fn frames_of(bytes: &[u8]) -> Vec<Frame> {
    let (frames, err) = decode_all(bytes);
    assert!(err.is_none(), "decode error: {err:?}");
    frames
}

/// Offset, type, headers and body: what two parses must agree on.
type Fingerprint = (u64, ContentType, Vec<(Vec<u8>, Vec<u8>)>, Option<Vec<u8>>);

fn fingerprint(f: &Frame) -> Fingerprint {
    (f.offset, f.content_type, f.headers.iter().map(|(n, v)| (n.to_vec(), v.to_vec())).collect(), f.body.as_ref().map(|b| b.to_vec()))
}

/// Feeds `bytes` in random chunks of 1..=max bytes through one codec.
fn chunked(bytes: &[u8], seed: u64, max: usize) -> Vec<Frame> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut codec = EslCodec::new();
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        let n = rng.usize(1..=max).min(bytes.len() - pos);
        buf.extend_from_slice(&bytes[pos..pos + n]);
        pos += n;
        while let Some(f) = codec.decode(&mut buf).unwrap() {
            out.push(f);
        }
    }
    while let Some(f) = codec.decode_eof(&mut buf).unwrap() {
        out.push(f);
    }
    assert!(buf.is_empty(), "{} bytes left over", buf.len());
    out
}

#[test]
fn every_frame_file_is_exactly_one_frame() {
    let files = data("frames");
    assert_eq!(files.len(), 41);
    for path in files {
        let bytes = std::fs::read(&path).unwrap();
        let frames = frames_of(&bytes);
        assert_eq!(frames.len(), 1, "{path:?}");
        let f = &frames[0];
        if f.content_type.is_event() {
            let ev = Event::from_frame(f).unwrap().unwrap();
            assert!(ev.name().is_some(), "{path:?} has an Event-Name");
        }
    }
}

#[test]
fn every_stream_splits_into_whole_frames_in_any_chunking() {
    let expected = [
        ("freeswitch-clj_inbound_session_plain_xml_json.stream", 16),
        ("neventsocket_Example1_outbound_async_full_session.stream", 27),
        ("neventsocket_Example2_outbound_async_full_session.stream", 26),
        ("neventsocket_Example3_outbound_async_full_session.stream", 22),
        ("neventsocket_Example4_outbound_async_full_session.stream", 59),
        ("neventsocket_Example5_outbound_async_full_session.stream", 25),
        ("neventsocket_Example6_outbound_async_full_session.stream", 114),
    ];
    for (name, count) in expected {
        let bytes = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/esl/streams").join(name)).unwrap();
        let whole = frames_of(&bytes);
        assert_eq!(whole.len(), count, "{name}");
        for f in &whole {
            if f.content_type.is_event() {
                Event::from_frame(f).unwrap().expect("event");
            }
        }
        let want: Vec<_> = whole.iter().map(fingerprint).collect();
        for (seed, max) in [(1, 1), (2, 7), (3, 1460), (4, 4096), (5, 4096), (6, 333)] {
            let got: Vec<_> = chunked(&bytes, seed, max).iter().map(fingerprint).collect();
            assert_eq!(got, want, "{name} in chunks of up to {max} bytes");
        }
    }
}

#[test]
fn tcp_segments_join_into_two_frames() {
    let mut codec = EslCodec::new();
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    for seg in data("segments") {
        buf.extend_from_slice(&std::fs::read(seg).unwrap());
        while let Some(f) = codec.decode(&mut buf).unwrap() {
            frames.push(f);
        }
    }
    assert!(buf.is_empty());
    assert_eq!(frames.len(), 2);
    assert_eq!(frames[0].reply_text().unwrap(), "+OK");
    let ev = Event::from_frame(&frames[1]).unwrap().unwrap();
    assert_eq!(ev.application().unwrap(), "answer");
    assert_eq!(ev.get("Caller-Context").unwrap(), "from_external");
}

fn frame(name: &str) -> Frame {
    let path = data("frames").into_iter().find(|p| p.file_name().unwrap().to_str().unwrap().starts_with(name)).unwrap();
    frames_of(&std::fs::read(path).unwrap()).remove(0)
}

#[test]
fn connect_reply_is_decoded_channel_data() {
    let f = frame("01_");
    assert!(f.is_channel_data());
    assert_eq!(f.reply_text().unwrap(), "+OK\n");
    assert_eq!(f.headers.get_str("Control").unwrap(), "full");
    assert_eq!(f.headers.get_str("Socket-Mode").unwrap(), "async");
    assert_eq!(f.headers.get_str("Channel-Name").unwrap(), "sofia/internal/1001@172.16.50.134");
    assert_eq!(f.headers.get_str("Caller-Caller-ID-Name").unwrap(), "Dan X-Lite");
    assert_eq!(f.headers.get_array("variable_DP_MATCH").unwrap(), vec![b"3".to_vec(), b"3".to_vec()]);
    assert!(f.headers.get_str("variable_switch_r_sdp").unwrap().contains("\r\n"));
    assert!(f.headers.len() > 150);
    assert!(f.body.is_none());
    let f = frame("39_");
    assert!(f.is_channel_data());
    assert_eq!(f.headers.get_str("Control").unwrap(), "full");
}

#[test]
fn nested_and_alternative_event_bodies() {
    let plain = Event::from_frame(&frame("28_")).unwrap().unwrap();
    let json = Event::from_frame(&frame("30_")).unwrap().unwrap();
    let xml = Event::from_frame(&frame("29_")).unwrap().unwrap();
    for ev in [&plain, &json, &xml] {
        assert_eq!(ev.name().unwrap(), "BACKGROUND_JOB");
        assert_eq!(ev.get("Job-Command").unwrap(), "status");
        let body = ev.body_str().unwrap();
        assert_eq!(body.len(), 331, "{body:?}");
        assert!(body.starts_with("UP 0 years"));
    }
    assert_eq!(xml.get("Event-Date-GMT").unwrap(), "Fri, 10 Nov 2017 07:55:02 GMT");
    assert_eq!(json.get("FreeSWITCH-IPv6").unwrap(), "::1");
    let hb = Event::from_frame(&frame("31_")).unwrap().unwrap();
    assert_eq!(hb.name().unwrap(), "HEARTBEAT");
}

#[test]
fn typed_values_from_real_events() {
    let dtmf = Event::from_frame(&frame("16_")).unwrap().unwrap();
    assert_eq!(dtmf.get("DTMF-Digit").unwrap(), "#");
    let read = Event::from_frame(&frame("17_")).unwrap().unwrap();
    assert_eq!(read.variable("read_digits_result").unwrap(), "1234");
    assert_eq!(read.application_response().unwrap(), "_none_");
    let pb = Event::from_frame(&frame("06_")).unwrap().unwrap();
    assert_eq!(pb.application_response().unwrap(), "FILE PLAYED");
    let rejected = Event::from_frame(&frame("22_")).unwrap().unwrap();
    assert_eq!(rejected.variable("originate_disposition").unwrap(), "CALL_REJECTED");
    assert_eq!(rejected.variable("last_bridge_proto_specific_hangup_cause").unwrap(), "sip:603");
    let codec = Event::from_frame(&frame("36_")).unwrap().unwrap();
    assert_eq!(codec.headers.get_all("Channel-Read-Codec-Name").count(), 2);
    let set = Event::from_frame(&frame("34_")).unwrap().unwrap();
    let done = Event::from_frame(&frame("35_")).unwrap().unwrap();
    assert_eq!(set.application_uuid(), done.application_uuid());
    let linger = frame("10_");
    assert_eq!(linger.content_type, ContentType::DisconnectNotice);
    assert_eq!(linger.headers.get_str("Content-Disposition").unwrap(), "linger");
    assert!(linger.body.is_none());
    let bye = frame("15_");
    assert_eq!(bye.body.unwrap().len(), 67);
    let bg = frame("27_");
    assert_eq!(bg.reply_text().unwrap(), "+OK Job-UUID: 5caf00ab-e476-4e5a-8bea-2749d428dea2");
    let dump = frame("40_");
    assert_eq!(dump.body.unwrap().len(), 6872);
}
