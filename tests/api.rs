//! The configuration API over HTTP: accounts, policy, limits, validation, paging, hostile input.

mod common;

use common::api::{start, start_in, ApiServer, ADMIN};
use serde_json::{json, Value};

const PW: &str = "Strong-Pass-2026";

/// A tenant holding `perms` and its tenant admin's token.
async fn tenant(srv: &ApiServer, s: &str, domain: &str, perms: &[&str]) -> (i64, String) {
    let t = srv
        .create(s, "/api/v1/tenants", json!({ "company": domain, "email": format!("ops@{domain}"), "sip_domain": domain, "permissions": perms }))
        .await;
    let email = format!("admin@{domain}");
    srv.create(s, "/api/v1/users", json!({ "email": email, "name": "Admin", "role": "tenant_admin", "password": PW, "tenant_id": t })).await;
    (t, srv.login(&email, PW).await)
}

const ALL: &[&str] = &[
    "send_fax",
    "receive_fax",
    "fax_setting",
    "contacts",
    "fpbx_extension",
    "devices",
    "ring_groups",
    "call_queues",
    "ivr_menus",
    "voicemails",
    "conferences",
    "follow_me",
    "inbound_routes",
    "realtime",
    "music_on_hold",
];

#[tokio::test]
async fn lockout_counts_failures_and_survives_a_restart() {
    let srv = start(|c| {
        c.password_policy.lockout_threshold = 3;
        c.password_policy.lockout_minutes = 15;
    })
    .await;
    let s = srv.admin_token().await;
    let (_, _) = tenant(&srv, &s, "lock.test", &[]).await;
    let login = |pw: &'static str| json!({ "email": "admin@lock.test", "password": pw });
    for _ in 0..2 {
        let (st, v) = srv.call("POST", "/api/v1/auth/login", None, Some(&login("Wrong-Pass-1"))).await;
        assert_eq!((st, v["code"].as_str()), (401, Some("unauthorized")));
    }
    let (st, v) = srv.call("POST", "/api/v1/auth/login", None, Some(&login("Wrong-Pass-1"))).await;
    assert_eq!((st, v["code"].as_str()), (423, Some("account_locked")), "the third failure locks: {v}");
    let (st, _) = srv.call("POST", "/api/v1/auth/login", None, Some(&login(PW))).await;
    assert_eq!(st, 423, "the right password does not open a locked account");
    // Unknown accounts answer exactly like wrong passwords.
    let (st, v) = srv.call("POST", "/api/v1/auth/login", None, Some(&json!({ "email": "ghost@lock.test", "password": "x" }))).await;
    assert_eq!((st, v["message"].as_str()), (401, Some("wrong email or password")));

    let dir = srv.dir.clone();
    srv.stop().await;
    let srv = start_in(&dir, |c| c.password_policy.lockout_threshold = 3).await;
    let (st, _) = srv.call("POST", "/api/v1/auth/login", None, Some(&login(PW))).await;
    assert_eq!(st, 423, "still locked after a restart");
    // When the lock expires the right password works again.
    srv.store
        .conn()
        .unwrap()
        .execute(
            "UPDATE login_attempts SET locked_until = '2000-01-01T00:00:00Z', expires_at = '2000-01-01T00:00:00Z' WHERE email = 'admin@lock.test'",
            [],
        )
        .unwrap();
    let (st, _) = srv.call("POST", "/api/v1/auth/login", None, Some(&login(PW))).await;
    assert_eq!(st, 200);
    // Failures and the lock are in the activity log.
    let s = srv.login(ADMIN, &admin_password_of(&srv).await).await;
    let (_, log) = srv.call("GET", "/api/v1/activity?action=login_failed", Some(&s), None).await;
    assert!(log["total"].as_i64().unwrap() >= 5, "{log}");
    assert!(log["items"].as_array().unwrap().iter().any(|e| e["detail"] == "wrong password; locked; address 127.0.0.1"), "{log}");
}

/// After a restart the first admin's password is not known to the harness: reset it.
async fn admin_password_of(srv: &ApiServer) -> String {
    let hash = switchboard::api::auth::hash_password("Reset-Admin-2026");
    srv.store.conn().unwrap().execute("UPDATE users SET password_hash = ?1 WHERE email = ?2", (hash, ADMIN)).unwrap();
    "Reset-Admin-2026".into()
}

#[tokio::test]
async fn password_policy_on_create_change_and_login() {
    let srv = start(|c| {
        c.password_policy.require_symbol = true;
        c.password_policy.max_age_days = 90;
    })
    .await;
    let s = srv.admin_token().await;
    let t = srv.create(&s, "/api/v1/tenants", json!({ "company": "P", "email": "p@p.test", "sip_domain": "p.test" })).await;
    let (st, v) = srv
        .call(
            "POST",
            "/api/v1/users",
            Some(&s),
            Some(&json!({ "email": "weak@p.test", "name": "W", "role": "end_user", "password": "short", "tenant_id": t })),
        )
        .await;
    assert_eq!((st, v["field"].as_str()), (422, Some("password")));
    let msg = v["message"].as_str().unwrap();
    assert!(msg.contains("10 characters") && msg.contains("symbol") && msg.contains("digit"), "{msg}");
    srv.create(&s, "/api/v1/users", json!({ "email": "u@p.test", "name": "U", "role": "end_user", "password": "Good-Pass-2026", "tenant_id": t }))
        .await;
    let u = srv.login("u@p.test", "Good-Pass-2026").await;
    let (st, v) = srv
        .call("POST", "/api/v1/me/password", Some(&u), Some(&json!({ "current_password": "Good-Pass-2026", "new_password": "nosymbol2026X" })))
        .await;
    assert_eq!((st, v["field"].as_str()), (422, Some("new_password")));
    let (st, v) = srv
        .call("POST", "/api/v1/me/password", Some(&u), Some(&json!({ "current_password": "Good-Pass-2026", "new_password": "Better-Pass-2027" })))
        .await;
    assert_eq!(st, 200, "{v}");
    let (st, _) = srv.call("GET", "/api/v1/me", Some(&u), None).await;
    assert_eq!(st, 401, "a password change revokes the tokens issued before it");
    let fresh = v["access_token"].as_str().unwrap();
    assert_eq!(srv.call("GET", "/api/v1/me", Some(fresh), None).await.0, 200);

    // Maximum age: an old password is refused at login until it is changed.
    srv.store.conn().unwrap().execute("UPDATE users SET password_changed_at = '2020-01-01T00:00:00Z' WHERE email = 'u@p.test'", []).unwrap();
    let (st, v) = srv.call("POST", "/api/v1/auth/login", None, Some(&json!({ "email": "u@p.test", "password": "Better-Pass-2027" }))).await;
    assert_eq!((st, v["code"].as_str()), (403, Some("password_expired")));
    let change = json!({ "email": "u@p.test", "current_password": "Better-Pass-2027", "new_password": "Newest-Pass-2028" });
    let (st, v) = srv.call("POST", "/api/v1/auth/change-password", None, Some(&change)).await;
    assert_eq!(st, 200, "{v}");
    srv.login("u@p.test", "Newest-Pass-2028").await;
}

#[tokio::test]
async fn refresh_tokens_and_revocation() {
    let srv = start(|_| {}).await;
    let (_, v) =
        srv.call("POST", "/api/v1/auth/login", None, Some(&json!({ "email": ADMIN, "password": srv.admin_password.as_deref().unwrap() }))).await;
    let refresh = v["refresh_token"].as_str().unwrap().to_string();
    let access = v["access_token"].as_str().unwrap().to_string();
    assert_eq!(v["user"]["role"], "super_admin");
    let (st, _) = srv.call("GET", "/api/v1/me", Some(&refresh), None).await;
    assert_eq!(st, 401, "a refresh token is not an access token");
    let (st, v) = srv.call("POST", "/api/v1/auth/refresh", None, Some(&json!({ "refresh_token": refresh }))).await;
    assert_eq!(st, 200);
    assert_eq!(srv.call("GET", "/api/v1/me", Some(v["access_token"].as_str().unwrap()), None).await.0, 200);
    let (st, _) = srv.call("POST", "/api/v1/auth/refresh", None, Some(&json!({ "refresh_token": access }))).await;
    assert_eq!(st, 401, "an access token does not refresh");
    let (st, v) = srv.call_raw("GET", "/api/v1/me", None, b"").await;
    assert_eq!((st, v["code"].as_str()), (401, Some("unauthorized")));
}

