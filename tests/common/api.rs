//! The HTTP API on 127.0.0.1:0 over a fresh data directory, and a minimal HTTP/1.1 client
//! (Connection: close) so that tests speak to the real server over a real socket.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;
use switchboard::config::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use warp::Filter;

pub const ADMIN: &str = "admin@localhost";

pub struct ApiServer {
    pub addr: SocketAddr,
    pub dir: PathBuf,
    /// The first super admin's password (None after a restart over an existing directory).
    pub admin_password: Option<String>,
    pub store: switchboard::store::Store,
    /// The call queues the API reads (a test's router runs its calls on the same).
    pub acd: switchboard::acd::Acd,
    stop: Option<tokio::sync::watch::Sender<bool>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

pub fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sb-api-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Starts the API over `dir` (creating the first super admin when the directory is new).
pub async fn start_in(dir: &Path, tweak: impl FnOnce(&mut Config)) -> ApiServer {
    start_seeded(dir, tweak, false).await
}

/// The API over a fresh directory seeded with the demo installation (README's sign-ins).
pub async fn start_demo(tweak: impl FnOnce(&mut Config)) -> ApiServer {
    start_seeded(&temp_dir(), tweak, true).await
}

async fn start_seeded(dir: &Path, tweak: impl FnOnce(&mut Config), demo: bool) -> ApiServer {
    let mut cfg = Config { data_dir: dir.to_path_buf(), ..Config::default() };
    tweak(&mut cfg);
    let (state, pw) = tokio::task::spawn_blocking(move || {
        let store = switchboard::store::Store::open(&cfg.database_path()).unwrap();
        let keys = switchboard::api::auth::Keys::load_or_create(&cfg.data_dir).unwrap();
        let pw = if demo {
            switchboard::store::seed::demo(&store, &|p| switchboard::api::auth::hash_password(p)).unwrap();
            None
        } else {
            switchboard::store::seed::first_admin(&store, ADMIN, &|p| switchboard::api::auth::hash_password(p)).unwrap()
        };
        if cfg.community_edition {
            switchboard::store::seed::single_tenant(&store).unwrap();
        }
        (switchboard::api::router::Api::new(store, keys, Arc::new(cfg), switchboard::realtime::Live::detached()), pw)
    })
    .await
    .unwrap();
    let (store, acd) = (state.store.clone(), state.acd.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::watch::channel(false);
    // The product's own listener, with its limits.
    let limits = switchboard::http::Limits::new(&state.cfg.http, state.cfg.http.max_connections, Some(state.cfg.freeswitch_esl.ip()));
    let routes = {
        let state = Arc::new(state);
        switchboard::api::api(state.clone()).or(switchboard::api::freeswitch::xml_curl(state))
    };
    let task = tokio::spawn(switchboard::http::serve(listener, warp::service(routes), limits, rx, Default::default()));
    ApiServer { addr, dir: dir.to_path_buf(), admin_password: pw, store, acd, stop: Some(tx), task: Some(task) }
}

pub async fn start(tweak: impl FnOnce(&mut Config)) -> ApiServer {
    start_in(&temp_dir(), tweak).await
}

impl ApiServer {
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(true);
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }

    /// One request; the status and the JSON body (Null when empty).
    pub async fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<&Value>) -> (u16, Value) {
        let bytes = body.map(|b| serde_json::to_vec(b).unwrap()).unwrap_or_default();
        self.call_raw(method, path, token, &bytes).await
    }

    pub async fn call_raw(&self, method: &str, path: &str, token: Option<&str>, body: &[u8]) -> (u16, Value) {
        request(self.addr, method, path, token, body).await
    }
}

/// A connection to `to` from the local address `src` (every 127/8 address is this machine's:
/// tests stand for several clients with them).
pub async fn connect_from(src: std::net::IpAddr, to: SocketAddr) -> tokio::net::TcpStream {
    let sock = tokio::net::TcpSocket::new_v4().unwrap();
    sock.bind(SocketAddr::new(src, 0)).unwrap();
    sock.connect(to).await.unwrap()
}

/// The bytes of one HTTP/1.1 request (Connection: close), JSON when there is a body.
pub fn request_bytes(method: &str, path: &str, token: Option<&str>, body: &[u8]) -> Vec<u8> {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    if !body.is_empty() {
        head.push_str("Content-Type: application/json\r\n");
    }
    if let Some(t) = token {
        head.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    out
}

/// The body of a GET that answers 200, as bytes (a PDF, an image).
pub async fn request_raw(addr: SocketAddr, method: &str, path: &str, token: Option<&str>) -> Vec<u8> {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(&request_bytes(method, path, token, b"")).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let at = out.windows(4).position(|w| w == b"\r\n\r\n").expect("a head");
    assert!(out.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&out[..at]));
    out.split_off(at + 4)
}

/// One HTTP/1.1 request to `addr` (Connection: close): the status and the body, parsed as
/// JSON when it says so.
pub async fn request(addr: SocketAddr, method: &str, path: &str, token: Option<&str>, body: &[u8]) -> (u16, Value) {
    {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(&request_bytes(method, path, token, body)).await.unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).await.unwrap();
        let text = String::from_utf8_lossy(&out);
        let status: u16 = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("no status in {text:?}"));
        let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
        // JSON answers parse; anything else (CSV) comes back as a string.
        let json = text.to_ascii_lowercase().contains("content-type: application/json");
        let v = if body.is_empty() {
            Value::Null
        } else if json {
            serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body:?}"))
        } else {
            Value::String(body.to_string())
        };
        (status, v)
    }
}

impl ApiServer {
    /// Signs in; the access token.
    pub async fn login(&self, email: &str, password: &str) -> String {
        let (st, v) = self.call("POST", "/api/v1/auth/login", None, Some(&serde_json::json!({ "email": email, "password": password }))).await;
        assert_eq!(st, 200, "login {email}: {v}");
        v["access_token"].as_str().unwrap().to_string()
    }

    pub async fn admin_token(&self) -> String {
        self.login(ADMIN, self.admin_password.as_deref().expect("a fresh directory")).await
    }

    /// POSTs and expects 201; the created object's id.
    pub async fn create(&self, token: &str, path: &str, body: Value) -> i64 {
        let (st, v) = self.call("POST", path, Some(token), Some(&body)).await;
        assert_eq!(st, 201, "POST {path} {body}: {v}");
        v["id"].as_i64().unwrap()
    }
}
