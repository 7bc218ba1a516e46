//! Strangers on the network against the real binary (`serve --demo`, loopback only): an
//! HTTP flood under a small descriptor limit, silent, trickling and kept-alive clients, and
//! bodies sent before a sign-in. Each would have stopped calls or taken the box's memory.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use common::process::Served;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// `switchboard serve --demo` on ephemeral loopback ports, FreeSWITCH unreachable, with at
/// most `nofile` descriptors.
fn serve(nofile: Option<u64>, env: &[(&str, &str)]) -> Served {
    common::process::serve_with(&common::api::temp_dir(), "127.0.0.1:9".parse().unwrap(), "ClueCon", &["--demo"], env, nofile)
}

/// Resident memory of a server, in MiB.
fn rss_mib(s: &Served) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", s.child.id())).unwrap();
    let kb: f64 = status.lines().find_map(|l| l.strip_prefix("VmRSS:")).unwrap().trim().trim_end_matches("kB").trim().parse().unwrap();
    kb / 1024.0
}

/// A connection to `to` from 127.0.0.`host` (each stands for another client).
async fn connect_from(host: u8, to: SocketAddr) -> TcpStream {
    common::api::connect_from([127, 0, 0, host].into(), to).await
}

/// What came back within `within`: None if nothing did (the connection is held open).
async fn first_bytes(s: &mut TcpStream, within: Duration) -> Option<String> {
    let mut buf = vec![0u8; 4096];
    match tokio::time::timeout(within, s.read(&mut buf)).await {
        Ok(Ok(n)) => Some(String::from_utf8_lossy(&buf[..n]).into_owned()),
        Ok(Err(e)) => Some(format!("error: {e}")),
        Err(_) => None,
    }
}

/// One request on a fresh connection from 127.0.0.`host`: status and body.
async fn request(host: u8, to: SocketAddr, method: &str, path: &str, token: Option<&str>, body: &[u8]) -> (u16, Value) {
    let mut s = connect_from(host, to).await;
    s.write_all(&common::api::request_bytes(method, path, token, body)).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out)).await.expect("an answer").unwrap();
    let text = String::from_utf8_lossy(&out);
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("not HTTP: {text:?}"));
    (status, text.split_once("\r\n\r\n").and_then(|(_, b)| serde_json::from_str(b).ok()).unwrap_or(Value::Null))
}