#[tokio::test]
async fn permission_cascade_for_tenants_and_users() {
    let srv = start(|_| {}).await;
    let s = srv.admin_token().await;
    // Granting a child grants its parent.
    let t = srv
        .create(
            &s,
            "/api/v1/tenants",
            json!({ "company": "C", "email": "c@c.test", "sip_domain": "c.test", "permissions": ["devices", "ring_groups", "send_fax"] }),
        )
        .await;
    let (_, v) = srv.call("GET", &format!("/api/v1/tenants/{t}"), Some(&s), None).await;
    let perms: Vec<&str> = v["permissions"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
    assert!(perms.contains(&"fpbx_extension"), "{perms:?}");
    let u = srv
        .create(
            &s,
            "/api/v1/users",
            json!({ "email": "e@c.test", "name": "E", "role": "end_user", "password": PW, "tenant_id": t, "permissions": ["devices"] }),
        )
        .await;
    let (_, v) = srv.call("GET", &format!("/api/v1/users/{u}"), Some(&s), None).await;
    assert_eq!(v["permissions"], json!(["fpbx_extension", "devices"]));
    // A user cannot be granted what the tenant does not hold.
    let (st, v) = srv
        .call("PATCH", &format!("/api/v1/users/{u}"), Some(&s), Some(&json!({ "permissions": ["fpbx_extension", "devices", "call_queues"] })))
        .await;
    assert_eq!((st, v["field"].as_str()), (422, Some("permissions")), "{v}");
    assert!(v["message"].as_str().unwrap().contains("call_queues"));
    // Revoking the parent on the user revokes the children.
    let (_, v) = srv.call("PATCH", &format!("/api/v1/users/{u}"), Some(&s), Some(&json!({ "permissions": ["devices"] }))).await;
    assert_eq!(v["permissions"], json!([]), "{v}");
    srv.call("PATCH", &format!("/api/v1/users/{u}"), Some(&s), Some(&json!({ "permissions": ["devices"] }))).await;
    // Revoking the parent on the tenant revokes it from the tenant's users too.
    let (st, v) =
        srv.call("PATCH", &format!("/api/v1/tenants/{t}"), Some(&s), Some(&json!({ "permissions": ["devices", "ring_groups", "send_fax"] }))).await;
    assert_eq!(st, 200);
    assert_eq!(v["permissions"], json!(["send_fax"]));
    let (_, v) = srv.call("GET", &format!("/api/v1/users/{u}"), Some(&s), None).await;
    assert_eq!(v["permissions"], json!([]));
    // The effective permissions follow at once, without signing in again.
    let tok = srv.login("e@c.test", PW).await;
    assert_eq!(srv.call("GET", "/api/v1/devices", Some(&tok), None).await.0, 403);
}

#[tokio::test]
async fn package_slots_and_user_allocations() {
    let srv = start(|_| {}).await;
    let s = srv.admin_token().await;
    let (t, ta) = tenant(&srv, &s, "slots.test", ALL).await;
    let small = srv.create(&s, "/api/v1/packages", json!({ "name": "Tiny", "extensions": 3, "ring_groups": 1 })).await;
    let (st, v) = srv.call("POST", "/api/v1/subscriptions", Some(&s), Some(&json!({ "tenant_id": t, "package_id": small }))).await;
    assert_eq!(st, 201, "{v}");
    for n in ["1001", "1002"] {
        srv.create(&ta, "/api/v1/extensions", json!({ "number": n })).await;
    }
    // An end user with an allocation of 1 extension.
    let u = srv
        .create(
            &ta,
            "/api/v1/users",
            json!({ "email": "eu@slots.test", "name": "EU", "role": "end_user", "password": PW, "permissions": ["fpbx_extension"], "allocations": { "extensions": 1 } }),
        )
        .await;
    // The allocation cannot promise more than the package leaves (3 - 0 others = 3).
    let (st, v) = srv.call("PATCH", &format!("/api/v1/users/{u}"), Some(&ta), Some(&json!({ "allocations": { "extensions": 4 } }))).await;
    assert_eq!((st, v["code"].as_str(), v["field"].as_str()), (409, Some("limit_reached"), Some("extensions")), "{v}");
    let eu = srv.login("eu@slots.test", PW).await;
    let mine = srv.create(&eu, "/api/v1/extensions", json!({ "number": "1003" })).await;
    // The package is now full (3 of 3), whoever asks.
    let (st, v) = srv.call("POST", "/api/v1/extensions", Some(&ta), Some(&json!({ "number": "1004" }))).await;
    assert_eq!((st, v["code"].as_str(), v["field"].as_str()), (409, Some("limit_reached"), Some("extensions")));
    assert!(v["message"].as_str().unwrap().contains("Tiny"), "the error names the package and limit: {v}");
    // The end user sees and changes only what they created.
    let (_, list) = srv.call("GET", "/api/v1/extensions", Some(&eu), None).await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["id"], mine);
    let other = srv.call("GET", "/api/v1/extensions?number=1001", Some(&ta), None).await.1["items"][0]["id"].as_i64().unwrap();
    assert_eq!(srv.call("GET", &format!("/api/v1/extensions/{other}"), Some(&eu), None).await.0, 404);
    assert_eq!(srv.call("DELETE", &format!("/api/v1/extensions/{other}"), Some(&eu), None).await.0, 404);
    // Upgrading the subscription raises the limit at once; the user's own allocation still binds.
    let big = srv.create(&s, "/api/v1/packages", json!({ "name": "Big", "extensions": 100 })).await;
    srv.call("POST", "/api/v1/subscriptions", Some(&s), Some(&json!({ "tenant_id": t, "package_id": big }))).await;
    srv.create(&ta, "/api/v1/extensions", json!({ "number": "1004" })).await;
    let (st, v) = srv.call("POST", "/api/v1/extensions", Some(&eu), Some(&json!({ "number": "1005" }))).await;
    assert_eq!((st, v["field"].as_str()), (409, Some("extensions")));
    assert!(v["message"].as_str().unwrap().contains("allocation"), "{v}");
    let (_, subs) = srv.call("GET", &format!("/api/v1/subscriptions?tenant_id={t}"), Some(&s), None).await;
    let active: Vec<&Value> = subs["items"].as_array().unwrap().iter().filter(|s| s["active"] == true).collect();
    assert_eq!(active.len(), 1, "switching deactivates the old subscription");
    let (_, q) = srv.call("GET", "/api/v1/quota", Some(&ta), None).await;
    assert_eq!(q["package"], "Big");
    assert_eq!(q["slots"][0], json!({ "slot": "extensions", "used": 4, "limit": 100 }));
}

