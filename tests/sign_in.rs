//! Sign-in, tokens and sessions against the real server over sockets (docs/security.md):
//! failures counted before the password is checked, the per-address budget, the bound on
//! argon2 checks, locks per account and address that answer unknown accounts alike, the
//! current password of a password change counted like a sign-in, rotating refresh tokens
//! whose reuse revokes the session, control characters refused in passwords, and the live
//! feed ending when its user is disabled.
//!
//! Clients choose their source address on loopback (127.0.0.1, 127.0.0.2…): the server
//! sees them as different addresses, as it would different hosts.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::api::{request_bytes, start, ApiServer, ADMIN};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

const A: &str = "127.0.0.1";
const B: &str = "127.0.0.2";

struct Answer {
    status: u16,
    head: String,
    body: Value,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().filter_map(|l| l.split_once(':')).find(|(k, _)| k.trim().eq_ignore_ascii_case(name)).map(|(_, v)| v.trim())
    }
}

async fn read_answer(mut s: tokio::net::TcpStream) -> Answer {
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8_lossy(&out).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no head in {text:?}"));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("no status in {head:?}"));
    let body = if body.is_empty() { Value::Null } else { serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body:?}")) };
    Answer { status, head: head.to_string(), body }
}

/// One request from source address `src`.
async fn call_from(src: &str, addr: SocketAddr, method: &str, path: &str, token: Option<&str>, body: Option<&Value>) -> Answer {
    let bytes = body.map(|b| serde_json::to_vec(b).unwrap()).unwrap_or_default();
    let mut s = common::api::connect_from(src.parse().unwrap(), addr).await;
    s.write_all(&request_bytes(method, path, token, &bytes)).await.unwrap();
    read_answer(s).await
}

async fn login_from(src: &str, srv: &ApiServer, email: &str, password: &str) -> Answer {
    call_from(src, srv.addr, "POST", "/api/v1/auth/login", None, Some(&json!({ "email": email, "password": password }))).await
}

/// Sends every request at once: each connection is opened and its request written but for
/// the body's last byte, then all last bytes go out together, so the server reads them
/// complete at about the same moment. The answers, in the order given.
async fn all_at_once(addr: SocketAddr, requests: Vec<(&str, Value)>) -> Vec<Answer> {
    let mut armed = Vec::new();
    for (path, body) in &requests {
        let bytes = request_bytes("POST", path, None, &serde_json::to_vec(body).unwrap());
        let mut s = common::api::connect_from(A.parse().unwrap(), addr).await;
        s.write_all(&bytes[..bytes.len() - 1]).await.unwrap();
        armed.push((s, bytes[bytes.len() - 1]));
    }
    for (s, last) in &mut armed {
        s.write_all(&[*last]).await.unwrap();
    }
    let tasks: Vec<_> = armed.into_iter().map(|(s, _)| tokio::spawn(read_answer(s))).collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    answers
}

/// The activity log's `login_failed` details, oldest first.
async fn failed_sign_ins(srv: &ApiServer, token: &str) -> Vec<String> {
    let (st, v) = srv.call("GET", "/api/v1/activity?action=login_failed&per_page=500", Some(token), None).await;
    assert_eq!(st, 200, "{v}");
    let mut details: Vec<String> = v["items"].as_array().unwrap().iter().map(|e| e["detail"].as_str().unwrap().to_string()).collect();
    details.reverse();
    details
}

