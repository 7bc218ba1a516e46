//! The configuration API under load: a filtered, paged extension list over 100,000 extensions
//! in 1,000 tenants (latency percentiles through HTTP, keep-alive), sign-ins per second, and
//! mod_xml_curl's questions over the same users (directory, sofia.conf, dialplan) — the
//! issue's target is p99 < 5 ms with 50,000 users.
//!
//! `cargo bench --bench api` (env BENCH_TENANTS, BENCH_EXTENSIONS_PER_TENANT, BENCH_REQUESTS).
//! Prints figures; asserts nothing about time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use switchboard::store::resource::Actor;
use switchboard::store::{resources as res, Store, TenantId};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// One keep-alive HTTP/1.1 connection.
struct Client {
    r: BufReader<tokio::net::tcp::OwnedReadHalf>,
    w: tokio::net::tcp::OwnedWriteHalf,
}

impl Client {
    async fn connect(addr: std::net::SocketAddr) -> Client {
        let (r, w) = tokio::net::TcpStream::connect(addr).await.unwrap().into_split();
        Client { r: BufReader::new(r), w }
    }
    async fn call(&mut self, method: &str, path: &str, token: Option<&str>, body: &str) -> (u16, Vec<u8>) {
        let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
        let req = format!("{method} {path} HTTP/1.1\r\nHost: bench\r\n{auth}Content-Length: {}\r\n\r\n{body}", body.len());
        self.w.write_all(req.as_bytes()).await.unwrap();
        let mut line = String::new();
        self.r.read_line(&mut line).await.unwrap();
        let status = line.split(' ').nth(1).unwrap().parse().unwrap();
        let mut len = 0;
        loop {
            line.clear();
            self.r.read_line(&mut line).await.unwrap();
            if line == "\r\n" {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap();
            }
        }
        let mut buf = vec![0; len];
        self.r.read_exact(&mut buf).await.unwrap();
        (status, buf)
    }
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1].as_secs_f64() * 1e3
}

