//! A real FreeSWITCH beside a real `switchboard serve`, on loopback, for one test: the
//! switch's stock configuration copied, kept on 127.0.0.1 and wired with the project's own
//! `fs-scripts/wire-freeswitch`, exactly as the README tells a user; its own ports, data,
//! voicemail storage and recordings. The suite's switch is `/opt/fs` (what
//! `../shared/freeswitch/install` puts there) or `SWITCHBOARD_FS_PREFIX`.

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use switchboard::store::resource::{ListQuery, Within};
use switchboard::store::{resources as res, Store};

use super::phone::{Phone, PhoneSpec};

pub const ESL_PASSWORD: &str = "Lab-ESL-secret";
pub const ACME: &str = "acme.switchboard.test";

/// One lab at a time: a FreeSWITCH takes a core while it starts, and the WebSocket ports of
/// the wired profile are fixed.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Kills `pid` when this test process is gone, however it went (a panic that aborts, a
/// SIGKILL from a timeout): no switch or phone outlives the run.
pub fn tether(pid: u32) {
    let me = std::process::id();
    let _ = Command::new("sh")
        .arg("-c")
        .arg(format!("while kill -0 {me} 2>/dev/null && kill -0 {pid} 2>/dev/null; do sleep 1; done; kill -9 {pid} 2>/dev/null"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
}

pub fn prefix() -> PathBuf {
    std::env::var_os("SWITCHBOARD_FS_PREFIX").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/opt/fs"))
}

/// The stock configuration each lab copies: `<prefix>/etc/freeswitch`, or
/// `SWITCHBOARD_FS_CONF` (a packaged FreeSWITCH keeps it in /etc/freeswitch).
pub fn stock_conf() -> PathBuf {
    std::env::var_os("SWITCHBOARD_FS_CONF").map(PathBuf::from).unwrap_or_else(|| prefix().join("etc/freeswitch"))
}

/// Whether the suite can run here: a FreeSWITCH (and baresip, sox) installed. Under CI a
/// missing switch fails the run; elsewhere the suite says so once and each test returns.
pub fn available() -> bool {
    static SAID: std::sync::Once = std::sync::Once::new();
    let fs = prefix().join("bin/freeswitch");
    let tools =
        ["baresip", "sox"].iter().all(|t| Command::new("sh").arg("-c").arg(format!("command -v {t}")).output().is_ok_and(|o| o.status.success()));
    let ok = fs.exists() && tools;
    if !ok {
        let why = format!(
            "no real FreeSWITCH for the real-switch suite ({} {}, baresip and sox {}): run ../shared/freeswitch/install, or set SWITCHBOARD_FS_PREFIX to a FreeSWITCH 1.10 install",
            fs.display(),
            if fs.exists() { "found" } else { "missing" },
            if tools { "found" } else { "missing" }
        );
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{why} (CI=true: the suite must run)");
        }
        SAID.call_once(|| eprintln!("SKIPPED: {why}"));
    }
    ok
}

/// A free port on 127.0.0.1 for TCP and UDP alike, and its next one for TCP (baresip's
/// SIP/TLS listener takes port + 1). Each lab's ports start from its own base so that two
/// test processes rarely try the same one. The range stays below FreeSWITCH's RTP ports
/// (rtp-start-port 16384 to rtp-end-port 32768 by default, switch.conf.xml): a port found free
/// there can be taken for a call's media before the phone binds it ("SIP Transport failed:
/// Address already in use"); above them lie the kernel's ephemeral ports and the phones' RTP.
pub fn free_port() -> u16 {
    const LOW: u16 = 10000;
    const HIGH: u16 = 16300;
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let _ = NEXT.compare_exchange(0, LOW + (std::process::id() % 60) as u16 * 100, Ordering::SeqCst, Ordering::SeqCst);
    loop {
        let p = NEXT.fetch_add(2, Ordering::SeqCst);
        if p > HIGH {
            NEXT.store(LOW, Ordering::SeqCst);
            continue;
        }
        let tcp = TcpListener::bind(("127.0.0.1", p)).is_ok() && TcpListener::bind(("127.0.0.1", p + 1)).is_ok();
        if tcp && UdpSocket::bind(("127.0.0.1", p)).is_ok() {
            return p;
        }
    }
}

pub struct Lab {
    pub dir: PathBuf,
    pub esl_port: u16,
    pub internal_port: u16,
    pub external_port: u16,
    pub http: SocketAddr,
    pub outbound: SocketAddr,
    pub store: Store,
    pub rt: tokio::runtime::Runtime,
    fs: Child,
    sb: Child,
    _one: MutexGuard<'static, ()>,
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = self.sb.kill();
        let _ = self.sb.wait();
        let _ = self.fs.kill();
        let _ = self.fs.wait();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        } else {
            eprintln!("the lab's files (switch log, switchboard log, phones) are kept in {}", self.dir.display());
        }
    }
}

