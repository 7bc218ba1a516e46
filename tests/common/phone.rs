//! A real SIP phone: baresip, driven through its `ctrl_tcp` module (netstring-framed JSON
//! commands and events), with a tone of its own as its microphone and every call's decoded
//! audio dumped to a WAV file (the `sndfile` filter), so a test can tell who it heard.

use std::io::{BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub struct Phone {
    pub name: String,
    /// The frequency of the tone it sends.
    pub tone_hz: u32,
    /// Its SIP port on 127.0.0.1.
    pub sip_port: u16,
    dir: PathBuf,
    child: Child,
    ctrl: TcpStream,
    events: Receiver<Value>,
    /// Events read while waiting for something else, oldest first.
    seen: Vec<Value>,
    token: u64,
}

impl Drop for Phone {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a phone is: its account line (baresip's `accounts` syntax) and where it listens.
pub struct PhoneSpec<'a> {
    pub name: &'a str,
    pub account: String,
    pub sip_port: u16,
    pub ctrl_port: u16,
    pub tone_hz: u32,
    /// Offer G722 first (a wide-band desk phone) instead of G.711 only.
    pub g722: bool,
}

impl Phone {
    /// Starts baresip under `root/<name>` and connects to its control socket.
    pub fn start(root: &Path, spec: PhoneSpec<'_>) -> Phone {
        let dir = root.join(spec.name);
        std::fs::create_dir_all(dir.join("dump")).unwrap();
        let tone = dir.join("tone.wav");
        // Sixty seconds is longer than any test call; aufile ends the source after it.
        let rate = if spec.g722 { "16000" } else { "8000" };
        let ok = Command::new("sox")
            .args(["-n", "-r", rate, "-c", "1", "-b", "16"])
            .arg(&tone)
            .args(["synth", "60", "sine", &spec.tone_hz.to_string(), "vol", "0.5"])
            .status()
            .expect("sox (installed with ../shared/freeswitch/install)");
        assert!(ok.success(), "sox made the tone");
        let codecs = if spec.g722 { "module g722.so\nmodule g711.so\n" } else { "module g711.so\n" };
        let config = format!(
            "sip_listen 127.0.0.1:{sip}\n\
             net_interface 127.0.0.1\n\
             module_path /usr/lib/baresip/modules\n\
             {codecs}\
             module aufile.so\n\
             module sndfile.so\n\
             module ctrl_tcp.so\n\
             module_app account.so\n\
             module_app menu.so\n\
             ctrl_tcp_listen 127.0.0.1:{ctrl}\n\
             audio_source aufile,{tone}\n\
             audio_player aufile,/dev/null\n\
             ausrc_srate {rate}\n\
             snd_path {dump}\n\
             rtp_ports 40000-49999\n",
            sip = spec.sip_port,
            ctrl = spec.ctrl_port,
            tone = tone.display(),
            dump = dir.join("dump").display(),
        );
        std::fs::write(dir.join("config"), config).unwrap();
        std::fs::write(dir.join("accounts"), format!("{}\n", spec.account)).unwrap();
        let log = std::fs::File::create(dir.join("baresip.log")).unwrap();
        let child = Command::new("baresip")
            .arg("-f")
            .arg(&dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("baresip (installed with ../shared/freeswitch/install)");
        super::switch::tether(child.id());
        let deadline = Instant::now() + Duration::from_secs(10);
        let ctrl = loop {
            match TcpStream::connect(("127.0.0.1", spec.ctrl_port)) {
                Ok(s) => break s,
                Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
                Err(e) => panic!(
                    "{}: baresip's control socket: {e}; log: {}",
                    spec.name,
                    std::fs::read_to_string(dir.join("baresip.log")).unwrap_or_default()
                ),
            }
        };
        let (tx, events) = mpsc::channel();
        let reader = ctrl.try_clone().unwrap();
        std::thread::spawn(move || {
            let mut r = BufReader::new(reader);
            while let Some(frame) = netstring(&mut r) {
                if let Ok(v) = serde_json::from_slice::<Value>(&frame) {
                    if tx.send(v).is_err() {
                        break;
                    }
                }
            }
        });
        Phone { name: spec.name.into(), tone_hz: spec.tone_hz, sip_port: spec.sip_port, dir, child, ctrl, events, seen: Vec::new(), token: 0 }
    }

    /// Sends a menu command and returns baresip's response (`ok`, `data`).
    pub fn command(&mut self, command: &str, params: &str) -> Value {
        self.token += 1;
        let token = format!("t{}", self.token);
        let body = json!({ "command": command, "params": params, "token": token }).to_string();
        self.ctrl.write_all(format!("{}:{},", body.len(), body).as_bytes()).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let v = self.next(deadline).unwrap_or_else(|| panic!("{}: no response to {command} {params}", self.name));
            if v["response"] == true && v["token"] == token.as_str() {
                return v;
            }
            self.seen.push(v);
        }
    }

    fn next(&mut self, deadline: Instant) -> Option<Value> {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.events.recv_timeout(left) {
            Ok(v) => Some(v),
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => None,
        }
    }

    /// Waits for the event `kind` (e.g. `CALL_ESTABLISHED`), returning it; events before it
    /// are kept for [`Phone::events_seen`].
    pub fn wait(&mut self, kind: &str, within: Duration) -> Value {
        self.try_wait(kind, within).unwrap_or_else(|| {
            let kinds: Vec<_> = self.seen.iter().map(|e| e["type"].as_str().unwrap_or("?").to_string()).collect();
            panic!("{}: no {kind} within {within:?}; events so far: {kinds:?}", self.name)
        })
    }

    pub fn try_wait(&mut self, kind: &str, within: Duration) -> Option<Value> {
        if let Some(i) = self.seen.iter().position(|e| e["event"] == true && e["type"] == kind) {
            return Some(self.seen.remove(i));
        }
        let deadline = Instant::now() + within;
        while let Some(v) = self.next(deadline) {
            if v["event"] == true && v["type"] == kind {
                return Some(v);
            }
            self.seen.push(v);
        }
        None
    }

    /// Forgets the events read so far (before a new call).
    pub fn clear(&mut self) {
        while let Ok(v) = self.events.try_recv() {
            self.seen.push(v);
        }
        self.seen.clear();
    }

    pub fn dial(&mut self, uri: &str) {
        let r = self.command("dial", uri);
        assert_eq!(r["ok"], true, "{}: dial {uri}: {r}", self.name);
    }

    /// Waits for a call to ring this phone and answers it.
    pub fn answer(&mut self) -> Value {
        let incoming = self.wait("CALL_INCOMING", Duration::from_secs(15));
        let r = self.command("accept", "");
        assert_eq!(r["ok"], true, "{}: accept: {r}", self.name);
        self.wait("CALL_ESTABLISHED", Duration::from_secs(10));
        incoming
    }

    /// Calls `other`, a phone of the same tenant, which answers: the call is up on both.
    pub fn call_answered_by(&mut self, other: &mut Phone) {
        self.dial(&format!("sip:{}", other.name));
        other.answer();
        self.wait("CALL_ESTABLISHED", Duration::from_secs(15));
    }

    pub fn hangup(&mut self) {
        self.command("hangup", "");
    }

    /// Sends DTMF digits (RFC 2833 events), one after the other.
    pub fn keys(&mut self, digits: &str) {
        for d in digits.chars() {
            let r = self.command("sndcode", &d.to_string());
            assert_eq!(r["ok"], true, "{}: sndcode {d}: {r}", self.name);
            // A key is a press and a release; baresip sends the end of the event when the
            // next key (or nothing, after its own timer) follows.
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Waits until the current call's received audio holds `seconds` of sound.
    pub fn hears_for(&self, seconds: f64) {
        let want = (seconds * 8000.0 * 2.0) as u64 + 44;
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if self.newest_dump().and_then(|p| std::fs::metadata(p).ok()).is_some_and(|m| m.len() >= want) {
                return;
            }
            assert!(Instant::now() < deadline, "{}: received no {seconds} s of audio", self.name);
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn newest_dump(&self) -> Option<PathBuf> {
        let mut files: Vec<_> = std::fs::read_dir(self.dir.join("dump"))
            .ok()?
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.to_string_lossy().ends_with("-dec.wav"))
            .collect();
        files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
        files.pop()
    }

    /// Seconds of audio the current call has brought this phone so far.
    pub fn heard_secs(&self) -> f64 {
        let len = self.newest_dump().and_then(|p| std::fs::metadata(p).ok()).map_or(0, |m| m.len());
        len.saturating_sub(44) as f64 / 16000.0
    }

    /// What the last call's received audio sounded like: (RMS amplitude, rough frequency),
    /// as `sox … stat` measures it.
    pub fn heard(&self) -> (f64, f64) {
        self.heard_in(None)
    }

    /// As [`Phone::heard`], for `len` seconds from `from` only.
    fn heard_in(&self, window: Option<(f64, f64)>) -> (f64, f64) {
        let path = self.newest_dump().unwrap_or_else(|| panic!("{}: no call audio was dumped", self.name));
        let mut sox = Command::new("sox");
        sox.arg(&path).arg("-n");
        if let Some((from, len)) = window {
            sox.args(["trim", &format!("{from:.2}"), &format!("{len:.2}")]);
        }
        let out = sox.arg("stat").output().unwrap();
        let text = String::from_utf8_lossy(&out.stderr);
        let field = |name: &str| {
            text.lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.rsplit(':').next())
                .and_then(|v| v.trim().parse::<f64>().ok())
                .unwrap_or_else(|| panic!("sox stat of {}: no {name} in {text}", path.display()))
        };
        (field("RMS     amplitude"), field("Rough   frequency"))
    }

    /// Asserts that the last call carried `other`'s tone to this phone.
    pub fn heard_tone_of(&self, other: &Phone) {
        self.check_tone(other.tone_hz, &other.name, None)
    }

    /// Asserts that the last call carried a `hz` tone (played by something that is no
    /// [`Phone`]: a browser's microphone).
    pub fn heard_hz(&self, hz: u32, from: &str) {
        self.check_tone(hz, from, None)
    }

    /// Asserts that the last call carried `other`'s tone for `len` seconds from `from` (a
    /// stretch of a call that also held prompts and music).
    pub fn heard_tone_in(&self, other: &Phone, from: f64, len: f64) {
        self.check_tone(other.tone_hz, &other.name, Some((from, len)))
    }

    fn check_tone(&self, want: u32, other: &str, window: Option<(f64, f64)>) {
        let (rms, hz) = self.heard_in(window);
        let want = want as f64;
        assert!(
            rms > 0.05 && (hz - want).abs() < want * 0.1,
            "{} should have heard {}'s {want} Hz tone ({window:?}): rms {rms}, {hz} Hz",
            self.name,
            other
        );
    }
}

/// One netstring (`<len>:<bytes>,`); None at the end of the stream.
fn netstring(r: &mut impl Read) -> Option<Vec<u8>> {
    let mut len = 0usize;
    let mut b = [0u8; 1];
    loop {
        r.read_exact(&mut b).ok()?;
        match b[0] {
            b'0'..=b'9' => len = len * 10 + (b[0] - b'0') as usize,
            b':' => break,
            _ => return None,
        }
    }
    let mut buf = vec![0u8; len + 1];
    r.read_exact(&mut buf).ok()?;
    buf.pop();
    Some(buf)
}

/// `a` and `b` are in a call: each hears the other for a second, `a` hangs up, `b` sees the
/// call end, and each heard the other's tone.
#[allow(dead_code)]
pub fn talk_then_hang_up(a: &mut Phone, b: &mut Phone) {
    a.hears_for(1.0);
    b.hears_for(1.0);
    a.hangup();
    b.wait("CALL_CLOSED", Duration::from_secs(15));
    a.heard_tone_of(b);
    b.heard_tone_of(a);
}
