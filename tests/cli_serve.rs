//! The README's run command, as the real binary: `switchboard migrate`, then
//! `switchboard serve --demo` answering sign-ins with the demo accounts over HTTP.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_switchboard"))
}

/// `switchboard serve` on ephemeral loopback ports over `dir`, FreeSWITCH unreachable.
fn serve(dir: &std::path::Path, args: &[&str], stdout: Stdio, stderr: Stdio) -> std::process::Child {
    bin()
        .arg("serve")
        .args(args)
        .env("SWITCHBOARD_DATA_DIR", dir)
        .env("SWITCHBOARD_HTTP_LISTEN", "127.0.0.1:0")
        .env("SWITCHBOARD_OUTBOUND_LISTEN", "127.0.0.1:0")
        .env("SWITCHBOARD_FREESWITCH_ESL", "127.0.0.1:9")
        .env("SWITCHBOARD_LOG_FORMAT", "json")
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .unwrap()
}

fn temp() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("sb-cli-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn migrate_applies_the_schema_once() {
    let dir = temp();
    let run = || {
        let out = bin().arg("migrate").env("SWITCHBOARD_DATA_DIR", &dir).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    // Every migration in sql/ is applied, in one go.
    let n = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/sql"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().ends_with(".sql"))
        .count();
    assert!(n >= 4);
    let first = run();
    assert!(first.contains(&format!("schema version 0 → {n}")), "{first}");
    assert!(run().contains(&format!("schema version {n} → {n}")), "nothing to apply the second time");
}

fn http(addr: &str, method: &str, path: &str, token: Option<&str>, body: &str) -> (u16, serde_json::Value) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    write!(s, "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{auth}Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out.split(' ').nth(1).unwrap().parse().unwrap();
    let body = out.split_once("\r\n\r\n").unwrap().1;
    (status, serde_json::from_str(body).unwrap_or(serde_json::Value::Null))
}

#[test]
fn serve_demo_seeds_and_signs_in_every_demo_account() {
    let dir = temp();
    let mut child = serve(&dir, &["--demo"], Stdio::piped(), Stdio::piped());
    // Read the log on a thread to the end (a closed pipe would break the server's logging).
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    let log = std::thread::spawn(move || {
        let mut all = String::new();
        for line in stderr.lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
                if v["message"] == "switchboard is up" {
                    let addr = |k: &str| v[k].as_str().unwrap_or_default().to_string();
                    let _ = tx.send((addr("http"), addr("outbound")));
                }
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let (addr, outbound) = rx.recv_timeout(std::time::Duration::from_secs(60)).expect("the server logs its addresses");
    for (role, email, password) in switchboard::store::seed::DEMO_ACCOUNTS {
        let (st, v) = http(&addr, "POST", "/api/v1/auth/login", None, &format!(r#"{{"email":"{email}","password":"{password}"}}"#));
        assert_eq!(st, 200, "{email}: {v}");
        assert_eq!(v["user"]["role"], role.as_str());
    }
    let (_, v) = http(&addr, "POST", "/api/v1/auth/login", None, r#"{"email":"tenant@acme.test","password":"Demo-Tenant-2026"}"#);
    let t = v["access_token"].as_str().unwrap();
    let (st, ivr) = http(&addr, "GET", "/api/v1/ivr-menus", Some(t), "");
    assert_eq!(st, 200);
    assert_eq!(ivr["items"][0]["options"].as_array().unwrap().len(), 4);
    let (_, dids) = http(&addr, "GET", "/api/v1/me/dids", Some(t), "");
    assert_eq!(dids["items"][0]["destination"]["type"], "time_condition");
    // A call through the outbound socket: 1001 rings 1002, which answers. /health then
    // counts it and tells how long it waited for its first application.
    let (_, before) = http(&addr, "GET", "/health", None, "");
    assert_eq!(before["first_app_p99_ms"], serde_json::Value::Null, "no call yet: {before}");
    let scenario = common::process::demo_call();
    let call = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let call = switchboard::sim::Switch::default().call(outbound.parse().unwrap(), std::sync::Arc::new(scenario));
        tokio::time::timeout(std::time::Duration::from_secs(30), call).await.expect("the call ends")
    });
    assert_eq!(call.bridges[0].answered_by.as_deref(), Some("user/1002@acme.switchboard.test"), "{call:?}");
    let (st, health) = http(&addr, "GET", "/health", None, "");
    assert_eq!(st, 200);
    assert_eq!(health["calls_handled"], 1, "{health}");
    let p99 = health["first_app_p99_ms"].as_f64().unwrap_or_else(|| panic!("{health}"));
    assert!(p99 > 0.0 && p99 < 5_000.0, "{health}");
    assert!(health["first_app_p50_ms"].as_f64().unwrap() <= p99, "{health}");
    terminate(&mut child);
    let status = child.wait().unwrap();
    let log = log.join().unwrap();
    assert!(status.success(), "SIGTERM stops it cleanly: {status:?}\n{log}");
    // route explain reads the same database, without a call.
    let out = bin()
        .args(["route", "explain", "--number", "+12125550100", "--at", "2026-11-21T15:00:00Z"])
        .env("SWITCHBOARD_DATA_DIR", &dir)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("time condition \"Business hours\": not matched at Sat 2026-11-21 10:00 EST"), "{text}");
    assert!(text.contains("voicemail 1001"), "{text}");
    // The signing key is owner-only.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("jwt-private.pem")).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0);
    }
}

#[test]
fn first_start_without_demo_prints_one_admin_password() {
    let dir = temp();
    let mut child = serve(&dir, &[], Stdio::piped(), Stdio::null());
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    terminate(&mut child);
    child.wait().unwrap();
    assert!(line.contains("admin@localhost with password "), "{line}");
    let pw = line.split("password ").nth(1).unwrap().split_whitespace().next().unwrap();
    assert!(pw.len() >= 20);
}

/// SIGTERM (what a service manager sends).
fn terminate(child: &mut std::process::Child) {
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
}

/// A log pipe that closes (a crashed log shipper) does not take switchboard down.
#[test]
fn a_closed_log_pipe_is_survived() {
    let dir = temp();
    let mut child = serve(&dir, &[], Stdio::null(), Stdio::piped());
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while stderr.read_line(&mut line).unwrap() > 0 && !line.contains("switchboard is up") {
        line.clear();
    }
    drop(stderr);
    // The control connection's retries and the shutdown both log into the closed pipe.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    terminate(&mut child);
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

/// The HTTP address `serve` logs when it is up; its log is drained on a thread from then on.
fn http_address(child: &mut std::process::Child) -> String {
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
                if v["message"] == "switchboard is up" {
                    let _ = tx.send(v["http"].as_str().unwrap_or_default().to_string());
                }
            }
        }
    });
    rx.recv_timeout(std::time::Duration::from_secs(60)).expect("the server logs its addresses")
}