/// An answer with the lock's end taken out (it is the time of the attempt).
fn without_time(a: &Answer) -> (u16, String, String) {
    let msg = a.body["message"].as_str().unwrap_or_default();
    (a.status, a.body["code"].as_str().unwrap_or_default().to_string(), msg.split(" until ").next().unwrap_or_default().to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_guesses_are_counted_before_they_are_checked() {
    let srv = start(|c| {
        c.password_policy.lockout_threshold = 5;
        c.sign_in.per_address_burst = 1000;
        c.sign_in.queued_checks = 64;
    })
    .await;
    let admin_pw = srv.admin_password.clone().unwrap();
    let s = srv.admin_token().await;
    // 16 guesses at once: before, 13 of them were checked (the count came after the check).
    let guesses = (0..16).map(|i| ("/api/v1/auth/login", json!({ "email": ADMIN, "password": format!("Wrong-Guess-{i}") }))).collect();
    let answers = all_at_once(srv.addr, guesses).await;
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    assert!(statuses.iter().all(|s| *s == 401 || *s == 423), "{statuses:?}");
    assert!(statuses.iter().filter(|s| **s == 401).count() <= 4, "at most 4 wrong answers before the lock: {statuses:?}");
    let checked = failed_sign_ins(&srv, &s).await.iter().filter(|d| d.starts_with("wrong password")).count();
    assert!((1..=5).contains(&checked), "5 is the threshold; {checked} guesses were checked");
    let a = login_from(A, &srv, ADMIN, &admin_pw).await;
    assert_eq!((a.status, a.body["code"].as_str()), (423, Some("account_locked")), "the right password waits out the lock: {}", a.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_that_keeps_failing_is_answered_429_and_others_are_not() {
    let srv = start(|c| {
        c.sign_in.per_address_burst = 3;
        c.sign_in.per_address_per_minute = 1;
    })
    .await;
    let admin_pw = srv.admin_password.clone().unwrap();
    // Right passwords do not spend the budget.
    for _ in 0..5 {
        assert_eq!(login_from(A, &srv, ADMIN, &admin_pw).await.status, 200);
    }
    for i in 0..3 {
        let a = login_from(A, &srv, &format!("nobody{i}@x.test"), "Wrong-Guess-1").await;
        assert_eq!(a.status, 401, "{}", a.body);
    }
    let a = login_from(A, &srv, "nobody9@x.test", "Wrong-Guess-1").await;
    assert_eq!((a.status, a.body["code"].as_str()), (429, Some("too_many_attempts")), "{}", a.body);
    let wait: u64 = a.header("retry-after").expect("Retry-After").parse().unwrap();
    assert!((1..=60).contains(&wait), "one attempt a minute comes back: {wait}");
    assert_eq!(login_from(A, &srv, ADMIN, &admin_pw).await.status, 429, "a spent address is not checked at all");
    // Another address is not punished for it.
    assert_eq!(login_from(B, &srv, "nobody9@x.test", "Wrong-Guess-1").await.status, 401);
    assert_eq!(login_from(B, &srv, ADMIN, &admin_pw).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_checks_beyond_the_running_and_queued_ones_are_refused_503() {
    let srv = start(|c| {
        c.sign_in.per_address_burst = 1000;
        c.sign_in.concurrent_checks = 1;
        c.sign_in.queued_checks = 1;
    })
    .await;
    // Unknown accounts: each costs a (dummy) argon2 check like a real one.
    let guesses = (0..24).map(|i| ("/api/v1/auth/login", json!({ "email": format!("nobody{i}@x.test"), "password": "Wrong-Guess-1" }))).collect();
    let answers = all_at_once(srv.addr, guesses).await;
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    assert!(statuses.iter().all(|s| *s == 401 || *s == 503), "{statuses:?}");
    assert!(statuses.contains(&401), "some were checked: {statuses:?}");
    let busy = answers.iter().find(|a| a.status == 503).unwrap_or_else(|| panic!("no check was refused: {statuses:?}"));
    assert_eq!(busy.body["code"], "busy", "{}", busy.body);
    assert!(busy.header("retry-after").is_some_and(|v| v.parse::<u64>().is_ok_and(|s| s >= 1)), "{}", busy.head);
    // A refused attempt was never checked: it counts against neither the account nor the
    // address, and the server answers the next one.
    let s = srv.admin_token().await;
    assert_eq!(failed_sign_ins(&srv, &s).await.len(), statuses.iter().filter(|s| **s == 401).count());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_holds_for_its_address_only_and_unknown_accounts_answer_alike() {
    let srv = start(|c| c.password_policy.lockout_threshold = 3).await;
    let admin_pw = srv.admin_password.clone().unwrap();
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for _ in 0..4 {
        known.push(login_from(A, &srv, ADMIN, "Wrong-Guess-1").await);
        unknown.push(login_from(A, &srv, "ghost@localhost", "Wrong-Guess-1").await);
    }
    let known: Vec<_> = known.iter().map(without_time).collect();
    let unknown: Vec<_> = unknown.iter().map(without_time).collect();
    assert_eq!(known.iter().map(|k| k.0).collect::<Vec<_>>(), [401, 401, 423, 423], "{known:?}");
    assert_eq!(unknown, known, "an account that does not exist answers exactly like the super admin's");
    // The super admin, locked out from A by someone else's guesses, signs in from B.
    assert_eq!(login_from(A, &srv, ADMIN, &admin_pw).await.status, 423);
    let b = login_from(B, &srv, ADMIN, &admin_pw).await;
    assert_eq!(b.status, 200, "a lock earned from one address does not lock out another: {}", b.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_current_passwords_count_like_sign_ins() {
    let srv = start(|c| c.password_policy.lockout_threshold = 3).await;
    let admin_pw = srv.admin_password.clone().unwrap();
    let token = login_from(A, &srv, ADMIN, &admin_pw).await.body["access_token"].as_str().unwrap().to_string();
    let change = |current: &str| json!({ "current_password": current, "new_password": "Brand-New-Pass-2026" });
    let mut statuses = Vec::new();
    for i in 0..3 {
        statuses.push(call_from(A, srv.addr, "POST", "/api/v1/me/password", Some(&token), Some(&change(&format!("Guess-{i}")))).await.status);
    }
    assert_eq!(statuses, [422, 422, 423], "the third wrong current password locks");
    let a = call_from(A, srv.addr, "POST", "/api/v1/me/password", Some(&token), Some(&change(&admin_pw))).await;
    assert_eq!(a.status, 423, "not even the right one is checked now: {}", a.body);
    assert_eq!(login_from(A, &srv, ADMIN, &admin_pw).await.status, 423, "one counter with sign-in");
    assert_eq!(login_from(B, &srv, ADMIN, &admin_pw).await.status, 200, "for this address only");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_tokens_rotate_and_a_spent_one_revokes_its_session() {
    let srv = start(|_| {}).await;
    let admin_pw = srv.admin_password.clone().unwrap();
    let refresh = |t: &str| json!({ "refresh_token": t });
    let first = login_from(A, &srv, ADMIN, &admin_pw).await.body;
    let other = login_from(A, &srv, ADMIN, &admin_pw).await.body;
    let r1 = first["refresh_token"].as_str().unwrap().to_string();
    let (st, v) = srv.call("POST", "/api/v1/auth/refresh", None, Some(&refresh(&r1))).await;
    assert_eq!(st, 200, "{v}");
    let r2 = v["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(r2, r1, "each use hands out the next refresh token");
    let (st, v) = srv.call("POST", "/api/v1/auth/refresh", None, Some(&refresh(&r2))).await;
    assert_eq!(st, 200, "the new one works: {v}");
    let (r3, a3) = (v["refresh_token"].as_str().unwrap().to_string(), v["access_token"].as_str().unwrap().to_string());
    assert_eq!(srv.call("GET", "/api/v1/me", Some(&a3), None).await.0, 200);

    // r1 was spent: whoever presents it again holds a copy. The session is revoked: its
    // newest refresh token and its access tokens stop working too.
    let (st, _) = srv.call("POST", "/api/v1/auth/refresh", None, Some(&refresh(&r1))).await;
    assert_eq!(st, 401, "a spent refresh token is refused");
    assert_eq!(srv.call("POST", "/api/v1/auth/refresh", None, Some(&refresh(&r3))).await.0, 401, "the family is revoked");
    assert_eq!(srv.call("GET", "/api/v1/me", Some(&a3), None).await.0, 401, "and the session's access tokens");
    // Another sign-in of the same user is another family, untouched.
    let (st, v) = srv.call("POST", "/api/v1/auth/refresh", None, Some(&refresh(other["refresh_token"].as_str().unwrap()))).await;
    assert_eq!(st, 200, "{v}");

    // The same token used twice at once: one use rotates, the other is a reuse, so the
    // rotated token is revoked as well.
    let rb = v["refresh_token"].as_str().unwrap().to_string();
    let answers = all_at_once(srv.addr, vec![("/api/v1/auth/refresh", refresh(&rb)), ("/api/v1/auth/refresh", refresh(&rb))]).await;
    let mut statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    statuses.sort();
    assert_eq!(statuses, [200, 401]);
    let won = answers.iter().find(|a| a.status == 200).unwrap().body["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(srv.call("POST", "/api/v1/auth/refresh", None, Some(&refresh(&won))).await.0, 401);

    let s = srv.admin_token().await;
    let (_, log) = srv.call("GET", "/api/v1/activity?action=session_revoked", Some(&s), None).await;
    assert_eq!(log["total"], 2, "each reuse is in the activity log: {log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passwords_with_control_characters_are_refused() {
    let srv = start(|_| {}).await;
    let s = srv.admin_token().await;
    // 11 characters with an upper-case letter, a lower-case one and a digit: it passed.
    let nul = format!("Aa1{}", "\0".repeat(8));
    let (st, v) = srv
        .call("POST", "/api/v1/users", Some(&s), Some(&json!({ "email": "root2@x.test", "name": "R", "role": "super_admin", "password": nul })))
        .await;
    assert_eq!((st, v["field"].as_str()), (422, Some("password")), "{v}");
    assert!(v["message"].as_str().unwrap().contains("control characters"), "{v}");
    let (st, v) = srv
        .call(
            "POST",
            "/api/v1/me/password",
            Some(&s),
            Some(&json!({ "current_password": srv.admin_password.as_deref().unwrap(), "new_password": "Long-Enough-2026\u{1b}[2J" })),
        )
        .await;
    assert_eq!((st, v["field"].as_str()), (422, Some("new_password")), "{v}");
    assert!(v["message"].as_str().unwrap().contains("control characters"), "{v}");
    assert_eq!(srv.call("GET", "/api/v1/me", Some(&s), None).await.0, 200, "the password was not changed (the tokens still work)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_feed_ends_when_its_user_is_disabled() {
    let (_switch, sb) = common::process::demo_beside_switch("feed-revocation").await;
    let root = common::process::login(sb.http, "admin@switchboard.test", "Demo-Admin-2026").await;
    let acme = common::process::login(sb.http, "tenant@acme.test", "Demo-Tenant-2026").await;
    let path = format!("/api/v1/realtime/feed?access_token={acme}");
    // The feed of a switch that is online streams on (offline, it ends after its snapshot).
    let mut feed = None;
    for _ in 0..300 {
        let mut s = tokio::net::TcpStream::connect(sb.http).await.unwrap();
        s.write_all(format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\nConnection: close\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut lines = BufReader::new(s).lines();
        let mut snapshot = None;
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(d) = line.strip_prefix("data:") {
                snapshot = Some(serde_json::from_str::<Value>(d.trim()).unwrap());
                break;
            }
        }
        if snapshot.as_ref().is_some_and(|s| s["switch"]["state"] == "online") {
            feed = Some(lines);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut feed = feed.expect("a feed of the switch online");

    let (st, users) = common::api::request(sb.http, "GET", "/api/v1/users?q=tenant@acme.test", Some(&root), b"").await;
    assert_eq!(st, 200, "{users}");
    let id = users["items"][0]["id"].as_i64().unwrap();
    let (st, v) = common::api::request(sb.http, "PATCH", &format!("/api/v1/users/{id}"), Some(&root), br#"{"enabled":false}"#).await;
    assert_eq!(st, 200, "{v}");
    // The stream ends (the server closes it) instead of streaming on for a disabled user.
    let ended = tokio::time::timeout(Duration::from_secs(10), async { while let Ok(Some(_)) = feed.next_line().await {} }).await;
    assert!(ended.is_ok(), "the feed was still open 10 s after its user was disabled");
    let (st, _) = common::api::request(sb.http, "GET", &path, None, b"").await;
    assert_eq!(st, 401, "and it cannot be opened again");
}