#[tokio::test]
async fn destinations_must_exist_in_the_same_tenant() {
    let srv = start(|_| {}).await;
    let s = srv.admin_token().await;
    let (_, a) = tenant(&srv, &s, "a.test", ALL).await;
    let (_, b) = tenant(&srv, &s, "b.test", ALL).await;
    let b_ext = srv.create(&b, "/api/v1/extensions", json!({ "number": "1001" })).await;
    let a_ext = srv.create(&a, "/api/v1/extensions", json!({ "number": "1001" })).await;
    let cases = [
        json!({ "type": "extension", "id": b_ext }),
        json!({ "type": "extension", "id": 999_999 }),
        json!({ "type": "fax", "id": a_ext }),
        json!({ "type": "external", "number": "1001,user/1002" }),
        json!({ "type": "hangup", "cause": "CRASH_THE_SWITCH" }),
        json!({ "type": "teleport" }),
        json!("extension"),
    ];
    for d in cases {
        let (st, v) = srv
            .call(
                "POST",
                "/api/v1/time-conditions",
                Some(&a),
                Some(&json!({ "name": "x", "matched_destination": d, "unmatched_destination": { "type": "hangup" } })),
            )
            .await;
        assert_eq!((st, v["field"].as_str()), (422, Some("matched_destination")), "{d}: {v}");
    }
    // Child lists are checked too, with the position in the field name.
    let (st, v) = srv
        .call(
            "POST",
            "/api/v1/ring-groups",
            Some(&a),
            Some(&json!({ "name": "g", "number": "600", "members": [{ "extension_id": a_ext }, { "extension_id": b_ext }] })),
        )
        .await;
    assert_eq!((st, v["field"].as_str()), (422, Some("members[1].extension_id")), "{v}");
    let g = srv.create(&a, "/api/v1/ring-groups", json!({ "name": "g", "number": "600", "members": [{ "extension_id": a_ext }] })).await;
    let ivr = srv
        .create(&a, "/api/v1/ivr-menus", json!({ "name": "m", "options": [{ "digit": "1", "destination": { "type": "ring_group", "id": g } }, { "digit": "#", "destination": { "type": "external", "number": "+15551234567" } }] }))
        .await;
    let (st, v) = srv
        .call(
            "PATCH",
            &format!("/api/v1/ivr-menus/{ivr}"),
            Some(&a),
            Some(
                &json!({ "options": [{ "digit": "1", "destination": { "type": "hangup" } }, { "digit": "1", "destination": { "type": "hangup" } }] }),
            ),
        )
        .await;
    assert_eq!(st, 409, "a digit twice: {v}");
    // A referenced object cannot be deleted from under its referrer.
    let (st, v) = srv.call("DELETE", &format!("/api/v1/ring-groups/{g}"), Some(&a), None).await;
    assert_eq!(st, 409);
    assert!(v["message"].as_str().unwrap().contains(&format!("IVR menu {ivr}")), "{v}");
    // Numbers share one dial plan per tenant; another tenant may reuse them.
    let (st, v) = srv.call("POST", "/api/v1/conferences", Some(&a), Some(&json!({ "name": "c", "number": "600" }))).await;
    assert_eq!((st, v["field"].as_str()), (409, Some("number")), "{v}");
    srv.create(&b, "/api/v1/conferences", json!({ "name": "c", "number": "600" })).await;
    let (st, _) = srv.call("POST", "/api/v1/extensions", Some(&a), Some(&json!({ "number": "1001" }))).await;
    assert_eq!(st, 409);
}

#[tokio::test]
async fn pagination_search_and_filters() {
    let srv = start(|_| {}).await;
    let s = srv.admin_token().await;
    let (_, a) = tenant(&srv, &s, "page.test", ALL).await;
    for n in 0..25 {
        srv.create(
            &a,
            "/api/v1/extensions",
            json!({ "number": format!("{}", 2000 + n), "display_name": if n % 5 == 0 { "Sales 100%" } else { "Support" }, "dnd": n < 3 }),
        )
        .await;
    }
    let mut seen = Vec::new();
    for page in 1..=3 {
        let (_, v) = srv.call("GET", &format!("/api/v1/extensions?page={page}&per_page=10"), Some(&a), None).await;
        assert_eq!(v["total"], 25);
        seen.extend(v["items"].as_array().unwrap().iter().map(|e| e["number"].as_str().unwrap().to_string()));
    }
    let expected: Vec<String> = (0..25).map(|n| format!("{}", 2000 + n)).collect();
    assert_eq!(seen, expected, "pages are disjoint, ordered and complete");
    let (_, v) = srv.call("GET", "/api/v1/extensions?page=4&per_page=10", Some(&a), None).await;
    assert_eq!(v["items"], json!([]));
    let (_, v) = srv.call("GET", "/api/v1/extensions?per_page=100000", Some(&a), None).await;
    assert_eq!(v["per_page"], 500, "capped");
    let (_, v) = srv.call("GET", "/api/v1/extensions?q=100%25", Some(&a), None).await;
    assert_eq!(v["total"], 5, "search is a substring; % in it is literal: {v}");
    let (_, v) = srv.call("GET", "/api/v1/extensions?q=%25", Some(&a), None).await;
    assert_eq!(v["total"], 5);
    let (_, v) = srv.call("GET", "/api/v1/extensions?dnd=true", Some(&a), None).await;
    assert_eq!(v["total"], 3);
    let (st, v) = srv.call("GET", "/api/v1/extensions?sip_password=x", Some(&a), None).await;
    assert_eq!((st, v["field"].as_str()), (422, Some("sip_password")), "only declared filters");
    let (st, _) = srv.call("GET", "/api/v1/extensions?page=minus", Some(&a), None).await;
    assert_eq!(st, 400);
}

const HOSTILE: &[&str] =
    &["O'Brien \"quoted\"", "line\r\nbreak", "${system(rm -rf /)}", "a&b|c;d", "<script>alert(1)</script>", "\u{0}nul", "emoji ☎️ and ünïcödé"];

