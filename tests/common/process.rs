//! `switchboard serve` as a real process, wired to a simulated switch's inbound face.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct Served {
    pub child: Child,
    /// Its outbound listener (where the switch hands calls).
    pub outbound: SocketAddr,
    pub http: SocketAddr,
    /// Everything it has logged so far (JSON lines).
    pub log: Arc<Mutex<String>>,
    /// Its data directory.
    pub dir: std::path::PathBuf,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Served {
    /// Its database, opened beside it (SQLite's WAL lets both read and write).
    pub fn store(&self) -> switchboard::store::Store {
        switchboard::store::Store::open(&self.dir.join("switchboard.db")).unwrap()
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }
}

/// `switchboard serve [args]` over `dir`, with FreeSWITCH at `esl`; returns once its
/// "switchboard is up" log line names its listeners.
pub fn serve(dir: &std::path::Path, esl: SocketAddr, password: &str, args: &[&str]) -> Served {
    serve_with(dir, esl, password, args, &[], None)
}

/// [`serve`] with more environment, and at most `nofile` open files (soft and hard: it
/// cannot raise them).
pub fn serve_with(dir: &std::path::Path, esl: SocketAddr, password: &str, args: &[&str], env: &[(&str, &str)], nofile: Option<u64>) -> Served {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_switchboard"));
    cmd.arg("serve")
        .args(args)
        .env("SWITCHBOARD_DATA_DIR", dir)
        .env("SWITCHBOARD_HTTP_LISTEN", "127.0.0.1:0")
        .env("SWITCHBOARD_OUTBOUND_LISTEN", "127.0.0.1:0")
        .env("SWITCHBOARD_FREESWITCH_ESL", esl.to_string())
        .env("SWITCHBOARD_FREESWITCH_PASSWORD", password)
        .env("SWITCHBOARD_LOG_FORMAT", "json")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(n) = nofile {
        use std::os::unix::process::CommandExt;
        // SAFETY: only setrlimit runs between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                let lim = libc::rlimit { rlim_cur: n, rlim_max: n };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    launch(cmd, dir)
}

/// Spawns `cmd` (a `switchboard serve` with `SWITCHBOARD_LOG_FORMAT=json`, serving over
/// `dir`); returns once its "switchboard is up" log line names its listeners.
pub fn launch(mut cmd: Command, dir: &std::path::Path) -> Served {
    let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let log = Arc::new(Mutex::new(String::new()));
    let (tx, rx) = std::sync::mpsc::channel();
    {
        let log = log.clone();
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
                    if v["message"] == "switchboard is up" {
                        let addr = |k: &str| v[k].as_str().unwrap_or_default().to_string();
                        let _ = tx.send((addr("outbound"), addr("http")));
                    }
                }
                let mut l = log.lock().unwrap();
                l.push_str(&line);
                l.push('\n');
            }
        });
    }
    let (outbound, http) =
        rx.recv_timeout(Duration::from_secs(60)).unwrap_or_else(|_| panic!("the server did not log its addresses: {}", log.lock().unwrap()));
    Served { child, outbound: outbound.parse().unwrap(), http: http.parse().unwrap(), log, dir: dir.to_path_buf() }
}

/// The demo's first call: 1001 rings 1002 in acme, who answers at once and hangs up.
pub fn demo_call() -> switchboard::sim::Scenario {
    switchboard::sim::Scenario {
        caller_id_number: "1001".into(),
        destination: "1002".into(),
        context: "acme.switchboard.test".into(),
        domain: "acme.switchboard.test".into(),
        playback_ms: 0,
        default_target: switchboard::sim::Target::Answer { after_ms: 0, talk_ms: Some(0) },
        ..Default::default()
    }
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
