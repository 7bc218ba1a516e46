//! HTTP/1.0 on a bare socket, for tests that must see the wire as it is: a path exactly as
//! written (no client tidying a `..` away), every header, the body to the close.

use std::io::Read;

pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The body as the client reads it (gunzipped when it came gzipped).
    pub fn decoded(&self) -> Vec<u8> {
        if self.header("content-encoding") != Some("gzip") {
            return self.body.clone();
        }
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&self.body[..]).read_to_end(&mut out).expect("valid gzip");
        out
    }
}

/// The request's bytes: `method path HTTP/1.0`, the headers, a Content-Length for a body.
pub fn head(method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Vec<u8> {
    let mut head = format!("{method} {path} HTTP/1.0\r\nHost: pbx.test\r\n");
    if !body.is_empty() || !matches!(method, "GET" | "HEAD") {
        head += &format!("Content-Length: {}\r\n", body.len());
    }
    for (k, v) in headers {
        head += &format!("{k}: {v}\r\n");
    }
    head += "\r\n";
    head += body;
    head.into_bytes()
}

/// An answer read to the close.
pub fn parse(out: &[u8]) -> Answer {
    let split = out.windows(4).position(|w| w == b"\r\n\r\n").expect("a head");
    let text = String::from_utf8_lossy(&out[..split]).to_string();
    let mut lines = text.lines();
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers = lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_string(), v.trim().to_string())).collect();
    Answer { status, headers, body: out[split + 4..].to_vec() }
}