/// Every text field of every resource takes hostile strings: stored verbatim or refused with
/// 422, never a 500.
#[tokio::test]
async fn hostile_text_in_every_field() {
    use switchboard::store::{resources, Kind};
    let srv = start(|_| {}).await;
    let s = srv.admin_token().await;
    let (t, _) = tenant(&srv, &s, "hostile.test", ALL).await;
    let long = "x".repeat(300_001);
    let mut stored = 0;
    for r in resources::ALL.iter().filter(|r| r.name != "tenants") {
        let base = format!("/api/v1/{}", r.name);
        for f in r.fields.iter().filter(|f| {
            !matches!(f.kind, Kind::Int(..) | Kind::Bool | Kind::Money | Kind::Ref(_) | Kind::GlobalRef(_) | Kind::UserRef | Kind::TenantRef)
        }) {
            for h in HOSTILE.iter().copied().chain([long.as_str()]) {
                let mut body = minimal(r.name, t);
                body[f.name] = json!(h);
                let (st, v) = srv.call("POST", &base, Some(&s), Some(&body)).await;
                assert!(st == 201 || st == 422 || st == 409, "{} {}={h:?}: {st} {v}", r.name, f.name);
                if st == 201 {
                    stored += 1;
                    let (_, got) = srv.call("GET", &format!("{base}/{}", v["id"]), Some(&s), None).await;
                    if !matches!(f.kind, Kind::Secret | Kind::Destination | Kind::List(_)) {
                        assert_eq!(got[f.name], json!(h), "{} {} stored verbatim", r.name, f.name);
                    }
                    srv.call("DELETE", &format!("{base}/{}", v["id"]), Some(&s), None).await;
                } else {
                    assert!(v["field"].is_string() || v["code"] == "conflict", "{v}");
                }
            }
        }
    }
    assert!(stored > 20, "the verbatim path was exercised ({stored})");
    // Non-UTF-8 through JSON escapes (a lone surrogate), and raw invalid bytes.
    let (st, v) = srv.call_raw("POST", "/api/v1/trunks", Some(&s), br#"{"name":"\ud800","host":"h.test"}"#).await;
    assert_eq!((st, v["code"].as_str()), (422, Some("invalid")));
    let (st, _) = srv.call_raw("POST", "/api/v1/trunks", Some(&s), b"{\"name\":\"\xff\xfe\",\"host\":\"h.test\"}").await;
    assert_eq!(st, 422);
    let (st, _) = srv.call_raw("POST", "/api/v1/trunks", Some(&s), b"[1,2]").await;
    assert_eq!(st, 422);
    let (st, _) = srv.call_raw("POST", "/api/v1/trunks", Some(&s), b"{\"name\":").await;
    assert_eq!(st, 422);
    let big = vec![b' '; 2 << 20];
    let (st, v) = srv.call_raw("POST", "/api/v1/trunks", Some(&s), &big).await;
    assert_eq!((st, v["code"].as_str()), (413, Some("too_large")));
    // The server is still fine.
    assert_eq!(srv.call("GET", "/api/v1/trunks", Some(&s), None).await.0, 200);
}

/// The smallest valid body per resource (the hostile test changes one field at a time).
fn minimal(name: &str, t: i64) -> Value {
    match name {
        "trunks" => json!({ "name": "T", "host": "sip.example.com" }),
        "dids" => json!({ "number": "+12125550100" }),
        "extensions" => json!({ "number": "1001", "tenant_id": t }),
        "inbound-routes" => json!({ "did_id": 1, "destination": { "type": "hangup" }, "tenant_id": t }),
        "outbound-routes" => json!({ "name": "R", "pattern": "9X.", "tenant_id": t }),
        "ring-groups" => json!({ "name": "G", "number": "600", "tenant_id": t }),
        "ivr-menus" => json!({ "name": "I", "tenant_id": t }),
        "call-queues" => json!({ "name": "Q", "number": "700", "tenant_id": t }),
        "voicemail-boxes" => json!({ "number": "800", "tenant_id": t }),
        "conferences" => json!({ "name": "C", "number": "900", "tenant_id": t }),
        "follow-me" => json!({ "extension_id": 1, "tenant_id": t }),
        "time-conditions" => {
            json!({ "name": "TC", "matched_destination": { "type": "hangup" }, "unmatched_destination": { "type": "hangup" }, "tenant_id": t })
        }
        "call-flows" => {
            json!({ "name": "F", "feature_code": "30", "day_destination": { "type": "hangup" }, "night_destination": { "type": "hangup" }, "tenant_id": t })
        }
        "call-blocks" => json!({ "value": "+15551234567", "tenant_id": t }),
        "fax-contacts" => json!({ "name": "C", "fax": "+14155550100", "tenant_id": t }),
        "fax-groups" => json!({ "name": "G", "tenant_id": t }),
        "fax-cover-pages" => json!({ "name": "Cover", "tenant_id": t }),
        "moh-classes" => json!({ "name": "default", "tenant_id": t }),
        "device-profiles" => json!({ "name": "P", "tenant_id": t }),
        "devices" => json!({ "mac": "001122334455", "vendor": "yealink", "tenant_id": t }),
        "packages" => json!({ "name": "Pkg" }),
        "rate-plans" => {
            json!({ "name": "Plan", "rates": [{ "direction": "outbound", "prefix": "1", "per_minute": 10_000, "first_increment": 60, "next_increment": 60 }] })
        }
        "announcements" => json!({ "title": "A" }),
        "branding" => json!({ "title": "B" }),
        other => panic!("no minimal body for {other}"),
    }
}

#[tokio::test]
async fn openapi_covers_every_route() {
    let srv = start(|_| {}).await;
    let (st, doc) = srv.call("GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(st, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    for r in switchboard::api::router::ROUTES.iter() {
        let op = &doc["paths"][&r.path][r.method.as_str().to_ascii_lowercase()];
        assert!(op.is_object(), "{} {} is missing from openapi.json", r.method, r.path);
        assert!(op["x-access"].is_string());
    }
    // And nothing in the document that the server does not answer.
    let mut ops = 0;
    for (path, methods) in doc["paths"].as_object().unwrap() {
        for m in methods.as_object().unwrap().keys() {
            let concrete = path.replace("{id}", "1");
            let method = warp::http::Method::from_bytes(m.to_ascii_uppercase().as_bytes()).unwrap();
            assert!(switchboard::api::router::find(&method, &concrete).is_ok(), "{m} {path} documented but not routed");
            ops += 1;
        }
    }
    assert_eq!(ops, switchboard::api::router::ROUTES.len());
    assert!(doc["components"]["schemas"]["extensions"]["properties"]["number"].is_object());
    // The sign-in's refusals are documented where they happen.
    let login = &doc["paths"]["/api/v1/auth/login"]["post"]["responses"];
    for code in ["408", "413", "423", "429", "503"] {
        assert!(login[code].is_object(), "{code} on sign-in");
    }
    assert!(doc["paths"]["/api/v1/me"]["get"]["responses"]["429"].is_null(), "only where a password is checked");
}

#[tokio::test]
async fn my_account_dnd_and_forwarding() {
    let srv = start(|_| {}).await;
    let s = srv.admin_token().await;
    let (t, ta) = tenant(&srv, &s, "me.test", ALL).await;
    let u = srv
        .create(&ta, "/api/v1/users", json!({ "email": "me@me.test", "name": "Me", "role": "end_user", "password": PW, "fax_email": "fax@me.test" }))
        .await;
    let ext = srv.create(&ta, "/api/v1/extensions", json!({ "number": "1001", "user_id": u })).await;
    let other = srv.create(&ta, "/api/v1/extensions", json!({ "number": "1002" })).await;
    let me = srv.login("me@me.test", PW).await;
    let (_, v) = srv.call("GET", "/api/v1/me/extensions", Some(&me), None).await;
    assert_eq!(v["items"][0]["number"], "1001");
    assert_eq!(v["items"][0]["sip_domain"], "me.test");
    assert_eq!(v["items"][0]["sip_password"].as_str().unwrap().len(), 20, "generated, shown to its owner");
    let (st, v) =
        srv.call("PATCH", &format!("/api/v1/me/extensions/{ext}"), Some(&me), Some(&json!({ "dnd": true, "forward_busy": "+15551234567" }))).await;
    assert_eq!(st, 200, "{v}");
    // The admin's view changes at once.
    let (_, v) = srv.call("GET", &format!("/api/v1/extensions/{ext}"), Some(&ta), None).await;
    assert_eq!((v["dnd"].as_bool(), v["forward_busy"].as_str()), (Some(true), Some("+15551234567")));
    // An admin resets the SIP password by sending it empty: a new one is generated.
    let before = srv.call("GET", &format!("/api/v1/extensions/{ext}"), Some(&ta), None).await.1["sip_password"].clone();
    let (st, v) = srv.call("PATCH", &format!("/api/v1/extensions/{ext}"), Some(&ta), Some(&json!({ "sip_password": "" }))).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["sip_password"].as_str().unwrap().len(), 20);
    assert_ne!(v["sip_password"], before);
    let (st, v) = srv.call("PATCH", &format!("/api/v1/extensions/{ext}"), Some(&ta), Some(&json!({ "sip_password": "short" }))).await;
    assert_eq!((st, v["field"].as_str()), (422, Some("sip_password")));
    let (st, v) = srv.call("PATCH", &format!("/api/v1/me/extensions/{ext}"), Some(&me), Some(&json!({ "number": "9999" }))).await;
    assert_eq!((st, v["field"].as_str()), (422, Some("number")));
    assert_eq!(srv.call("PATCH", &format!("/api/v1/me/extensions/{other}"), Some(&me), Some(&json!({ "dnd": true }))).await.0, 404);
    let (_, v) = srv.call("GET", "/api/v1/me", Some(&me), None).await;
    assert_eq!((v["user"]["fax_email"].as_str(), v["tenant"]["id"].as_i64()), (Some("fax@me.test"), Some(t)));
    let (st, _) = srv.call("PATCH", "/api/v1/me", Some(&me), Some(&json!({ "fax_email": "not an email" }))).await;
    assert_eq!(st, 422);
    let (st, _) = srv.call("PATCH", "/api/v1/me", Some(&me), Some(&json!({ "role": "tenant_admin" }))).await;
    assert_eq!(st, 422, "no self-promotion");
}

#[tokio::test]
async fn community_edition_leaves_out_billing_tenants_and_branding() {
    let srv = start(|c| c.community_edition = true).await;
    let s = srv.admin_token().await;
    for (m, p) in
        [("POST", "/api/v1/tenants"), ("GET", "/api/v1/packages"), ("GET", "/api/v1/subscriptions"), ("GET", "/api/v1/branding/public?host=a.test")]
    {
        let (st, _) = srv.call(m, p, Some(&s), Some(&json!({}))).await;
        assert_eq!(st, 404, "{m} {p}");
    }
    let (_, me) = srv.call("GET", "/api/v1/me", Some(&s), None).await;
    assert_eq!(me["community_edition"], true);
    let (_, tenants) = srv.call("GET", "/api/v1/tenants", Some(&s), None).await;
    assert_eq!(tenants["total"], 1, "the one tenant exists from the first start");
    let t = tenants["items"][0]["id"].as_i64().unwrap();
    // The one tenant is usable and editable.
    srv.create(&s, "/api/v1/extensions", json!({ "number": "1001", "tenant_id": t })).await;
    let (st, _) = srv.call("PATCH", &format!("/api/v1/tenants/{t}"), Some(&s), Some(&json!({ "sip_domain": "pbx.example.com" }))).await;
    assert_eq!(st, 200);
}