impl Lab {
    /// FreeSWITCH and `switchboard serve --demo`, wired; None (after saying why, once) when
    /// no FreeSWITCH is installed and this is not CI.
    pub fn start(name: &str) -> Option<Lab> {
        if !available() {
            return None;
        }
        let one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        let dir = std::env::temp_dir().join(format!("sb-lab-{name}-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let (esl_port, internal_port, external_port, http_port, out_port) = (free_port(), free_port(), free_port(), free_port(), free_port());
        let http: SocketAddr = ([127, 0, 0, 1], http_port).into();
        let outbound: SocketAddr = ([127, 0, 0, 1], out_port).into();

        // The switch's configuration: the stock one, on loopback (../shared/freeswitch/README.md).
        let conf = dir.join("conf");
        let ok = Command::new("cp").arg("-a").arg(stock_conf()).arg(&conf).status().unwrap();
        assert!(ok.success(), "copying the stock configuration");
        let vars = std::fs::read_to_string(conf.join("vars.xml")).unwrap();
        let mut vars = vars
            .replace(r#"cmd="stun-set" data="external_rtp_ip=stun:stun.freeswitch.org""#, r#"cmd="set" data="external_rtp_ip=127.0.0.1""#)
            .replace(r#"cmd="stun-set" data="external_sip_ip=stun:stun.freeswitch.org""#, r#"cmd="set" data="external_sip_ip=127.0.0.1""#)
            .replace(r#"data="internal_sip_port=5060""#, &format!(r#"data="internal_sip_port={internal_port}""#))
            .replace(r#"data="external_sip_port=5080""#, &format!(r#"data="external_sip_port={external_port}""#));
        vars = vars.replacen("<include>", "<include>\n  <X-PRE-PROCESS cmd=\"set\" data=\"local_ip_v4=127.0.0.1\"/>", 1);
        std::fs::write(conf.join("vars.xml"), vars).unwrap();
        for e in std::fs::read_dir(conf.join("sip_profiles")).unwrap().flatten() {
            if e.file_name().to_string_lossy().contains("ipv6") {
                let p = e.path();
                let _ = if p.is_dir() { std::fs::remove_dir_all(&p) } else { std::fs::remove_file(&p) };
            }
        }
        // switchboard first, so that the switch's first look-ups (sofia.conf, the
        // directory) find it, and so that it has generated its mod_xml_curl password (no
        // xml_curl_password is configured: the default install).
        let data = dir.join("switchboard");
        std::fs::create_dir_all(&data).unwrap();
        let sb = spawn_switchboard(&dir, http, outbound, esl_port);
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        wait_healthy(&rt, http);

        // Wired the README's way.
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("fs-scripts/wire-freeswitch");
        let out = Command::new(&script)
            .arg("--conf")
            .arg(&conf)
            .args(["--esl-password", ESL_PASSWORD])
            .arg("--xml-curl-password-file")
            .arg(data.join("xml-curl-password"))
            .args(["--esl-port", &esl_port.to_string()])
            .args(["--xml-curl-url", &format!("http://{http}/freeswitch/xml")])
            .args(["--socket", &outbound.to_string()])
            .output()
            .unwrap();
        assert!(out.status.success(), "wire-freeswitch: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));

        let fs_dirs = ["log", "db", "run", "storage", "recordings", "temp", "cache", "certs"];
        for d in fs_dirs {
            std::fs::create_dir_all(dir.join("fs").join(d)).unwrap();
        }
        let mut cmd = Command::new(prefix().join("bin/freeswitch"));
        cmd.args(["-nf", "-nc", "-nonat"]).arg("-conf").arg(&conf);
        for d in fs_dirs {
            cmd.arg(format!("-{d}")).arg(dir.join("fs").join(d));
        }
        let fs = cmd
            .env("LD_LIBRARY_PATH", prefix().join("lib"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("freeswitch.stderr")).unwrap())
            .spawn()
            .expect("starting FreeSWITCH");
        tether(fs.id());
        let store = Store::open(&data.join("switchboard.db")).unwrap();
        let mut lab = Lab { dir, esl_port, internal_port, external_port, http, outbound, store, rt, fs, sb, _one: one };
        wait_for("FreeSWITCH up with both profiles running", Duration::from_secs(60), || {
            let st = lab.try_fs_cli("sofia status")?;
            (st.contains("internal\tprofile") && st.contains("external\tprofile") && st.matches("RUNNING").count() >= 2).then_some(())
        });
        wait_for("switchboard's control connection", Duration::from_secs(30), || {
            let (_, v) = lab.get("/health");
            (v["freeswitch"]["state"] == "online").then_some(())
        });
        let _ = &mut lab;
        Some(lab)
    }

    /// Kills switchboard as a crash would (SIGKILL: nothing of it runs after), with the
    /// switch and its calls left up.
    pub fn kill_switchboard(&mut self) {
        self.sb.kill().unwrap();
        self.sb.wait().unwrap();
    }

    /// Starts switchboard again on the same data and ports, and waits for it to be
    /// connected to the switch.
    pub fn restart_switchboard(&mut self) {
        self.sb = spawn_switchboard(&self.dir, self.http, self.outbound, self.esl_port);
        wait_healthy(&self.rt, self.http);
        wait_for("switchboard's control connection", Duration::from_secs(30), || {
            let (_, v) = self.get("/health");
            (v["freeswitch"]["state"] == "online").then_some(())
        });
    }

    /// `fs_cli -x cmd` against the lab's switch; None when it cannot connect.
    pub fn try_fs_cli(&self, cmd: &str) -> Option<String> {
        let out = Command::new(prefix().join("bin/fs_cli"))
            .args(["-H", "127.0.0.1", "-P", &self.esl_port.to_string(), "-p", ESL_PASSWORD, "-x", cmd])
            .env("LD_LIBRARY_PATH", prefix().join("lib"))
            .output()
            .ok()?;
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    pub fn fs_cli(&self, cmd: &str) -> String {
        self.try_fs_cli(cmd).unwrap_or_else(|| panic!("fs_cli -x '{cmd}' failed"))
    }

    /// The switch's live channels (`show channels as json`).
    pub fn channels(&self) -> Vec<Value> {
        let out = self.fs_cli("show channels as json");
        let v: Value = serde_json::from_str(out.trim()).unwrap_or(json!({}));
        v["rows"].as_array().cloned().unwrap_or_default()
    }

    /// Waits until the switch has no channel left.
    pub fn idle(&self) {
        wait_for("the switch to have no channels", Duration::from_secs(20), || self.channels().is_empty().then_some(()));
    }

    pub fn request(&self, method: &str, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
        let body = if body.is_null() { Vec::new() } else { body.to_string().into_bytes() };
        self.rt.block_on(super::api::request(self.http, method, path, token, &body))
    }

    /// Points the demo trunk (shipped at 127.0.0.1:5080, FreeSWITCH's own external profile)
    /// at the lab's external profile, and waits until the switch has its gateway there.
    /// Its id.
    pub fn demo_trunk_here(&self) -> i64 {
        let id = self.find(&switchboard::store::resources::TRUNKS, "name", "DemoCarrier")["id"].as_i64().unwrap();
        let (st, v) = self.request("PATCH", &format!("/api/v1/trunks/{id}"), Some(&self.root()), serde_json::json!({ "port": self.external_port }));
        assert_eq!(st, 200, "{v}");
        wait_for("the gateway at the lab's port", Duration::from_secs(20), || {
            self.fs_cli(&format!("sofia xmlstatus gateway trunk{id}")).contains(&format!("127.0.0.1:{}", self.external_port)).then_some(())
        });
        id
    }

    /// A request whose body is a file's bytes (an upload).
    pub fn upload(&self, path: &str, token: &str, body: &[u8]) -> (u16, Value) {
        self.rt.block_on(super::api::request(self.http, "POST", path, Some(token), body))
    }

    pub fn get(&self, path: &str) -> (u16, Value) {
        self.request("GET", path, None, Value::Null)
    }

    pub fn login(&self, email: &str, password: &str) -> String {
        let (st, v) = self.request("POST", "/api/v1/auth/login", None, json!({ "email": email, "password": password }));
        assert_eq!(st, 200, "login {email}: {v}");
        v["access_token"].as_str().unwrap().to_string()
    }

    /// A row of the lab's store by a field's value.
    pub fn find(&self, r: &switchboard::store::Resource, key: &str, value: &str) -> Value {
        let q = ListQuery { page: 1, per_page: 500, ..Default::default() };
        self.store
            .list(r, Within::Everything, None, &q)
            .unwrap()
            .items
            .into_iter()
            .find(|v| v[key] == value)
            .unwrap_or_else(|| panic!("no {key}={value}"))
    }

    /// A phone registered as `number` of Acme (the demo tenant), with `tone_hz` as its voice.
    pub fn acme_phone(&self, number: &str, tone_hz: u32) -> Phone {
        self.phone(ACME, number, tone_hz, false)
    }

    pub fn phone(&self, domain: &str, number: &str, tone_hz: u32, g722: bool) -> Phone {
        let ext = self
            .store
            .list(&res::EXTENSIONS, Within::Everything, None, &ListQuery { page: 1, per_page: 500, ..Default::default() })
            .unwrap()
            .items
            .into_iter()
            .find(|e| e["number"] == number && self.domain_of(e["tenant_id"].as_i64().unwrap()) == domain)
            .unwrap_or_else(|| panic!("no extension {number}@{domain}"));
        let password = ext["sip_password"].as_str().unwrap();
        let account = format!("<sip:{number}@{domain}>;auth_pass={password};outbound=\"sip:127.0.0.1:{}\";regint=600", self.internal_port);
        let p = Phone::start(
            &self.dir,
            PhoneSpec { name: &format!("{number}@{domain}"), account, sip_port: free_port(), ctrl_port: free_port(), tone_hz, g722 },
        );
        self.registered(number, domain);
        p
    }

    /// Waits until the switch lists `number@domain` among its registrations (baresip may
    /// register before its control socket is connected, so its own event can be missed).
    pub fn registered(&self, number: &str, domain: &str) {
        wait_for(&format!("{number}@{domain} to register"), Duration::from_secs(15), || {
            let out = self.fs_cli("show registrations as json");
            let v: Value = serde_json::from_str(out.trim()).ok()?;
            v["rows"].as_array()?.iter().any(|r| r["reg_user"] == number && r["realm"] == domain).then_some(())
        });
    }

    /// A carrier's SIP endpoint on loopback, no registration: it calls DIDs at the switch's
    /// external profile, and answers what a trunk pointed at it sends to `number`.
    pub fn carrier(&self, number: &str, tone_hz: u32) -> Phone {
        let account = format!("<sip:{number}@127.0.0.1>;regint=0");
        Phone::start(
            &self.dir,
            PhoneSpec { name: &format!("carrier-{number}"), account, sip_port: free_port(), ctrl_port: free_port(), tone_hz, g722: false },
        )
    }

    /// The SIP URI that reaches `did` from outside (the external profile: the trunks' side).
    pub fn did_uri(&self, did: &str) -> String {
        format!("sip:{did}@127.0.0.1:{}", self.external_port)
    }

    pub fn domain_of(&self, tenant: i64) -> String {
        self.store.routing_tenant(switchboard::store::TenantId(tenant)).unwrap().sip_domain
    }

    /// The record of the newest call whose caller or callee is `number`, once it is written.
    pub fn cdr_where(&self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        wait_for(what, Duration::from_secs(20), || {
            let (_, v) = self.request("GET", "/api/v1/cdrs?per_page=100", Some(&self.root()), Value::Null);
            v["items"].as_array()?.iter().find(|c| pred(c)).cloned()
        })
    }

    /// The super admin's token.
    pub fn root(&self) -> String {
        static TOKEN: Mutex<Option<(SocketAddr, String)>> = Mutex::new(None);
        let mut t = TOKEN.lock().unwrap_or_else(|e| e.into_inner());
        match &*t {
            Some((addr, tok)) if *addr == self.http => tok.clone(),
            _ => {
                let tok = self.login("admin@switchboard.test", "Demo-Admin-2026");
                *t = Some((self.http, tok.clone()));
                tok
            }
        }
    }

    /// switchboard's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("switchboard.log")).unwrap_or_default()
    }

    /// The switch's log so far.
    pub fn fs_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("fs/log/freeswitch.log")).unwrap_or_default()
    }
}

/// `switchboard serve --demo` for the lab in `dir` (its data in `dir/switchboard`, its log
/// appended to `dir/switchboard.log`).
fn spawn_switchboard(dir: &Path, http: SocketAddr, outbound: SocketAddr, esl_port: u16) -> Child {
    let data = dir.join("switchboard");
    let log = std::fs::OpenOptions::new().create(true).append(true).open(dir.join("switchboard.log")).unwrap();
    let sb = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["serve", "--demo"])
        .env("SWITCHBOARD_DATA_DIR", &data)
        .env("SWITCHBOARD_HTTP_LISTEN", http.to_string())
        .env("SWITCHBOARD_OUTBOUND_LISTEN", outbound.to_string())
        .env("SWITCHBOARD_FREESWITCH_ESL", format!("127.0.0.1:{esl_port}"))
        .env("SWITCHBOARD_FREESWITCH_PASSWORD", ESL_PASSWORD)
        .env("SWITCHBOARD_LOG_FORMAT", "json")
        .env("SWITCHBOARD_LOG", "info,switchboard=debug")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    tether(sb.id());
    sb
}

fn wait_healthy(rt: &tokio::runtime::Runtime, http: SocketAddr) {
    wait_for("switchboard's /health", Duration::from_secs(60), || {
        std::net::TcpStream::connect(http)
            .ok()
            .and_then(|_| rt.block_on(super::api::request(http, "GET", "/health", None, b"")).0.eq(&200).then_some(()))
    });
}

/// Polls `f` until it gives a value, failing after `within`: the suite waits on states and
/// events, never on a fixed sleep.
pub fn wait_for<T>(what: &str, within: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out after {within:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