async fn sign_in(to: SocketAddr) -> String {
    let (st, v) = request(1, to, "POST", "/api/v1/auth/login", None, br#"{"email":"tenant@acme.test","password":"Demo-Tenant-2026"}"#).await;
    assert_eq!(st, 200, "{v}");
    v["access_token"].as_str().unwrap().to_string()
}

/// The demo call through the outbound socket, 1001 to 1002 (who answers): whom it reached.
async fn place_call(outbound: SocketAddr) -> Option<String> {
    let call = switchboard::sim::Switch::default().call(outbound, Arc::new(common::process::demo_call()));
    let report = tokio::time::timeout(Duration::from_secs(30), call).await.expect("the call ends");
    report.bridges.first().and_then(|b| b.answered_by.clone())
}

/// 400 connections from 40 addresses to a server allowed 256 descriptors (before: the
/// descriptors ran out, calls failed at accept with "Too many open files" and /health hung).
/// Now HTTP holds only its share (16 here, at most 4 an address), refuses the rest with 503
/// at once, closes the idle ones after the idle time; calls are served throughout and
/// FreeSWITCH's own lookups get through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_flood_under_a_small_descriptor_limit_never_stops_calls() {
    switchboard::fds::raise_nofile().unwrap();
    // The idle time leaves room for opening 400 connections and reading their answers on a
    // busy machine before the first held ones are closed.
    let s = serve(Some(256), &[("SWITCHBOARD_HTTP_IDLE_SECS", "8"), ("SWITCHBOARD_HTTP_MAX_CONNECTIONS_PER_ADDRESS", "8")]);
    let share = s.log().lines().filter_map(|l| serde_json::from_str::<Value>(l).ok()).find(|v| v["http_connections"].is_number()).unwrap();
    assert_eq!((share["soft"].as_u64(), share["http_connections"].as_u64(), share["calls"].as_u64()), (Some(256), Some(16), Some(32)), "{share}");
    let mut conns = Vec::new();
    for host in 2..42u8 {
        for _ in 0..10 {
            conns.push(connect_from(host, s.http).await);
        }
    }
    let answers = futures_util::future::join_all(conns.iter_mut().map(|c| first_bytes(c, Duration::from_secs(2)))).await;
    let refused = answers.iter().flatten().filter(|a| a.starts_with("HTTP/1.1 503")).count();
    let held: Vec<TcpStream> = conns.into_iter().zip(&answers).filter(|(_, a)| a.is_none()).map(|(c, _)| c).collect();
    assert_eq!((held.len(), refused), (16, 384), "HTTP keeps its share and refuses the rest at once");
    // Calls are served while HTTP is full.
    assert_eq!(place_call(s.outbound).await.as_deref(), Some("user/1002@acme.switchboard.test"));
    let mut late = connect_from(42, s.http).await;
    assert!(first_bytes(&mut late, Duration::from_secs(2)).await.is_some_and(|a| a.starts_with("HTTP/1.1 503")), "HTTP is full");
    // FreeSWITCH's host (its event socket's address, 127.0.0.1 here) has places of its own:
    // mod_xml_curl's lookups, phones registering, get through the flood.
    use base64::Engine;
    let password = std::fs::read_to_string(s.dir.join("xml-curl-password")).unwrap();
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("freeswitch:{}", password.trim()));
    let form =
        "section=directory&tag_name=domain&key_name=name&key_value=acme.switchboard.test&user=1001&domain=acme.switchboard.test&action=sip_auth";
    let mut fs = connect_from(1, s.http).await;
    let req = format!(
        "POST /freeswitch/xml HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Basic {basic}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
        form.len()
    );
    fs.write_all(req.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), fs.read_to_end(&mut answer)).await.unwrap().unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200") && answer.contains("<user id=\"1001\""), "{answer}");
    // The idle ones are closed after the idle time, and HTTP answers again.
    for mut c in held {
        assert!(common::closed_within(&mut c, Duration::from_secs(15)).await, "an idle connection was closed");
    }
    let (st, health) = request(1, s.http, "GET", "/health", None, b"").await;
    assert_eq!(st, 200);
    assert_eq!(health["calls_handled"], 1, "{health}");
    assert_eq!(health["calls_failed"], 0, "{health}");
    assert!(!s.log().contains("Too many open files"), "{}", s.log());
}