#[tokio::test]
async fn users_rules_for_tenant_admins() {
    let srv = start(|_| {}).await;
    let s = srv.admin_token().await;
    let (_, ta) = tenant(&srv, &s, "u.test", ALL).await;
    let (st, _) =
        srv.call("POST", "/api/v1/users", Some(&ta), Some(&json!({ "email": "x@u.test", "name": "X", "role": "super_admin", "password": PW }))).await;
    assert_eq!(st, 403, "tenant admins cannot make super admins");
    let (st, v) = srv
        .call(
            "POST",
            "/api/v1/users",
            Some(&ta),
            Some(&json!({ "email": "x@u.test", "name": "X", "role": "agent", "password": PW, "permissions": ["root"] })),
        )
        .await;
    assert_eq!((st, v["field"].as_str()), (422, Some("permissions")));
    srv.create(&ta, "/api/v1/users", json!({ "email": "x@u.test", "name": "X", "role": "agent", "password": PW })).await;
    let (st, v) =
        srv.call("POST", "/api/v1/users", Some(&ta), Some(&json!({ "email": "X@U.TEST", "name": "X", "role": "agent", "password": PW }))).await;
    assert_eq!((st, v["field"].as_str()), (409, Some("email")), "emails are unique regardless of case");
    let me = srv.call("GET", "/api/v1/me", Some(&ta), None).await.1["user"]["id"].as_i64().unwrap();
    assert_eq!(srv.call("DELETE", &format!("/api/v1/users/{me}"), Some(&ta), None).await.0, 409);
    let (st, v) =
        srv.call("POST", "/api/v1/users", Some(&s), Some(&json!({ "email": "y@u.test", "name": "Y", "role": "agent", "password": PW }))).await;
    assert_eq!((st, v["field"].as_str()), (422, Some("tenant_id")), "a super admin names the tenant");
}

#[tokio::test]
async fn music_on_hold_uploads() {
    let srv = start(|_| {}).await;
    let s = srv.admin_token().await;
    let (_, a) = tenant(&srv, &s, "moh.test", ALL).await;
    let (_, b) = tenant(&srv, &s, "moh2.test", ALL).await;
    let class = srv.create(&a, "/api/v1/moh-classes", json!({ "name": "jazz" })).await;
    let mut wav = common::wav_header(40_000);
    wav.extend(vec![0x80u8; 40_000]);
    let (st, f) = srv.call_raw("POST", &format!("/api/v1/moh-classes/{class}/files?name=take-five.wav"), Some(&a), &wav).await;
    assert_eq!(st, 201, "{f}");
    assert_eq!(f["bytes"], wav.len());
    let stored = srv.dir.join(f["stored_as"].as_str().unwrap());
    assert_eq!(std::fs::read(&stored).unwrap(), wav, "the bytes are kept as sent");
    let (st, _) = srv.call_raw("POST", &format!("/api/v1/moh-classes/{class}/files?name=take-five.wav"), Some(&a), &wav).await;
    assert_eq!(st, 409, "a name once per class");
    let (st, v) = srv.call_raw("POST", &format!("/api/v1/moh-classes/{class}/files?name=x.wav"), Some(&a), b"#!/bin/sh\nrm -rf /").await;
    assert_eq!((st, v["field"].as_str()), (422, Some("body")));
    let (st, v) = srv.call_raw("POST", &format!("/api/v1/moh-classes/{class}/files?name=x.mp3"), Some(&a), &wav).await;
    assert_eq!((st, v["field"].as_str()), (422, Some("name")), "the name must match the content");
    // What the switch cannot play is refused, saying why: an MP3 (no switch here to say it
    // has mod_shout), a WAV of ADPCM samples.
    let (st, v) = srv.call_raw("POST", &format!("/api/v1/moh-classes/{class}/files?name=x.mp3"), Some(&a), b"ID3\x04\0\0\0\0\0\0music").await;
    assert_eq!(st, 422);
    assert!(v["message"].as_str().unwrap().contains("cannot play MP3"), "{v}");
    let mut adpcm = common::wav_header(100);
    adpcm[20] = 0x11;
    let (st, v) = srv.call_raw("POST", &format!("/api/v1/moh-classes/{class}/files?name=x.wav"), Some(&a), &adpcm).await;
    assert!(st == 422 && v["message"].as_str().unwrap().contains("save it as PCM"), "{v}");
    let (st, _) = srv.call_raw("POST", &format!("/api/v1/moh-classes/{class}/files?name=../../x.wav"), Some(&a), &wav).await;
    assert_eq!(st, 422, "no path traversal");
    let (st, _) = srv.call_raw("POST", &format!("/api/v1/moh-classes/{class}/files?name=y.wav"), Some(&b), &wav).await;
    assert_eq!(st, 404, "another tenant's class does not exist for you");
    let (_, list) = srv.call("GET", &format!("/api/v1/moh-classes/{class}/files"), Some(&a), None).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(srv.call("DELETE", &format!("/api/v1/moh-files/{}", f["id"]), Some(&b), None).await.0, 404);
    assert_eq!(srv.call("DELETE", &format!("/api/v1/moh-files/{}", f["id"]), Some(&a), None).await.0, 204);
    assert!(!stored.exists(), "deleting the row deletes the file");
    // Deleting the class removes its directory.
    srv.call_raw("POST", &format!("/api/v1/moh-classes/{class}/files?name=again.wav"), Some(&a), &wav).await;
    assert_eq!(srv.call("DELETE", &format!("/api/v1/moh-classes/{class}"), Some(&a), None).await.0, 204);
    assert!(!stored.parent().unwrap().exists());
}

/// System recordings: an upload is kept and served back; a second of the same name is a
/// conflict; the super admin names the tenant; a recording whose file is gone says so, and
/// another tenant finds none.
#[tokio::test]
async fn system_recordings_upload_conflict_and_gone() {
    let srv = start(|_| {}).await;
    let s = srv.admin_token().await;
    let (_, a) = tenant(&srv, &s, "sounds.test", ALL).await;
    let (_, b) = tenant(&srv, &s, "sounds2.test", ALL).await;
    let mut wav = common::wav_header(8000);
    wav.extend(vec![0x80u8; 8000]);
    let (st, f) = srv.call_raw("POST", "/api/v1/sounds?name=welcome.wav", Some(&a), &wav).await;
    assert_eq!(st, 201, "{f}");
    assert_eq!(f["seconds"], 1.0, "the length read from its header: {f}");
    let audio = common::api::request_raw(srv.addr, "GET", &format!("/api/v1/sounds/{}/audio", f["id"]), Some(&a)).await;
    assert_eq!(audio, wav);
    let (st, _) = srv.call_raw("POST", "/api/v1/sounds?name=welcome.wav", Some(&a), &wav).await;
    assert_eq!(st, 409, "a name once per tenant");
    let (st, v) = srv.call_raw("POST", "/api/v1/sounds?name=root.wav", Some(&s), &wav).await;
    assert_eq!((st, v["field"].as_str()), (422, Some("tenant_id")), "the super admin names the tenant");
    assert_eq!(srv.call("GET", &format!("/api/v1/sounds/{}/audio", f["id"]), Some(&b), None).await.0, 404);
    std::fs::remove_file(srv.dir.join(f["stored_as"].as_str().unwrap())).unwrap();
    let (st, v) = srv.call("GET", &format!("/api/v1/sounds/{}/audio", f["id"]), Some(&a), None).await;
    assert_eq!((st, v["message"].as_str()), (404, Some("the recording's file is gone")));
}

