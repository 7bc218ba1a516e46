//! Zero-touch provisioning through the real path: `switchboard serve --demo` as a process,
//! a phone asking for its files over HTTP as the vendors' phones do (challenge, digest or
//! basic, or a per-device token URL), the device page's details in the API, and a resync
//! sent to the simulated switch.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use base64::Engine as _;
use common::api::request;
use serde_json::{json, Value};
use switchboard::provision::guard::REALM;
use switchboard::sim::{Registration, Switch};
use switchboard::xml_curl::{a1_hash, md5_hex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PASSWORD: &str = "provision-test";
/// The demo's Yealink at Acme's reception, line 1 = extension 1001.
const MAC: &str = "805ec0123456";

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn headers(&self, name: &str) -> Vec<&str> {
        self.headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).collect()
    }
}

/// One GET as a phone sends it.
async fn fetch(addr: SocketAddr, path: &str, auth: Option<&str>) -> Answer {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut head =
        format!("GET {path} HTTP/1.1\r\nHost: pbx.test\r\nUser-Agent: Yealink SIP-T54W 96.86.0.100 80:5e:c0:12:34:56\r\nConnection: close\r\n");
    if let Some(a) = auth {
        head += &format!("Authorization: {a}\r\n");
    }
    head += "\r\n";
    s.write_all(head.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8_lossy(&out).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers = lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_string(), v.trim().to_string())).collect();
    Answer { status, headers, body: body.to_string() }
}

/// The digest a phone computes from a challenge.
fn digest(challenge: &str, user: &str, secret: &str, uri: &str) -> String {
    let nonce = challenge.split("nonce=\"").nth(1).unwrap().split('"').next().unwrap();
    let ha1 = a1_hash(user, REALM, secret);
    let ha2 = md5_hex(&format!("GET:{uri}"));
    let response = md5_hex(&format!("{ha1}:{nonce}:00000001:0a4f113b:auth:{ha2}"));
    format!("Digest username=\"{user}\", realm=\"{REALM}\", nonce=\"{nonce}\", uri=\"{uri}\", algorithm=MD5, response=\"{response}\", qop=auth, nc=00000001, cnonce=\"0a4f113b\"")
}

fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
}

struct World {
    switch: Switch,
    sb: common::process::Served,
}

async fn world() -> World {
    let (switch, sb) = common::process::demo_beside_switch(PASSWORD).await;
    World { switch, sb }
}

impl World {
    async fn login(&self, email: &str, password: &str) -> String {
        common::process::login(self.sb.http, email, password).await
    }

    async fn call(&self, method: &str, path: &str, token: &str, body: Value) -> (u16, Value) {
        let body = if body.is_null() { Vec::new() } else { body.to_string().into_bytes() };
        request(self.sb.http, method, path, Some(token), &body).await
    }

    /// The demo device's id and its provisioning details.
    async fn device(&self, token: &str) -> (i64, Value) {
        let (st, list) = self.call("GET", &format!("/api/v1/devices?mac={MAC}"), token, Value::Null).await;
        assert_eq!(st, 200, "{list}");
        let id = list["items"][0]["id"].as_i64().expect("the demo device");
        let (st, d) = self.call("GET", &format!("/api/v1/devices/{id}/provisioning"), token, Value::Null).await;
        assert_eq!(st, 200, "{d}");
        (id, d)
    }