fn report(name: &str, mut lat: Vec<Duration>, wall: Duration) {
    lat.sort();
    println!(
        "{name:<48} n {:>6}  p50 {:>7.3} ms  p90 {:>7.3} ms  p99 {:>7.3} ms  max {:>7.3} ms  ({:.0} req/s)",
        lat.len(),
        pct(&lat, 0.50),
        pct(&lat, 0.90),
        pct(&lat, 0.99),
        lat.last().unwrap().as_secs_f64() * 1e3,
        lat.len() as f64 / wall.as_secs_f64()
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let tenants = env("BENCH_TENANTS", 1000);
    let per = env("BENCH_EXTENSIONS_PER_TENANT", 100);
    let requests = env("BENCH_REQUESTS", 3000);
    let dir = std::env::temp_dir().join(format!("sb-bench-api-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = switchboard::config::Config { data_dir: dir.clone(), ..Default::default() };

    // Seed through the same checked writes the API uses.
    let t0 = Instant::now();
    let (store, admins) = tokio::task::spawn_blocking(move || {
        let store = Store::open(&dir.join("switchboard.db")).unwrap();
        let actor = Actor { user_id: 0, admin: true, enforce_packages: true };
        let hash = switchboard::api::auth::hash_password("Bench-Pass-2026");
        let mut admins = Vec::new();
        for t in 0..tenants {
            let body = json!({ "company": format!("Tenant {t}"), "email": format!("ops@t{t}.test"), "sip_domain": format!("t{t}.bench.test"), "permissions": ["fpbx_extension"] });
            let tid = store.create(&res::TENANTS, None, &actor, body.as_object().unwrap()).unwrap()["id"].as_i64().unwrap();
            for e in 0..per {
                let body = json!({ "number": format!("{}", 1000 + e), "display_name": format!("User {e} of {t}"), "type": if e % 10 == 0 { "fax" } else { "voice" } });
                store.create(&res::EXTENSIONS, Some(TenantId(tid)), &actor, body.as_object().unwrap()).unwrap();
            }
            if t % 20 == 0 {
                let email = format!("admin@t{t}.test");
                let new = switchboard::store::accounts::NewUser {
                    tenant: Some(TenantId(tid)),
                    email: email.clone(),
                    name: "Admin".into(),
                    role: switchboard::access::Role::TenantAdmin,
                    password_hash: hash.clone(),
                    permissions: Default::default(),
                    fax_email: String::new(),
                };
                store.create_user(&new, &Default::default()).unwrap();
                admins.push(email);
            }
        }
        let root = switchboard::store::accounts::NewUser {
            tenant: None,
            email: "root@bench.test".into(),
            name: "Root".into(),
            role: switchboard::access::Role::SuperAdmin,
            password_hash: hash,
            permissions: Default::default(),
            fax_email: String::new(),
        };
        store.create_user(&root, &Default::default()).unwrap();
        (store, admins)
    })
    .await
    .unwrap();
    let seeded = t0.elapsed();
    println!(
        "seeded {tenants} tenants, {} extensions through Store::create in {:.1} s ({:.0} creates/s)",
        tenants * per,
        seeded.as_secs_f64(),
        (tenants * (per + 1)) as f64 / seeded.as_secs_f64()
    );

    let keys = switchboard::api::auth::Keys::load_or_create(&cfg.data_dir).unwrap();
    let api = Arc::new(switchboard::api::router::Api::new(store, keys, Arc::new(cfg), switchboard::realtime::Live::detached()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    {
        use warp::Filter;
        let routes = switchboard::api::api(api.clone()).or(switchboard::api::freeswitch::xml_curl(api));
        tokio::spawn(warp::serve(routes).incoming(listener).run());
    }

    // Sign-ins per second: 4 clients, argon2 verification each.
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..4 {
        let admins = admins.clone();
        tasks.push(tokio::spawn(async move {
            let mut client = Client::connect(addr).await;
            let mut tokens = Vec::new();
            let mut lat = Vec::new();
            for (_, email) in admins.iter().enumerate().filter(|(i, _)| i % 4 == c) {
                let s = Instant::now();
                let (st, body) =
                    client.call("POST", "/api/v1/auth/login", None, &format!(r#"{{"email":"{email}","password":"Bench-Pass-2026"}}"#)).await;
                lat.push(s.elapsed());
                assert_eq!(st, 200);
                let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
                tokens.push(v["access_token"].as_str().unwrap().to_string());
            }
            (tokens, lat)
        }));
    }
    let mut tokens = Vec::new();
    let mut lat = Vec::new();
    for t in tasks {
        let (tk, l) = t.await.unwrap();
        tokens.extend(tk);
        lat.extend(l);
    }
    let wall = t0.elapsed();
    println!(
        "logins: {} in {:.2} s = {:.1} logins/s (argon2id, 4 concurrent clients)",
        lat.len(),
        wall.as_secs_f64(),
        lat.len() as f64 / wall.as_secs_f64()
    );
    report("POST /auth/login", lat, wall);

    // The list: per_page 50, search, a filter, random page, random tenant admin; 2 connections.
    let queries = ["?per_page=50&page=1", "?per_page=50&page=2&type=voice", "?per_page=20&q=User%201&type=voice", "?per_page=50&q=105"];
    for q in queries {
        let t0 = Instant::now();
        let mut tasks = Vec::new();
        for c in 0..2 {
            let tokens = tokens.clone();
            tasks.push(tokio::spawn(async move {
                let mut client = Client::connect(addr).await;
                let mut lat = Vec::with_capacity(requests / 2);
                for i in 0..requests / 2 {
                    let tok = &tokens[(i * 7 + c) % tokens.len()];
                    let s = Instant::now();
                    let (st, body) = client.call("GET", &format!("/api/v1/extensions{q}"), Some(tok), "").await;
                    lat.push(s.elapsed());
                    assert_eq!(st, 200, "{}", String::from_utf8_lossy(&body));
                }
                lat
            }));
        }
        let mut lat = Vec::new();
        for t in tasks {
            lat.extend(t.await.unwrap());
        }
        report(&format!("GET /extensions{q}"), lat, t0.elapsed());
    }
    // The super admin's view: one tenant by id, and a search over every tenant's extensions.
    let mut c = Client::connect(addr).await;
    let (st, body) = c.call("POST", "/api/v1/auth/login", None, r#"{"email":"root@bench.test","password":"Bench-Pass-2026"}"#).await;
    assert_eq!(st, 200);
    let root: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let root = root["access_token"].as_str().unwrap().to_string();
    for q in [format!("?tenant_id={}&per_page=50", tenants / 2), "?per_page=50&q=of%20999".to_string()] {
        let t0 = Instant::now();
        let mut lat = Vec::new();
        for _ in 0..(requests / 10).max(10) {
            let s = Instant::now();
            let (st, _) = c.call("GET", &format!("/api/v1/extensions{q}"), Some(&root), "").await;
            lat.push(s.elapsed());
            assert_eq!(st, 200);
        }
        report(&format!("super admin GET /extensions{q}"), lat, t0.elapsed());
    }

    // mod_xml_curl: a phone of a random tenant registers (directory, sip_auth); the switch
    // loads sofia.conf; a call enters a tenant's dialplan context. 2 connections, as
    // FreeSWITCH's threads would ask.
    let forms: [(&str, Box<dyn Fn(usize) -> String + Send + Sync>); 3] = [
        (
            "xml_curl directory sip_auth (random user)",
            Box::new(move |i: usize| {
                let (t, e) = ((i * 7919) % tenants, 1000 + (i * 104_729) % per);
                format!("hostname=fs&section=directory&tag_name=domain&key_name=name&key_value=t{t}.bench.test&Event-Name=REQUEST_PARAMS&action=sip_auth&sip_auth_username={e}&sip_auth_realm=t{t}.bench.test&user={e}&domain=t{t}.bench.test")
            }),
        ),
        (
            "xml_curl configuration sofia.conf",
            Box::new(|_| "section=configuration&tag_name=configuration&key_name=name&key_value=sofia.conf".to_string()),
        ),
        (
            "xml_curl dialplan (tenant context)",
            Box::new(move |i: usize| format!("section=dialplan&Caller-Context=t{}.bench.test&Caller-Destination-Number=1001", (i * 31) % tenants)),
        ),
    ];
    let forms = Arc::new(forms);
    for k in 0..forms.len() {
        let t0 = Instant::now();
        let mut tasks = Vec::new();
        for c in 0..2 {
            let forms = forms.clone();
            tasks.push(tokio::spawn(async move {
                let mut client = Client::connect(addr).await;
                let mut lat = Vec::with_capacity(requests);
                for i in 0..requests {
                    let body = (forms[k].1)(i * 2 + c);
                    let s = Instant::now();
                    let (st, doc) = client.call("POST", "/freeswitch/xml", None, &body).await;
                    lat.push(s.elapsed());
                    assert_eq!(st, 200);
                    assert!(!String::from_utf8_lossy(&doc).contains("not found"), "{body}");
                }
                lat
            }));
        }
        let mut lat = Vec::new();
        for t in tasks {
            lat.extend(t.await.unwrap());
        }
        report(forms[k].0, lat, t0.elapsed());
    }
}