/// A payment raises the balance at once; the ledger and the credit say so; a bad payment is
/// refused field by field; rate plans keep their rates and refuse a duplicate prefix.
#[tokio::test]
async fn payments_credit_and_rate_plans() {
    let srv = start(|_| {}).await;
    let s = srv.admin_token().await;
    let (t, ta) = tenant(&srv, &s, "pay.test", ALL).await;
    let (_, v) = srv.call("GET", "/api/v1/credit", Some(&ta), None).await;
    assert_eq!((v["balance"].as_i64(), v["policy"].as_str()), (Some(0), Some("flag")), "{v}");
    let (st, v) = srv
        .call(
            "POST",
            "/api/v1/payments",
            Some(&s),
            Some(&json!({ "tenant_id": t, "amount": 25_000_000, "payment_type": "bank_transfer", "date": "2026-11-20", "note": "Nov" })),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    assert_eq!((v["balance_after"].as_i64(), v["at"].as_str()), (Some(25_000_000), Some("2026-11-20T00:00:00Z")));
    let (_, v) = srv.call("GET", "/api/v1/credit", Some(&ta), None).await;
    assert_eq!((v["balance"].as_i64(), v["available"].as_i64()), (Some(25_000_000), Some(25_000_000)));
    let (_, v) = srv.call("GET", "/api/v1/payments", Some(&ta), None).await;
    assert_eq!((v["total"].as_i64(), v["items"][0]["payment_type"].as_str()), (Some(1), Some("bank_transfer")));
    for (body, field) in [
        (json!({ "tenant_id": t, "amount": 0, "payment_type": "cash" }), "amount"),
        (json!({ "tenant_id": t, "amount": 5, "payment_type": "cheque" }), "payment_type"),
        (json!({ "tenant_id": t, "amount": 5, "payment_type": "cash", "date": "soon" }), "date"),
        (json!({ "tenant_id": 999_999, "amount": 5, "payment_type": "cash" }), "tenant_id"),
    ] {
        let (st, v) = srv.call("POST", "/api/v1/payments", Some(&s), Some(&body)).await;
        assert_eq!((st, v["field"].as_str()), (422, Some(field)), "{v}");
    }
    assert_eq!(srv.call("GET", "/api/v1/credit", Some(&ta), None).await.1["balance"], 25_000_000, "refusals change nothing");
    let (_, v) = srv.call("GET", "/api/v1/ledger?kind=payment", Some(&ta), None).await;
    assert_eq!((v["total"].as_i64(), v["items"][0]["amount"].as_i64()), (Some(1), Some(25_000_000)));
    let (st, v) = srv.call("GET", "/api/v1/ledger?kind=gift", Some(&ta), None).await;
    assert_eq!((st, v["field"].as_str()), (422, Some("kind")));
    let (_, v) = srv.call("GET", "/api/v1/flagged-calls", Some(&ta), None).await;
    assert_eq!(v["total"], 0, "nothing ran on no credit: {v}");

    let rates = json!([
        { "direction": "outbound", "prefix": "1", "per_minute": 12_000, "first_increment": 60, "next_increment": 6 },
        { "direction": "outbound", "prefix": "44", "per_minute": 30_000, "connection_charge": 1_000, "first_increment": 1, "next_increment": 1 }
    ]);
    let (st, v) = srv.call("POST", "/api/v1/rate-plans", Some(&s), Some(&json!({ "name": "Retail", "rates": rates }))).await;
    assert_eq!(st, 201, "{v}");
    assert_eq!((v["rates"][1]["prefix"].as_str(), v["rates"][1]["connection_charge"].as_i64()), (Some("44"), Some(1_000)));
    assert_eq!(v["rates"][0]["connection_charge"], 0, "money defaults to zero");
    let dup = json!([{ "direction": "outbound", "prefix": "1", "per_minute": 1, "first_increment": 1, "next_increment": 1 }, { "direction": "outbound", "prefix": "1", "per_minute": 2, "first_increment": 1, "next_increment": 1 }]);
    let (st, _) = srv.call("POST", "/api/v1/rate-plans", Some(&s), Some(&json!({ "name": "Dup", "rates": dup }))).await;
    assert_eq!(st, 409, "one rate per direction and prefix");
    let (st, _) = srv.call("POST", "/api/v1/rate-plans", Some(&ta), Some(&json!({ "name": "Mine", "rates": [] }))).await;
    assert_eq!(st, 403, "tenants read plans, the super admin sets them");

    // An outbound route's own plan: the tenant admin writes the route, not its price.
    let plan = v_id(&srv, &s, "/api/v1/rate-plans").await;
    let route = srv.create(&ta, "/api/v1/outbound-routes", json!({ "name": "US", "pattern": "+1NXXNXXXXXX" })).await;
    let path = format!("/api/v1/outbound-routes/{route}");
    let (st, v) = srv.call("PATCH", &path, Some(&ta), Some(&json!({ "rate_plan_id": plan }))).await;
    assert_eq!((st, v["field"].as_str()), (422, Some("rate_plan_id")), "{v}");
    let (st, v) =
        srv.call("POST", "/api/v1/outbound-routes", Some(&ta), Some(&json!({ "name": "Cheap", "pattern": "+44.", "rate_plan_id": plan }))).await;
    assert_eq!((st, v["field"].as_str()), (422, Some("rate_plan_id")), "{v}");
    let (st, v) = srv.call("PATCH", &path, Some(&s), Some(&json!({ "rate_plan_id": plan }))).await;
    assert_eq!((st, v["rate_plan_id"].as_i64()), (200, Some(plan)), "{v}");
    let (_, mut got) = srv.call("GET", &path, Some(&ta), None).await;
    got["name"] = json!("US retail");
    let (st, v) = srv.call("PATCH", &path, Some(&ta), Some(&got)).await;
    assert_eq!((st, v["rate_plan_id"].as_i64(), v["name"].as_str()), (200, Some(plan), Some("US retail")), "sent back unchanged: {v}");
    let doc = srv.call("GET", "/api/v1/openapi.json", None, None).await.1.to_string();
    assert!(doc.contains("set by the super admin only"), "the document says who sets it");
}

/// The id of the first row of a list.
async fn v_id(srv: &ApiServer, token: &str, path: &str) -> i64 {
    srv.call("GET", path, Some(token), None).await.1["items"][0]["id"].as_i64().unwrap()
}

/// Usage by the tenant's local day (a call at 22:30 in New York is that day's, though UTC
/// has moved on), with charges; the quota dashboard shows the transaction limits' use.
#[tokio::test]
async fn usage_by_local_day_and_the_quota_dashboard() {
    use switchboard::billing::rating::Rate;
    use switchboard::store::cdr::Cdr;
    let srv = start(|_| {}).await;
    let s = srv.admin_token().await;
    let (t, ta) = tenant(&srv, &s, "usage.test", ALL).await;
    let (st, _) =
        srv.call("PATCH", &format!("/api/v1/tenants/{t}"), Some(&s), Some(&json!({ "timezone": "America/New_York", "daily_limit": 50 }))).await;
    assert_eq!(st, 200);
    let rate = Rate { per_minute: 60_000, connection_charge: 0, first_increment: 60, next_increment: 60 };
    let mk = |uuid: &str, started: &str, billsec: i64| Cdr {
        uuid: uuid.into(),
        tenant: Some(switchboard::store::TenantId(t)),
        direction: "outbound",
        started_at: started.into(),
        ended_at: started.into(),
        answered_at: (billsec > 0).then(|| started.to_string()),
        billsec,
        disposition: if billsec > 0 { "answered" } else { "failed" },
        ..Default::default()
    };
    srv.store.settle(&mk("late", "2026-11-11T03:30:00Z", 61), Some(&rate)).unwrap();
    srv.store.settle(&mk("noon", "2026-11-11T17:00:00Z", 30), Some(&rate)).unwrap();
    srv.store.settle(&mk("fail", "2026-11-11T18:00:00Z", 0), Some(&rate)).unwrap();
    srv.store.settle(&mk("out", "2026-11-12T06:00:00Z", 10), Some(&rate)).unwrap();
    let (st, v) = srv.call("GET", "/api/v1/usage?from=2026-11-10&to=2026-11-11", Some(&ta), None).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["days"].as_array().unwrap().len(), 2);
    let day = |i: usize| {
        (v["days"][i]["date"].as_str(), v["days"][i]["calls"].as_i64(), v["days"][i]["minutes"].as_i64(), v["days"][i]["charges"].as_i64())
    };
    assert_eq!(day(0), (Some("2026-11-10"), Some(1), Some(2), Some(120_000)), "22:30 in New York: {v}");
    assert_eq!(day(1), (Some("2026-11-11"), Some(2), Some(1), Some(60_000)), "{v}");
    assert_eq!((v["total"]["calls"].as_i64(), v["total"]["answered"].as_i64(), v["total"]["billsec"].as_i64()), (Some(3), Some(2), Some(91)));
    assert_eq!(
        v["total"]["charges"].as_i64(),
        Some(srv.store.credit(switchboard::store::TenantId(t)).unwrap().balance.abs() - 60_000),
        "the ledger agrees"
    );
    for q in ["from=yesterday", "from=2026-11-12&to=2026-11-10", "from=2025-01-01&to=2026-11-10"] {
        let (st, v) = srv.call("GET", &format!("/api/v1/usage?{q}"), Some(&ta), None).await;
        assert_eq!(st, 422, "{q}: {v}");
    }
    let eu = srv.create(&ta, "/api/v1/users", json!({ "email": "eu@usage.test", "name": "EU", "role": "end_user", "password": PW })).await;
    assert!(eu > 0);
    let eu_token = srv.login("eu@usage.test", PW).await;
    assert_eq!(srv.call("GET", "/api/v1/usage", Some(&eu_token), None).await.0, 403, "the tenant's money is its admins'");
    let (_, q) = srv.call("GET", "/api/v1/quota", Some(&ta), None).await;
    assert_eq!((q["transactions"]["daily"]["limit"].as_i64(), q["transactions"]["monthly"]["limit"].as_i64()), (Some(50), Some(-1)), "{q}");
    assert_eq!(q["transactions"]["daily"]["used"].as_i64(), Some(0));
}