/// Silent, half-a-line and trickling clients are closed after the idle time; a kept-alive
/// connection serves a bounded number of requests and is closed when idle; one address
/// cannot take more than its share.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_trickling_and_kept_alive_clients_are_bounded() {
    let s = serve(
        Some(512),
        &[
            ("SWITCHBOARD_HTTP_IDLE_SECS", "2"),
            ("SWITCHBOARD_HTTP_MAX_REQUESTS_PER_CONNECTION", "3"),
            ("SWITCHBOARD_HTTP_MAX_CONNECTIONS_PER_ADDRESS", "4"),
        ],
    );
    let mut silent = connect_from(2, s.http).await;
    let mut half = connect_from(3, s.http).await;
    half.write_all(b"GET /health HTTP/1.1\r\nHo").await.unwrap();
    let mut trickle = connect_from(4, s.http).await;
    trickle.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Pad: ").await.unwrap();
    let trickler = tokio::spawn(async move {
        // One byte every 200 ms: each arrives well within any per-read timeout, but the head
        // never ends. Stops when the server closes.
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if trickle.write_all(b"a").await.is_err() {
                return (true, trickle);
            }
        }
        (false, trickle)
    });
    assert!(common::closed_within(&mut silent, Duration::from_secs(6)).await, "a silent connection is closed");
    let head = first_bytes(&mut half, Duration::from_secs(6)).await.unwrap_or_else(|| "still open".into());
    assert!(!head.contains("200 OK"), "{head}");
    assert!(common::closed_within(&mut half, Duration::from_secs(6)).await, "half a head is not waited on for ever");
    let (stopped, mut trickle) = tokio::time::timeout(Duration::from_secs(30), trickler).await.unwrap().unwrap();
    assert!(stopped || common::closed_within(&mut trickle, Duration::from_secs(1)).await, "a trickled head is cut at the idle time");

    // Keep-alive: the third request is the last, and says so.
    let mut kept = connect_from(5, s.http).await;
    let mut seen = Vec::new();
    for _ in 0..3 {
        kept.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        let answer = first_bytes(&mut kept, Duration::from_secs(5)).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        seen.push(answer.to_ascii_lowercase().contains("connection: close"));
    }
    assert_eq!(seen, [false, false, true]);
    assert!(common::closed_within(&mut kept, Duration::from_secs(2)).await);
    // A kept-alive connection that goes quiet is closed after the idle time.
    let mut quiet = connect_from(5, s.http).await;
    quiet.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    assert!(first_bytes(&mut quiet, Duration::from_secs(5)).await.unwrap().starts_with("HTTP/1.1 200"));
    assert!(common::closed_within(&mut quiet, Duration::from_secs(6)).await, "an idle kept-alive connection is closed");

    // Four from one address are held; the fifth is refused; another address is served.
    let mut four = Vec::new();
    for _ in 0..4 {
        four.push(connect_from(6, s.http).await);
    }
    let mut fifth = connect_from(6, s.http).await;
    assert!(first_bytes(&mut fifth, Duration::from_secs(2)).await.is_some_and(|a| a.starts_with("HTTP/1.1 503")));
    assert_eq!(request(7, s.http, "GET", "/health", None, b"").await.0, 200);
    assert_eq!(place_call(s.outbound).await.as_deref(), Some("user/1002@acme.switchboard.test"), "and calls are served");
    drop(four);
}

