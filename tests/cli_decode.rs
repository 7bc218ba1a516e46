//! `switchboard esl decode`, run as the real binary.

use std::io::Write;
use std::process::{Command, Stdio};

fn decode(input: &[u8]) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["esl", "decode"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.code().unwrap(), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

#[test]
fn decodes_a_captured_inbound_session() {
    let bytes =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/esl/streams/freeswitch-clj_inbound_session_plain_xml_json.stream")).unwrap();
    let (code, out, err) = decode(&bytes);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 16);
    assert_eq!(lines[0]["offset"], 0);
    assert_eq!(lines[0]["content_type"], "auth/request");
    assert_eq!(lines[1]["offset"], 28);
    let job = lines.iter().find(|l| l["content_type"] == "text/event-plain").unwrap();
    let headers = job["event"]["headers"].as_array().unwrap();
    assert!(headers.iter().any(|h| h[0] == "Event-Date-GMT" && h[1] == "Fri, 10 Nov 2017 07:54:48 GMT"), "percent-decoded");
    assert_eq!(job["event"]["body"].as_str().unwrap().len(), 331);
    let json = lines.iter().find(|l| l["content_type"] == "text/event-json").unwrap();
    assert!(json["event"]["body"].as_str().unwrap().starts_with("UP 0 years"));
    assert!(lines.iter().all(|l| l["content_type"] != "text/event-xml" || l["event"].is_null()));
}

#[test]
fn decodes_the_connect_reply_percent_decoded() {
    let bytes =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/esl/frames/01_outbound_connect_reply_CHANNEL_DATA_async_full.esl")).unwrap();
    let (code, out, _) = decode(&bytes);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let h = v["headers"].as_array().unwrap();
    assert!(h.iter().any(|p| p[0] == "Reply-Text" && p[1] == "+OK\n"));
    assert!(h.iter().any(|p| p[0] == "Channel-Name" && p[1] == "sofia/internal/1001@172.16.50.134"));
    assert!(v["body"].is_null());
}

#[test]
fn malformed_input_prints_what_it_read_then_names_the_offset() {
    let mut bytes = b"Content-Type: command/reply\nReply-Text: +OK\n\n".to_vec();
    bytes.extend_from_slice(b"Content-Type: api/response\nContent-Length: nope\n\n");
    let (code, out, err) = decode(&bytes);
    assert_ne!(code, 0);
    assert_eq!(out.lines().count(), 1, "the good frame is printed first");
    assert!(err.contains("byte 45"), "{err}");
    assert!(err.contains("Content-Length"), "{err}");
    let (code, out, err) = decode(b"Content-Type: api/response\nContent-Length: 10\n\nabc");
    assert_ne!(code, 0);
    assert!(out.is_empty());
    assert!(err.contains("ends mid-frame"), "{err}");
}