#[tokio::test]
async fn call_records_scoped_filtered_and_exported() {
    use switchboard::store::cdr::Cdr;
    let srv = start(|_| {}).await;
    let s = srv.admin_token().await;
    let (a, ta) = tenant(&srv, &s, "cdr.test", ALL).await;
    let (b, tb) = tenant(&srv, &s, "other.test", ALL).await;
    let u = srv.create(&ta, "/api/v1/users", json!({ "email": "eu@cdr.test", "name": "EU", "role": "end_user", "password": PW })).await;
    srv.create(&ta, "/api/v1/extensions", json!({ "number": "1001", "user_id": u })).await;
    let mk = |i: usize, tenant: i64, ext: &str, dir: &'static str, disp: &'static str, name: &str| Cdr {
        uuid: format!("u{i}"),
        tenant: Some(switchboard::store::TenantId(tenant)),
        direction: dir,
        caller_number: ext.into(),
        caller_name: name.into(),
        callee: "+12125550100".into(),
        extension: ext.into(),
        started_at: format!("2026-11-{:02}T10:00:00Z", 10 + i),
        ended_at: format!("2026-11-{:02}T10:01:00Z", 10 + i),
        disposition: disp,
        ..Default::default()
    };
    let wav = std::env::temp_dir().join(format!("cdr-rec-{}.wav", std::process::id()));
    std::fs::write(&wav, b"RIFF\x24\0\0\0WAVEfmt recorded call").unwrap();
    let rows = [
        Cdr {
            recording_path: wav.to_string_lossy().into(),
            codec: "PCMU".into(),
            sip_call_id: "a84b4c76e66710@pc33.example.com".into(),
            ..mk(1, a, "1001", "outbound", "answered", "=HYPERLINK(\"http://evil\")")
        },
        mk(2, a, "1002", "outbound", "failed", "Bob, \"the\" builder"),
        Cdr { recording_path: "/nonexistent/switchboard/gone.wav".into(), ..mk(3, a, "1001", "internal", "answered", "Me") },
        mk(4, b, "1001", "outbound", "answered", "Other tenant"),
    ];
    for r in &rows {
        assert!(srv.store.write_cdr(r).unwrap());
    }
    assert!(!srv.store.write_cdr(&rows[0]).unwrap(), "a repeated hangup writes nothing twice");
    let (_, v) = srv.call("GET", "/api/v1/cdrs", Some(&ta), None).await;
    assert_eq!(v["total"], 3, "the tenant's calls only");
    assert_eq!(v["items"][0]["uuid"], "u3", "newest first");
    let (_, v) = srv.call("GET", "/api/v1/cdrs?direction=outbound&disposition=answered", Some(&ta), None).await;
    assert_eq!(v["total"], 1);
    let (_, v) = srv.call("GET", "/api/v1/cdrs?from=2026-11-12&to=2026-11-13", Some(&ta), None).await;
    assert_eq!(v["total"], 1);
    let (st, _) = srv.call("GET", "/api/v1/cdrs?from=yesterday", Some(&ta), None).await;
    assert_eq!(st, 422);
    // One extension's calls: made, taken or dialed, each once, newest first, paged.
    let uuids = |v: &serde_json::Value| v["items"].as_array().unwrap().iter().map(|i| i["uuid"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    let (_, v) = srv.call("GET", "/api/v1/cdrs?extension=1001", Some(&ta), None).await;
    assert_eq!((v["total"].as_i64(), uuids(&v)), (Some(2), vec!["u3".to_string(), "u1".into()]), "{v}");
    let (_, v) = srv.call("GET", "/api/v1/cdrs?extension=%2B12125550100&per_page=2&page=2", Some(&ta), None).await;
    assert_eq!((v["total"].as_i64(), uuids(&v)), (Some(3), vec!["u1".to_string()]), "the dialed number, page 2: {v}");
    let (_, v) = srv.call("GET", "/api/v1/cdrs?extension=1001&from=2026-11-12&direction=internal", Some(&ta), None).await;
    assert_eq!(uuids(&v), vec!["u3".to_string()]);
    let (_, v) = srv.call("GET", "/api/v1/cdrs?extension=1001", Some(&s), None).await;
    assert_eq!(v["total"], 3, "the super admin: every tenant's 1001: {v}");
    let eu = srv.login("eu@cdr.test", PW).await;
    let (_, v) = srv.call("GET", "/api/v1/cdrs", Some(&eu), None).await;
    assert_eq!(v["total"], 2, "an end user sees the calls of their own extension: {v}");
    let (st, csv) = srv.call("GET", "/api/v1/cdrs.csv", Some(&ta), None).await;
    assert_eq!(st, 200);
    let csv = csv.as_str().unwrap();
    assert!(csv.starts_with("uuid,direction,"), "{csv}");
    assert_eq!(csv.lines().count(), 4, "a header and three rows");
    assert!(csv.contains("\"'=HYPERLINK(\"\"http://evil\"\")\""), "formulas are defused and quotes doubled: {csv}");
    assert!(csv.contains("\"Bob, \"\"the\"\" builder\""));
    assert!(csv.contains(",+12125550100,"), "numbers stay numbers");

    // One record's detail and its recording, to whoever may see the record and nobody else.
    let (_, all) = srv.call("GET", "/api/v1/cdrs", Some(&s), None).await;
    let id = |u: &str| all["items"].as_array().unwrap().iter().find(|i| i["uuid"] == u).map(|i| i["id"].as_i64().unwrap()).unwrap();
    let (u1, u2, u3, u4) = (id("u1"), id("u2"), id("u3"), id("u4"));
    let (st, one) = srv.call("GET", &format!("/api/v1/cdrs/{u1}"), Some(&ta), None).await;
    assert_eq!(st, 200, "{one}");
    assert_eq!((one["codec"].as_str(), one["sip_call_id"].as_str()), (Some("PCMU"), Some("a84b4c76e66710@pc33.example.com")), "{one}");
    let (st, _) = srv.call("GET", &format!("/api/v1/cdrs/{u4}"), Some(&ta), None).await;
    assert_eq!(st, 404, "another tenant's record does not exist for this one");
    let (st, _) = srv.call("GET", &format!("/api/v1/cdrs/{u2}"), Some(&eu), None).await;
    assert_eq!(st, 404, "an end user sees only the calls of their own extension");
    let body = common::api::request_raw(srv.addr, "GET", &format!("/api/v1/cdrs/{u1}/recording"), Some(&eu)).await;
    assert_eq!(body, std::fs::read(&wav).unwrap(), "their own call's recording");
    let (st, e) = srv.call("GET", &format!("/api/v1/cdrs/{u2}/recording"), Some(&eu), None).await;
    assert_eq!(st, 404, "{e}");
    let (st, e) = srv.call("GET", &format!("/api/v1/cdrs/{u2}/recording"), Some(&ta), None).await;
    assert_eq!((st, e["message"].as_str()), (404, Some("this call was not recorded")));
    let (st, e) = srv.call("GET", &format!("/api/v1/cdrs/{u3}/recording"), Some(&ta), None).await;
    assert_eq!((st, e["message"].as_str()), (404, Some("the recording's file is gone")));
    let (st, _) = srv.call("GET", &format!("/api/v1/cdrs/{u1}/recording"), Some(&tb), None).await;
    assert_eq!(st, 404, "another tenant's admin gets nothing");
    let _ = std::fs::remove_file(&wav);
}

#[tokio::test]
async fn route_explain_over_http() {
    let srv = start(|_| {}).await;
    let s = srv.admin_token().await;
    let (t, ta) = tenant(&srv, &s, "explain.test", ALL).await;
    srv.create(&ta, "/api/v1/extensions", json!({ "number": "1001", "voicemail_enabled": true })).await;
    let (st, v) = srv.call("GET", "/api/v1/route/explain?number=1001&at=2026-11-18T15:00:00Z", Some(&ta), None).await;
    assert_eq!(st, 200, "{v}");
    let steps: Vec<String> =
        v["steps"].as_array().unwrap().iter().map(|s| format!("{}: {}", s["at"].as_str().unwrap(), s["decision"].as_str().unwrap())).collect();
    assert!(steps.iter().any(|s| s.contains("rings user/1001@explain.test")), "{steps:?}");
    assert!(steps.iter().any(|s| s.contains("no answer → voicemail 1001")), "{steps:?}");
    let (st, v) = srv.call("GET", "/api/v1/route/explain?number=1001", Some(&s), None).await;
    assert_eq!((st, v["field"].as_str()), (422, Some("tenant_id")), "a super admin names the tenant");
    assert_eq!(srv.call("GET", &format!("/api/v1/route/explain?number=1001&tenant_id={t}"), Some(&s), None).await.0, 200);
    let (st, v) = srv.call("GET", "/api/v1/route/explain?number=1001,2&at=x", Some(&ta), None).await;
    assert_eq!(st, 422, "{v}");
}

/// A super admin naming a tenant or an object that does not exist gets 404 (or a field
/// error), never a 500: every route of the table, with `?tenant_id=-1`, a body naming tenant
/// -1 and a path id no row has.
#[tokio::test]
async fn a_tenant_or_object_that_does_not_exist_is_not_found_on_every_route() {
    use switchboard::api::router::{Handler, ROUTES};
    let srv = start(|_| {}).await;
    let s = srv.admin_token().await;
    let (st, v) = srv.call("GET", "/api/v1/quota?tenant_id=-1", Some(&s), None).await;
    assert_eq!((st, v["code"].as_str()), (404, Some("not_found")), "{v}");
    let mut failures = Vec::new();
    for r in ROUTES.iter().filter(|r| !matches!(r.handler, Handler::Stream)) {
        let path = format!("{}?tenant_id=-1", r.path.replace("{id}", "987654321"));
        let body = (r.method != "GET" && r.method != "DELETE").then(|| json!({ "tenant_id": -1 }));
        let (st, v) = srv.call(r.method.as_str(), &path, Some(&s), body.as_ref()).await;
        if st >= 500 && st != 503 {
            failures.push(format!("{} {path}: {st} {v}", r.method));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// A tenant admin brands only host names of the tenant's own SIP domain; the installation's
/// host (public_url's), the one everybody signs in on, carries only the system's branding,
/// and a tenant's claim on it made before the check is not served.
#[tokio::test]
async fn branding_host_names_belong_to_their_tenant_or_to_the_super_admin() {
    const PNG_1X1: &str = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";
    let srv = start(|c| c.public_url = "https://pbx.example.com".into()).await;
    let s = srv.admin_token().await;
    let (a, ta) = tenant(&srv, &s, "a.example.com", ALL).await;
    let (_, tb) = tenant(&srv, &s, "b.a.example.com", ALL).await;
    let (_, tc) = tenant(&srv, &s, "example.com", ALL).await;
    let brand = |host: &str| json!({ "hostname": host, "title": "Sign in", "logo": PNG_1X1 });
    let post = |token: &str, body: Value| {
        let token = token.to_string();
        let srv = &srv;
        async move { srv.call("POST", "/api/v1/branding", Some(&token), Some(&body)).await }
    };
    // The attack: the installation's own host, by any tenant, even one whose domain it is under.
    for token in [&ta, &tc] {
        let (st, v) = post(token, brand("pbx.example.com")).await;
        assert_eq!((st, v["field"].as_str()), (422, Some("hostname")), "{v}");
    }
    // Not a tenant's: another tenant's longer domain, a foreign name, an address, localhost.
    for host in ["x.b.a.example.com", "b.a.example.com", "evil.test", "192.0.2.1", "localhost", "portal.localhost"] {
        let (st, v) = post(&ta, brand(host)).await;
        assert_eq!((st, v["field"].as_str()), (422, Some("hostname")), "{host}: {v}");
    }
    let (st, v) = post(&ta, brand("x.b.a.example.com")).await;
    assert!(v["message"].as_str().unwrap().contains("a.example.com"), "{st} {v}");
    // Its own: the SIP domain and names under it.
    for (token, host) in [(&ta, "a.example.com"), (&ta, "Portal.A.Example.com"), (&tb, "login.b.a.example.com"), (&tc, "www.example.com")] {
        let (st, v) = post(token, brand(host)).await;
        assert_eq!(st, 201, "{host}: {v}");
    }
    // The super admin assigns another name to a tenant, which may restyle it but not move it.
    let (st, assigned) = post(&s, json!({ "tenant_id": a, "hostname": "phones.partner.test", "title": "Partner" })).await;
    assert_eq!(st, 201, "{assigned}");
    let path = format!("/api/v1/branding/{}", assigned["id"]);
    let (st, v) = srv.call("PATCH", &path, Some(&ta), Some(&json!({ "title": "Partner phones", "hostname": "phones.partner.test" }))).await;
    assert_eq!(st, 200, "{v}");
    let (st, v) = srv.call("PATCH", &path, Some(&ta), Some(&json!({ "hostname": "other.partner.test" }))).await;
    assert_eq!((st, v["field"].as_str()), (422, Some("hostname")), "{v}");
    // Not even the super admin gives the installation's host to a tenant.
    let (st, v) = post(&s, json!({ "tenant_id": a, "hostname": "pbx.example.com", "title": "x" })).await;
    assert_eq!((st, v["field"].as_str()), (422, Some("hostname")), "{v}");
    // A claim stored before the check (straight into the database) is not what sign-in shows.
    srv.store
        .conn()
        .unwrap()
        .execute("INSERT INTO branding (tenant_id, hostname, title, created_at, updated_at) VALUES (?1, 'pbx.example.com', 'Phish', '', '')", [a])
        .unwrap();
    let (st, v) = srv.call("GET", "/api/v1/branding/public?host=pbx.example.com", None, None).await;
    assert_eq!((st, v["title"].as_str()), (200, Some("switchboard")), "{v}");
    let (_, v) = srv.call("GET", "/api/v1/branding/public?host=portal.a.example.com", None, None).await;
    assert_eq!(v["title"], "Sign in", "a tenant's own host shows its branding");
}