/// A body is read only after its sender is signed in and allowed, and never past the
/// route's limit: before, 16 unauthenticated 32 MiB uploads were buffered whole (RSS 65 →
/// 648 MB) before their 401, and a 1 GiB Content-Length got no answer. An allowed upload is
/// streamed to disk, and a body that stops arriving is given up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_are_refused_before_they_are_read_and_uploads_stream_to_disk() {
    // Under a small descriptor limit, as the flood test: calls are served through it all.
    let s = serve(Some(512), &[("SWITCHBOARD_HTTP_IDLE_SECS", "2")]);
    let token = sign_in(s.http).await;
    let (st, class) = request(1, s.http, "POST", "/api/v1/moh-classes", Some(&token), br#"{"name":"lobby"}"#).await;
    assert_eq!(st, 201, "{class}");
    let upload = format!("/api/v1/moh-classes/{}/files?name=big.wav", class["id"]);
    let head = |token: Option<&str>, length: u64| {
        let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
        format!("POST {upload} HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: {length}\r\n\r\n")
    };
    // No token: 401 before a byte of the body is sent.
    let mut c = connect_from(2, s.http).await;
    c.write_all(head(None, 32 << 20).as_bytes()).await.unwrap();
    let answer = first_bytes(&mut c, Duration::from_secs(3)).await.expect("answered without the body");
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    // Signed in, but 1 GiB announced: 413 at once.
    let mut c = connect_from(2, s.http).await;
    c.write_all(head(Some(&token), 1 << 30).as_bytes()).await.unwrap();
    let answer = first_bytes(&mut c, Duration::from_secs(3)).await.expect("answered without the body");
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");

    // A route anyone may call reads at most 16 KiB: a larger body is refused at once.
    let mut c = connect_from(2, s.http).await;
    c.write_all(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 20000\r\n\r\n").await.unwrap();
    let answer = first_bytes(&mut c, Duration::from_secs(3)).await.expect("answered without the body");
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    // A body trickled a byte a second, each inside the idle time, is cut on the whole: its
    // time is the idle time plus its limit at 64 KiB/s.
    let mut c = connect_from(2, s.http).await;
    c.write_all(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{").await.unwrap();
    let trickled = async {
        for _ in 0..30 {
            tokio::time::sleep(Duration::from_secs(1)).await;
            if c.write_all(b" ").await.is_err() {
                break;
            }
            if let Some(answer) = first_bytes(&mut c, Duration::from_millis(10)).await {
                return answer;
            }
        }
        String::new()
    };
    let answer = tokio::time::timeout(Duration::from_secs(10), trickled).await.expect("cut well before the 30 s it would take");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");

    // 16 strangers each send their whole 32 MiB: none of it is kept.
    let before = rss_mib(&s);
    let chunk = vec![0u8; 1 << 20];
    let strangers = (0..16).map(|i| {
        let (h, chunk) = (head(None, 32 << 20), chunk.clone());
        async move {
            let mut c = connect_from(10 + i, s.http).await;
            let _ = c.write_all(h.as_bytes()).await;
            for _ in 0..32 {
                if c.write_all(&chunk).await.is_err() {
                    break;
                }
            }
            first_bytes(&mut c, Duration::from_secs(5)).await
        }
    });
    let (answers, call) = tokio::join!(futures_util::future::join_all(strangers), place_call(s.outbound));
    assert_eq!(call.as_deref(), Some("user/1002@acme.switchboard.test"), "a call is served meanwhile");
    for answer in answers {
        assert!(answer.as_deref().is_none_or(|a| a.starts_with("HTTP/1.1 401") || a.starts_with("error")), "{answer:?}");
    }
    let grew = rss_mib(&s) - before;
    eprintln!("RSS: {before:.0} MiB before 16 unauthenticated 32 MiB uploads, +{grew:.1} MiB after");
    assert!(grew < 48.0, "16 × 32 MiB unauthenticated uploads grew the server by {grew:.0} MiB");

    // An allowed 24 MiB upload goes to disk as it arrives.
    let mut wav = common::wav_header(24 << 20);
    wav.resize(24 << 20, 7);
    let before = rss_mib(&s);
    let (st, f) = request(2, s.http, "POST", &upload, Some(&token), &wav).await;
    assert_eq!(st, 201, "{f}");
    let grew = rss_mib(&s) - before;
    eprintln!("RSS: +{grew:.1} MiB over an accepted 24 MiB upload");
    assert!(grew < 16.0, "a 24 MiB upload grew the server by {grew:.0} MiB: it was held in memory");
    assert_eq!(std::fs::metadata(s.dir.join(f["stored_as"].as_str().unwrap())).unwrap().len(), wav.len() as u64);
    let left: Vec<_> = std::fs::read_dir(s.dir.join("tmp")).unwrap().collect();
    assert!(left.is_empty(), "no temporary file is left: {left:?}");

    // A body that stops arriving: 408 after the idle time, and nothing kept.
    let mut c = connect_from(3, s.http).await;
    c.write_all(head(Some(&token), 100).as_bytes()).await.unwrap();
    c.write_all(b"RIFF\x24\x00\x00\x00WAVE").await.unwrap();
    let answer = first_bytes(&mut c, Duration::from_secs(8)).await.expect("answered after the idle time");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    let left: Vec<_> = std::fs::read_dir(s.dir.join("tmp")).unwrap().collect();
    assert!(left.is_empty(), "the partial upload is removed: {left:?}");
}