    async fn get(&self, path: &str, auth: Option<&str>) -> Answer {
        fetch(self.sb.http, path, auth).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_gets_its_credentials_only_by_proving_it_is_that_device() {
    let w = world().await;
    let acme = w.login("tenant@acme.test", "Demo-Tenant-2026").await;
    let (id, d) = w.device(&acme).await;
    let secret = d["password"].as_str().unwrap().to_string();
    assert_eq!(d["username"], MAC);
    assert!(secret.len() >= 16, "{d}");
    assert_eq!(d["file"], format!("{MAC}.cfg"));
    let base = d["base_url"].as_str().unwrap();
    assert!(base.ends_with("/provision/"), "{d}");
    assert_eq!(d["dhcp_option_66"], base);
    assert_eq!(d["device_url"], format!("{base}d/{secret}/"));

    // Common files: to anyone, with nothing of a tenant.
    let boot = w.get("/provision/y000000000000.boot", None).await;
    assert_eq!(boot.status, 200);
    assert!(boot.body.starts_with("#!version:1.0.0.1\n"), "{}", boot.body);
    let common = w.get("/provision/y000000000044.cfg", None).await;
    assert_eq!(common.status, 200);
    assert!(!common.body.contains("acme") && !common.body.contains("password"));

    // The phone's own file without credentials: a challenge (digest and basic) — the same
    // for a MAC nobody has, so the answer tells nothing.
    let path = format!("/provision/{MAC}.cfg");
    let first = w.get(&path, None).await;
    assert_eq!(first.status, 401);
    let challenges = first.headers("www-authenticate");
    assert!(challenges.iter().any(|c| c.starts_with("Digest ") && c.contains("qop=\"auth\"")), "{challenges:?}");
    assert!(challenges.iter().any(|c| c.starts_with("Basic ")), "{challenges:?}");
    let unknown = w.get("/provision/001122334455.cfg", None).await;
    assert_eq!((unknown.status, unknown.headers("www-authenticate").len()), (401, 2));
    assert!(!first.body.contains("Pa55") && first.body == unknown.body);

    // Digest with the device's secret: the file, with extension 1001's credentials.
    let digest_challenge = challenges.iter().find(|c| c.starts_with("Digest ")).unwrap();
    let got = w.get(&path, Some(&digest(digest_challenge, MAC, &secret, &path))).await;
    assert_eq!(got.status, 200, "{}", got.body);
    let (st, ext) = w.call("GET", "/api/v1/extensions?number=1001", &acme, Value::Null).await;
    assert_eq!(st, 200);
    let sip_password = ext["items"][0]["sip_password"].as_str().unwrap();
    assert!(got.body.contains(&format!("account.1.password = {sip_password}\n")), "{}", got.body);
    assert!(got.body.contains("account.1.sip_server.1.address = acme.switchboard.test\n"));
    assert!(got.body.contains("linekey.2.value = 1002\n"), "the profile's keys: {}", got.body);

    // Wrong secret, a digest for another file, an unknown MAC with credentials, another
    // MAC's user name: one and the same 404.
    let wrong = w.get(&path, Some(&digest(digest_challenge, MAC, "not-the-secret-at-all", &path))).await;
    let replayed = w.get(&path, Some(&digest(digest_challenge, MAC, &secret, "/provision/805ec0123456.boot"))).await;
    let nobody = w.get("/provision/001122334455.cfg", Some(&basic("001122334455", &secret))).await;
    let other_user = w.get(&path, Some(&basic("001122334455", &secret))).await;
    // A nonce we never issued, and a header that is neither digest nor basic: the same 404.
    let forged = w.get(&path, Some(&digest("Digest nonce=\"1700000000.0123456789abcdef0123456789abcdef\"", MAC, &secret, &path))).await;
    let garbled = w.get(&path, Some("Digest username=\"805ec0123456")).await;
    for a in [&wrong, &replayed, &nobody, &other_user, &forged, &garbled] {
        assert_eq!((a.status, a.body.as_str()), (404, "not found\n"));
    }

    // Basic works too (over the TLS proxy in front), with the MAC in any notation.
    let b = w.get(&path, Some(&basic(MAC, &secret))).await;
    assert_eq!(b.status, 200);
    let b = w.get(&path, Some(&basic("80-5E-C0-12-34-56", &secret))).await;
    assert_eq!(b.status, 200);

    // The per-device URL needs nothing else; a wrong token or another MAC under it is 404.
    let t = w.get(&format!("/provision/d/{secret}/{MAC}.cfg"), None).await;
    assert_eq!(t.status, 200);
    assert!(t.body.contains(sip_password));
    assert_eq!(w.get(&format!("/provision/d/{secret}/y000000000000.boot"), None).await.status, 200);
    assert_eq!(w.get(&format!("/provision/d/{secret}/001122334455.cfg"), None).await.status, 404);
    assert_eq!(w.get(&format!("/provision/d/{}/{MAC}.cfg", "x".repeat(20)), None).await.status, 404);
    // A file of another vendor's naming is not this Yealink's.
    assert_eq!(w.get(&format!("/provision/d/{secret}/cfg{MAC}.xml"), None).await.status, 404);

    // Every delivery of credentials is in the activity log with the file and the address.
    let (_, d) = w.call("GET", &format!("/api/v1/devices/{id}/provisioning"), &acme, Value::Null).await;
    let downloads = d["downloads"].as_array().unwrap();
    assert_eq!(downloads.len(), 4, "digest, two basic, one token: {d}");
    assert!(downloads.iter().all(|e| e["detail"].as_str().unwrap().ends_with(" to 127.0.0.1")), "{d}");
    assert_eq!(downloads[0]["detail"], format!("{MAC}.cfg to 127.0.0.1"));
    let (_, log) = w.call("GET", "/api/v1/activity?action=provisioned", &acme, Value::Null).await;
    assert_eq!(log["items"][0]["object"], format!("devices/{id}"));

    // A device of the generic vendor has no files, even for its own token.
    let (st, generic) = w.call("POST", "/api/v1/devices", &acme, json!({ "mac": "02:00:00:00:00:01", "vendor": "generic" })).await;
    assert_eq!(st, 201, "{generic}");
    let g = generic["provision_secret"].as_str().unwrap();
    assert_eq!(w.get(&format!("/provision/d/{g}/020000000001.cfg"), None).await.status, 404);
    let (_, gd) = w.call("GET", &format!("/api/v1/devices/{}/provisioning", generic["id"]), &acme, Value::Null).await;
    assert_eq!((gd["provisioned"].as_bool(), gd["file"].is_null()), (Some(false), true), "{gd}");

    // Another tenant sees neither the details nor the downloads (Globex does not hold the
    // devices permission; Acme's agent does not either).
    let globex = w.login("tenant@globex.test", "Demo-Globex-2026").await;
    let (st, v) = w.call("GET", &format!("/api/v1/devices/{id}/provisioning"), &globex, Value::Null).await;
    assert_eq!(st, 403, "{v}");
    assert!(!v.to_string().contains(&secret));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_change_reaches_the_next_download_and_a_new_secret_locks_out_the_old() {
    let w = world().await;
    let acme = w.login("tenant@acme.test", "Demo-Tenant-2026").await;
    let (id, d) = w.device(&acme).await;
    let secret = d["password"].as_str().unwrap().to_string();
    let url = format!("/provision/d/{secret}/{MAC}.cfg");
    assert!(w.get(&url, None).await.body.contains("account.1.codec.g722.priority = 1\n"));

    let (st, profiles) = w.call("GET", "/api/v1/device-profiles", &acme, Value::Null).await;
    assert_eq!(st, 200);
    let pid = profiles["items"][0]["id"].as_i64().unwrap();
    let (st, v) = w
        .call(
            "PATCH",
            &format!("/api/v1/device-profiles/{pid}"),
            &acme,
            json!({ "codecs": ["PCMA"], "dtmf_mode": "info", "timezone": "Europe/Paris",
            "feature_keys": [{ "type": "speed_dial", "value": "*411", "label": "Directory" }] }),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    let body = w.get(&url, None).await.body;
    assert!(body.contains("account.1.codec.pcma.priority = 1\n") && body.contains("account.1.codec.g722.enable = 0\n"), "{body}");
    assert!(body.contains("account.1.dtmf.type = 2\n"));
    assert!(body.contains("local_time.time_zone = +1\n") && body.contains("local_time.start_time = 3/5/7/2\n"), "{body}");
    assert!(body.contains("linekey.1.value = *411\n") && !body.contains("linekey.2."), "{body}");

    // A feature key that would smuggle a dial string is refused by field.
    let (st, v) = w
        .call("PATCH", &format!("/api/v1/device-profiles/{pid}"), &acme, json!({ "feature_keys": [{ "type": "blf", "value": "1002@evil;x" }] }))
        .await;
    assert_eq!((st, v["field"].as_str()), (422, Some("feature_keys")), "{v}");

    // Sending the secret empty draws a new one: the old URL stops working at once.
    let (st, v) = w.call("PATCH", &format!("/api/v1/devices/{id}"), &acme, json!({ "provision_secret": "" })).await;
    assert_eq!(st, 200, "{v}");
    let fresh = v["provision_secret"].as_str().unwrap();
    assert_ne!(fresh, secret);
    assert_eq!(w.get(&url, None).await.status, 404);
    assert_eq!(w.get(&format!("/provision/d/{fresh}/{MAC}.cfg"), None).await.status, 200);
    let (st, v) = w.call("PATCH", &format!("/api/v1/devices/{id}"), &acme, json!({ "provision_secret": "short" })).await;
    assert_eq!((st, v["field"].as_str()), (422, Some("provision_secret")), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resync_sends_check_sync_to_the_registered_lines() {
    let w = world().await;
    let acme = w.login("tenant@acme.test", "Demo-Tenant-2026").await;
    let (id, _) = w.device(&acme).await;
    let path = format!("/api/v1/devices/{id}/resync");
    // Wait for the control connection before asking anything of the switch.
    for _ in 0..300 {
        let (_, v) = w.call("GET", "/api/v1/channels", &acme, Value::Null).await;
        if v["switch"]["state"] == "online" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (st, v) = w.call("POST", &path, &acme, Value::Null).await;
    assert_eq!(st, 409, "nothing registered yet: {v}");
    assert!(w.switch.sofia_commands().iter().all(|c| !c.contains("check_sync")));

    w.switch.add_registration(Registration {
        user: "1001".into(),
        realm: "acme.switchboard.test".into(),
        contact: "sip:1001@192.0.2.10:5060".into(),
        network_ip: "192.0.2.10".into(),
        agent: "Yealink SIP-T54W".into(),
    });
    let mut sent = Value::Null;
    for _ in 0..300 {
        let (st, v) = w.call("POST", &path, &acme, Value::Null).await;
        if st == 200 {
            sent = v;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(sent["sent"], json!(["1001"]), "{sent}");
    assert_eq!(w.switch.sofia_commands(), ["internal check_sync 1001@acme.switchboard.test"]);
    let globex = w.login("tenant@globex.test", "Demo-Globex-2026").await;
    assert_eq!(w.call("POST", &path, &globex, Value::Null).await.0, 403);
    assert_eq!(w.switch.sofia_commands().len(), 1, "nothing sent for another tenant");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_guessing_macs_is_slowed_then_refused() {
    let w = world().await;
    let acme = w.login("tenant@acme.test", "Demo-Tenant-2026").await;
    let (_, d) = w.device(&acme).await;
    let secret = d["password"].as_str().unwrap().to_string();
    let mut times = Vec::new();
    let mut statuses = Vec::new();
    for i in 0..15 {
        let t = std::time::Instant::now();
        let a = w.get(&format!("/provision/0011223344{i:02x}.cfg"), Some(&basic(&format!("0011223344{i:02x}"), "guess-guess-guess"))).await;
        times.push(t.elapsed());
        statuses.push(a.status);
    }
    assert!(statuses.iter().all(|s| *s == 404), "{statuses:?}");
    // The first five are answered at once; the ones after are held back (half a second).
    assert!(times[5..].iter().all(|t| *t >= Duration::from_millis(450)), "{times:?}");
    // Now refused, even with the right credentials, with a Retry-After.
    let refused = w.get(&format!("/provision/d/{secret}/{MAC}.cfg"), None).await;
    assert_eq!(refused.status, 429);
    let retry: u64 = refused.headers("retry-after")[0].parse().unwrap();
    assert!(retry > 800 && retry <= 900, "{retry}");
    // The API on the same address is not affected.
    assert_eq!(w.call("GET", "/api/v1/devices", &acme, Value::Null).await.0, 200);
}

/// 60 guesses sent at once from one address (fewer than the HTTP listener's connections per
/// address, so that every one reaches the guard): each is counted before it is checked, so no
/// more are checked (answered 404) than the limit of 15; the rest are refused (429)
/// unchecked, and the address is then refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_parallel_guesses_gets_no_more_checked_than_the_limit() {
    let w = world().await;
    let http = w.sb.http;
    let guesses: Vec<_> = (0..60u32)
        .map(|i| {
            tokio::spawn(async move {
                let mac = format!("0011223{i:05x}");
                fetch(http, &format!("/provision/{mac}.cfg"), Some(&basic(&mac, "guess-guess-guess"))).await.status
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for g in guesses {
        statuses.push(g.await.unwrap());
    }
    let checked = statuses.iter().filter(|s| **s == 404).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((checked, refused), (15, 45), "{statuses:?}");
    let after = w.get(&format!("/provision/{MAC}.cfg"), Some(&basic(MAC, "guess-guess-guess"))).await;
    assert_eq!(after.status, 429, "refused for the refusal time");
}