/// The data directory holds SIP, trunk and provisioning secrets in clear: it and everything
/// in it are owner-only, the files an older version left world-readable included, and what
/// is created while serving (the database's -wal and -shm, an uploaded music-on-hold file).
#[cfg(unix)]
#[test]
fn the_data_directory_and_every_file_in_it_are_owner_only_but_music_on_hold() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp();
    let chmod = |p: &std::path::Path, m: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    std::fs::create_dir_all(dir.join("moh/1/1")).unwrap();
    std::fs::write(dir.join("moh/1/1/old.wav"), b"RIFF").unwrap();
    for (p, m) in [("", 0o755), ("moh", 0o755), ("moh/1", 0o755), ("moh/1/1", 0o755), ("moh/1/1/old.wav", 0o644)] {
        chmod(&dir.join(p), m);
    }
    let mut child = serve(&dir, &["--demo"], Stdio::null(), Stdio::piped());
    let addr = http_address(&mut child);
    let (_, v) = http(&addr, "POST", "/api/v1/auth/login", None, r#"{"email":"tenant@acme.test","password":"Demo-Tenant-2026"}"#);
    let t = v["access_token"].as_str().unwrap();
    let (st, class) = http(&addr, "POST", "/api/v1/moh-classes", Some(t), r#"{"name":"fresh"}"#);
    assert_eq!(st, 201, "{class}");
    let wav = String::from_utf8(common::wav_header(0)).unwrap();
    let wav = wav.as_str();
    let (st, f) = http(&addr, "POST", &format!("/api/v1/moh-classes/{}/files?name=new.wav", class["id"]), Some(t), wav);
    assert_eq!(st, 201, "{f}");
    // Owner-only, but for music on hold, which FreeSWITCH (perhaps another user) plays from
    // here: the directory lets others pass through to it and nothing more.
    let mut seen = Vec::new();
    let mut todo = vec![dir.clone()];
    while let Some(d) = todo.pop() {
        let rel = d.strip_prefix(&dir).unwrap().to_string_lossy().into_owned();
        let moh = rel == "moh" || rel.starts_with("moh/");
        let mode = std::fs::metadata(&d).unwrap().permissions().mode() & 0o777;
        let want = if rel.is_empty() {
            0o711
        } else if moh {
            0o755
        } else {
            0o700
        };
        assert_eq!(mode, want, "{}", d.display());
        for e in std::fs::read_dir(&d).unwrap().map(Result::unwrap) {
            let rel = e.path().strip_prefix(&dir).unwrap().to_string_lossy().into_owned();
            if e.file_type().unwrap().is_dir() {
                todo.push(e.path());
            } else {
                let want = if rel.starts_with("moh/") { 0o644 } else { 0o600 };
                assert_eq!(e.metadata().unwrap().permissions().mode() & 0o777, want, "{rel}");
                seen.push(rel);
            }
        }
    }
    terminate(&mut child);
    child.wait().unwrap();
    for f in ["switchboard.db", "switchboard.db-wal", "switchboard.db-shm", "jwt-private.pem", "jwt-public.pem", "moh/1/1/old.wav"] {
        assert!(seen.iter().any(|s| s == f), "{f} among {seen:?}");
    }
    assert!(seen.iter().any(|s| s.ends_with("/new.wav")), "the upload among {seen:?}");
}
