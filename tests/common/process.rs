//! `switchboard serve` as a real process, wired to a simulated switch's inbound face.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Served {
    pub child: Child,
    /// Its outbound listener (where the switch hands calls).
    pub outbound: SocketAddr,
    pub http: SocketAddr,
    /// Its data directory.
    pub dir: std::path::PathBuf,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `switchboard serve [args]` over `dir`, with FreeSWITCH at `esl`; returns once its
/// "switchboard is up" log line names its listeners.
pub fn serve(dir: &std::path::Path, esl: SocketAddr, password: &str, args: &[&str]) -> Served {
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .arg("serve")
        .args(args)
        .env("SWITCHBOARD_DATA_DIR", dir)
        .env("SWITCHBOARD_HTTP_LISTEN", "127.0.0.1:0")
        .env("SWITCHBOARD_OUTBOUND_LISTEN", "127.0.0.1:0")
        .env("SWITCHBOARD_FREESWITCH_ESL", esl.to_string())
        .env("SWITCHBOARD_FREESWITCH_PASSWORD", password)
        .env("SWITCHBOARD_LOG_FORMAT", "json")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
                if v["message"] == "switchboard is up" {
                    let addr = |k: &str| v[k].as_str().unwrap_or_default().to_string();
                    let _ = tx.send((addr("outbound"), addr("http")));
                }
            }
        }
    });
    let (outbound, http) = rx.recv_timeout(Duration::from_secs(60)).expect("the server logs its addresses");
    Served { child, outbound: outbound.parse().unwrap(), http: http.parse().unwrap(), dir: dir.to_path_buf() }
}

/// A simulated switch's inbound face (with `password`) and `switchboard serve --demo`
/// connected to it; the switch hands calls to the server's outbound listener.
pub async fn demo_beside_switch(password: &str) -> (switchboard::sim::Switch, Served) {
    let switch = switchboard::sim::Switch::default();
    let (esl, _h) = switchboard::sim::inbound::serve(switch.clone(), "127.0.0.1:0".parse().unwrap(), password.into()).await.unwrap();
    let dir = super::api::temp_dir();
    let sb = serve(&dir, esl, password, &["--demo"]);
    switch.set_socket_target(sb.outbound);
    (switch, sb)
}

/// Signs in over HTTP; the access token.
pub async fn login(http: SocketAddr, email: &str, password: &str) -> String {
    let body = serde_json::json!({ "email": email, "password": password }).to_string();
    let (st, v) = super::api::request(http, "POST", "/api/v1/auth/login", None, body.as_bytes()).await;
    assert_eq!(st, 200, "login {email}: {v}");
    v["access_token"].as_str().unwrap().to_string()
}
