//! Which HTTP answers are gzipped: the web UI's shell, page modules and OpenAPI document
//! for a client that says it takes gzip (the first load stays small); never an answer to a
//! client that did not say so, never a phone's provisioning file, mod_xml_curl, the JSON
//! API or the realtime feed (a stream a compressor would hold back).

mod common;
use common::raw::{self, Answer};

use std::net::SocketAddr;

use base64::Engine as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn get(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Answer {
    request(addr, "GET", path, headers, "").await
}

/// One HTTP/1.0 request (the body runs to the close: no chunks to undo).
async fn request(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Answer {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(&raw::head(method, path, headers, body)).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    raw::parse(&out)
}

/// The head of a streaming answer (the realtime feed never ends by itself).
async fn head_of_stream(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> String {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut head = format!("GET {path} HTTP/1.1\r\nHost: pbx.test\r\n");
    for (k, v) in headers {
        head += &format!("{k}: {v}\r\n");
    }
    head += "\r\n";
    s.write_all(head.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while !out.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tokio::time::timeout(std::time::Duration::from_secs(10), s.read(&mut buf)).await.expect("the head comes").unwrap();
        assert!(n > 0, "closed before the head");
        out.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&out).to_string()
}

const GZIP: (&str, &str) = ("Accept-Encoding", "gzip, deflate, br");

#[tokio::test]
async fn the_ui_and_its_openapi_document_go_gzipped_to_browsers_and_nothing_else_does() {
    let (_switch, sb) = common::process::demo_beside_switch("gzip-test").await;
    let http = sb.http;

    // The OpenAPI document the menu is built from: gzipped when asked, the same JSON after.
    let plain = get(http, "/api/v1/openapi.json", &[]).await;
    assert_eq!(plain.status, 200);
    assert_eq!(plain.header("content-encoding"), None, "a client that did not ask gets it plain");
    let zipped = get(http, "/api/v1/openapi.json", &[GZIP]).await;
    assert_eq!(zipped.status, 200);
    assert_eq!(zipped.header("content-encoding"), Some("gzip"));
    assert_eq!(zipped.header("vary"), Some("accept-encoding"), "caches keep the two apart");
    assert_eq!(zipped.decoded(), plain.body);
    assert!(zipped.body.len() * 5 < plain.body.len(), "{} gzipped vs {} plain", zipped.body.len(), plain.body.len());
    // A list without gzip, or one refusing it with q=0, gets it plain.
    for refuses in ["br, identity", "br, gzip;q=0"] {
        let a = get(http, "/api/v1/openapi.json", &[("Accept-Encoding", refuses)]).await;
        assert_eq!((a.status, a.header("content-encoding")), (200, None), "{refuses}");
    }

    // The shell and a page module.
    for path in ["/", "/app/main.js", "/app/pages/resource.js", "/app/app.css"] {
        let a = get(http, path, &[GZIP]).await;
        assert_eq!((a.status, a.header("content-encoding")), (200, Some("gzip")), "{path}");
        assert_eq!(a.decoded(), get(http, path, &[]).await.body, "{path}");
    }
    // A missing file is still a 404, not a gzipped anything.
    assert_eq!(get(http, "/app/nothing-here.js", &[GZIP]).await.status, 404);

    // The JSON API, a phone's file and mod_xml_curl: plain even when gzip is offered.
    let token = common::process::login(http, "tenant@acme.test", "Demo-Tenant-2026").await;
    let bearer = format!("Bearer {token}");
    let me = get(http, "/api/v1/me", &[GZIP, ("Authorization", &bearer)]).await;
    assert_eq!((me.status, me.header("content-encoding")), (200, None));
    let boot = get(http, "/provision/y000000000000.boot", &[GZIP]).await;
    assert_eq!((boot.status, boot.header("content-encoding")), (200, None), "phones get their files plain");
    let form =
        "section=directory&tag_name=domain&key_name=name&key_value=acme.switchboard.test&user=1001&domain=acme.switchboard.test&action=sip_auth";
    // mod_xml_curl signs in with the password switchboard generated at its first start.
    let password = std::fs::read_to_string(sb.dir.join("xml-curl-password")).unwrap();
    let basic = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("freeswitch:{}", password.trim())));
    let headers = [GZIP, ("Content-Type", "application/x-www-form-urlencoded"), ("Authorization", basic.as_str())];
    let xml = request(http, "POST", "/freeswitch/xml", &headers, form).await;
    assert_eq!((xml.status, xml.header("content-encoding")), (200, None), "mod_xml_curl");
    assert!(String::from_utf8_lossy(&xml.body).contains("<user id=\"1001\""), "{}", String::from_utf8_lossy(&xml.body));

    // The realtime feed starts streaming, uncompressed.
    let head = head_of_stream(http, "/api/v1/realtime/feed", &[GZIP, ("Authorization", &bearer)]).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.to_ascii_lowercase().contains("content-type: text/event-stream"), "{head}");
    assert!(!head.to_ascii_lowercase().contains("content-encoding"), "{head}");
}
