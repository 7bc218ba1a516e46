//! The authorisation matrix, generated from the route table: every endpoint × every role
//! (super admin, tenant admin, agent, end user, and no token) × an object of the caller's own
//! tenant and of a foreign one, asserting the exact status.
//!
//! Expected statuses come from the route's declared [`Access`] rule for the generic
//! resources, and from the table in `custom_case` for the hand-written routes. A route the
//! table does not know fails the test: a new route cannot land without its rules.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};

use common::api::ApiServer;
use serde_json::{json, Value};
use switchboard::api::router::{Access, BodyDoc, Handler, Op, Route, ROUTES};
use switchboard::store::Scope;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Super,
    TenantAdmin,
    Agent,
    EndUser,
    Anonymous,
}

struct World {
    srv: ApiServer,
    s: String,
    tokens: Vec<(Who, Option<String>)>,
    a: i64,
    b: i64,
    trunk: i64,
    package: i64,
}

/// The smallest WAV file: a RIFF/WAVE header with no samples.
const WAV: &[u8] =
    b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x80\x3e\x00\x00\x02\x00\x10\x00data\x00\x00\x00\x00";

static N: AtomicU32 = AtomicU32::new(100);
fn n() -> u32 {
    N.fetch_add(1, Ordering::Relaxed)
}

async fn world() -> World {
    // The matrix fails sign-ins on purpose, from one address, more often than the
    // per-address budget allows (tests/sign_in.rs tests that budget).
    let srv = common::api::start(|c| c.sign_in.per_address_burst = 10_000).await;
    let s = srv.admin_token().await;
    let all: Vec<&str> = switchboard::access::Token::ALL.iter().map(|t| t.as_str()).collect();
    let a = srv.create(&s, "/api/v1/tenants", json!({ "company": "A", "email": "a@a.test", "sip_domain": "a.test", "permissions": all })).await;
    let b = srv.create(&s, "/api/v1/tenants", json!({ "company": "B", "email": "b@b.test", "sip_domain": "b.test", "permissions": all })).await;
    let pw = "Matrix-Pass-2026";
    for (email, role) in [("ta@a.test", "tenant_admin"), ("agent@a.test", "agent"), ("eu@a.test", "end_user")] {
        srv.create(&s, "/api/v1/users", json!({ "email": email, "name": role, "role": role, "password": pw, "tenant_id": a })).await;
    }
    let trunk = srv.create(&s, "/api/v1/trunks", json!({ "name": "T0", "host": "sip.carrier.test" })).await;
    let big = 1_000_000;
    let package = srv
        .create(
            &s,
            "/api/v1/packages",
            json!({ "name": "Unlimited", "extensions": big, "devices": big, "ring_groups": big, "call_queues": big, "ivr_menus": big,
                    "voicemails": big, "conferences": big, "music_on_hold": big }),
        )
        .await;
    let tokens = vec![
        (Who::Super, Some(s.clone())),
        (Who::TenantAdmin, Some(srv.login("ta@a.test", pw).await)),
        (Who::Agent, Some(srv.login("agent@a.test", pw).await)),
        (Who::EndUser, Some(srv.login("eu@a.test", pw).await)),
        (Who::Anonymous, None),
    ];
    World { srv, s, tokens, a, b, trunk, package }
}

/// A valid creation body for every generic resource, in tenant `t`. A resource without a
/// sample here fails the matrix.
async fn sample(w: &World, name: &str, t: i64) -> Value {
    let k = n();
    match name {
        "trunks" => json!({ "name": format!("T{k}"), "host": "sip.example.com" }),
        "dids" => json!({ "number": format!("+1212555{k:04}"), "tenant_id": t }),
        "extensions" => json!({ "number": format!("{}", 3000 + k), "tenant_id": t }),
        "inbound-routes" => {
            let did = w.srv.create(&w.s, "/api/v1/dids", json!({ "number": format!("+1646555{k:04}"), "tenant_id": t })).await;
            json!({ "did_id": did, "destination": { "type": "hangup" }, "tenant_id": t })
        }
        "outbound-routes" => json!({ "name": "R", "pattern": "9X.", "trunks": [{ "trunk_id": w.trunk }], "tenant_id": t }),
        "ring-groups" => json!({ "name": "G", "number": format!("{}", 60000 + k), "tenant_id": t }),
        "ivr-menus" => json!({ "name": "I", "tenant_id": t }),
        "call-queues" => json!({ "name": "Q", "number": format!("{}", 70000 + k), "tenant_id": t }),
        "voicemail-boxes" => json!({ "number": format!("{}", 8000 + k), "tenant_id": t }),
        "conferences" => json!({ "name": "C", "number": format!("{}", 90000 + k), "tenant_id": t }),
        "follow-me" => {
            let ext = w.srv.create(&w.s, "/api/v1/extensions", json!({ "number": format!("{}", 40000 + k), "tenant_id": t })).await;
            json!({ "extension_id": ext, "destinations": [{ "number": "+15551230000", "delay": 0, "timeout": 20 }], "tenant_id": t })
        }
        "time-conditions" => {
            json!({ "name": "TC", "matched_destination": { "type": "hangup" }, "unmatched_destination": { "type": "hangup" }, "tenant_id": t })
        }
        "call-flows" => {
            json!({ "name": "F", "feature_code": format!("{}", 1000 + k), "day_destination": { "type": "hangup" }, "night_destination": { "type": "hangup" }, "tenant_id": t })
        }
        "call-blocks" => json!({ "value": "+15551234567", "tenant_id": t }),
        "fax-contacts" => json!({ "name": "C", "fax": format!("+1415555{k:04}"), "tenant_id": t }),
        "fax-groups" => json!({ "name": format!("G{k}"), "tenant_id": t }),
        "fax-cover-pages" => json!({ "name": format!("Cover {k}"), "body": "To: {{recipient_name}}", "tenant_id": t }),
        "moh-classes" => json!({ "name": format!("moh{k}"), "tenant_id": t }),
        "device-profiles" => json!({ "name": format!("P{k}"), "tenant_id": t }),
        "devices" => json!({ "mac": format!("00:11:22:33:{:02x}:{:02x}", k / 256, k % 256), "vendor": "yealink", "tenant_id": t }),
        "packages" => json!({ "name": format!("Pkg{k}") }),
        "rate-plans" => {
            json!({ "name": format!("Plan{k}"), "rates": [{ "direction": "outbound", "per_minute": 1, "first_increment": 1, "next_increment": 1 }] })
        }
        "announcements" => json!({ "title": "A", "tenant_id": t }),
        // A host name under the tenant's own SIP domain: what a tenant admin may brand.
        "branding" => json!({ "tenant_id": t, "hostname": format!("b{k}.{}", if t == w.a { "a.test" } else { "b.test" }), "title": "B" }),
        other => panic!("no matrix sample for resource {other}: add one to tests/api_authz.rs"),
    }
}

/// The product's rules, written down independently of the router: read access and write
/// access per resource. The router's declared rules must match them (a wrong declaration
/// fails the matrix), and a resource missing here fails it too.
fn policy(name: &str) -> (Access, Access) {
    use switchboard::access::Token as T;
    use Access::*;
    match name {
        // Carriers and numbers are the operator's: tenant admins may look, not touch.
        "trunks" | "dids" => (TenantAdmin, SuperAdmin),
        "extensions" => (Token(T::FpbxExtension), Token(T::FpbxExtension)),
        "inbound-routes" => (Token(T::InboundRoutes), Token(T::InboundRoutes)),
        "ring-groups" => (Token(T::RingGroups), Token(T::RingGroups)),
        "ivr-menus" => (Token(T::IvrMenus), Token(T::IvrMenus)),
        "call-queues" => (Token(T::CallQueues), Token(T::CallQueues)),
        "voicemail-boxes" => (Token(T::Voicemails), Token(T::Voicemails)),
        "conferences" => (Token(T::Conferences), Token(T::Conferences)),
        "follow-me" => (Token(T::FollowMe), Token(T::FollowMe)),
        "moh-classes" => (Token(T::MusicOnHold), Token(T::MusicOnHold)),
        "fax-contacts" | "fax-groups" => (Token(T::Contacts), Token(T::Contacts)),
        "fax-cover-pages" => (Token(T::SendFax), Token(T::SendFax)),
        "device-profiles" | "devices" => (Token(T::Devices), Token(T::Devices)),
        "outbound-routes" | "time-conditions" | "call-flows" | "call-blocks" => (AdminToken(T::FpbxExtension), AdminToken(T::FpbxExtension)),
        "packages" => (SuperAdmin, SuperAdmin),
        "rate-plans" => (TenantAdmin, SuperAdmin),
        "announcements" | "branding" => (TenantAdmin, TenantAdmin),
        other => panic!("no policy for resource {other}: add it to tests/api_authz.rs"),
    }
}

fn allowed(access: Access, who: Who) -> bool {
    match (access, who) {
        (Access::Public, _) => true,
        (_, Who::Anonymous) => false,
        (_, Who::Super) => true,
        (Access::User, _) => true,
        (Access::SuperAdmin, _) => false,
        // Tenant A holds every token; the matrix's agent and end user hold none.
        (Access::TenantAdmin | Access::Token(_) | Access::AdminToken(_), Who::TenantAdmin) => true,
        (Access::TenantAdmin | Access::Token(_) | Access::AdminToken(_), _) => false,
    }
}

fn denied(who: Who) -> u16 {
    if who == Who::Anonymous {
        401
    } else {
        403
    }
}

async fn resource_case(w: &World, route: &Route, who: Who, foreign: bool) -> (String, Option<Value>, u16) {
    let Handler::Resource(r, op) = route.handler else { unreachable!() };
    let t = if foreign { w.b } else { w.a };
    let base = format!("/api/v1/{}", r.name);
    let ok = match op {
        Op::List | Op::Get | Op::Update => 200,
        Op::Create => 201,
        Op::Delete => 204,
    };
    let scoped = r.scope != Scope::Global;
    let (read, write) = policy(r.name);
    let rule = if matches!(op, Op::List | Op::Get) { read } else { write };
    assert_eq!(route.access, rule, "{} {} is declared {:?}, the policy says {rule:?}", route.method, route.path, route.access);
    let expected = if !allowed(rule, who) {
        denied(who)
    } else if who == Who::Super || !foreign || !scoped || op == Op::List {
        ok
    } else if op == Op::Create {
        403 // a tenant user naming another tenant
    } else {
        404 // another tenant's object does not exist for you
    };
    match op {
        Op::List => (if foreign { format!("{base}?tenant_id={t}") } else { base }, None, expected),
        Op::Create => (base, Some(sample(w, r.name, t).await), expected),
        Op::Get | Op::Update | Op::Delete => {
            let id = w.srv.create(&w.s, &base, sample(w, r.name, t).await).await;
            (format!("{base}/{id}"), (op == Op::Update).then(|| json!({})), expected)
        }
    }
}

async fn custom_case(w: &World, route: &Route, who: Who, foreign: bool) -> (String, Option<Value>, u16) {
    let t = if foreign { w.b } else { w.a };
    let anon = who == Who::Anonymous;
    let signed = |st: u16| if anon { 401 } else { st };
    let by_role = |sup: u16, ta_own: u16, ta_foreign: u16, other: u16| match who {
        Who::Super => sup,
        Who::TenantAdmin if foreign => ta_foreign,
        Who::TenantAdmin => ta_own,
        Who::Anonymous => 401,
        _ => other,
    };
    let k = n();
    let path = route.path.as_str();
    match (route.method.as_str(), path.trim_start_matches("/api/v1")) {
        ("GET", "/openapi.json") => (path.into(), None, 200),
        // A fresh unknown account each time: ten failures on one would lock it.
        ("POST", "/auth/login") => (path.into(), Some(json!({ "email": format!("nobody{k}@x.test"), "password": "x" })), 401),
        ("POST", "/auth/refresh") => (path.into(), Some(json!({ "refresh_token": "not-a-token" })), 401),
        ("POST", "/auth/change-password") => {
            (path.into(), Some(json!({ "email": format!("nobody{k}@x.test"), "current_password": "x", "new_password": "Whatever-123" })), 401)
        }
        ("GET", "/branding/public") => (format!("{path}?host=x.example.com"), None, 200),
        ("GET", "/route/explain") => (format!("{path}?number=1001&tenant_id={t}"), None, by_role(200, 200, 200, 403)),
        ("GET", "/cdrs" | "/cdrs.csv") => (path.into(), None, signed(200)),
        // No record 999999: whoever signed in finds none.
        ("GET", "/cdrs/{id}" | "/cdrs/{id}/recording") => (path.replace("{id}", "999999"), None, signed(404)),
        ("GET", "/me" | "/me/extensions" | "/me/dids" | "/me/queues" | "/me/announcements" | "/permissions" | "/feature-codes") => {
            (path.into(), None, signed(200))
        }
        ("PATCH", "/me") => (path.into(), Some(json!({ "fax_email": "" })), signed(200)),
        ("POST", "/me/password") => (path.into(), Some(json!({ "current_password": "wrong", "new_password": "Whatever-123" })), signed(422)),
        ("PATCH", "/me/extensions/{id}") => {
            let ext = w.srv.create(&w.s, "/api/v1/extensions", json!({ "number": format!("{}", 50000 + k), "tenant_id": t })).await;
            // Not assigned to the caller: 404; a super admin has no extensions at all.
            let st = match who {
                Who::Super => 403,
                Who::Anonymous => 401,
                _ => 404,
            };
            (format!("/api/v1/me/extensions/{ext}"), Some(json!({ "dnd": true })), st)
        }
        ("GET", "/quota") => (format!("{path}?tenant_id={t}"), None, signed(200)),
        // A tenant user's own credit whatever tenant_id says; the super admin names one.
        ("GET", "/credit") => (format!("{path}?tenant_id={t}"), None, signed(200)),
        ("GET", "/payments" | "/ledger" | "/flagged-calls" | "/usage") => (format!("{path}?tenant_id={t}"), None, by_role(200, 200, 200, 403)),
        ("POST", "/payments") => {
            (path.into(), Some(json!({ "tenant_id": t, "amount": 1_000_000, "payment_type": "cash" })), by_role(201, 403, 403, 403))
        }
        ("GET", "/activity") | ("GET", "/users") => (path.into(), None, by_role(200, 200, 200, 403)),
        ("POST", "/users") => (
            path.into(),
            Some(json!({ "email": format!("u{k}@x.test"), "name": "U", "role": "end_user", "password": "Good-Password-1", "tenant_id": t })),
            by_role(201, 201, 403, 403),
        ),
        (m @ ("GET" | "PATCH" | "DELETE"), "/users/{id}") => {
            let id = w
                .srv
                .create(
                    &w.s,
                    "/api/v1/users",
                    json!({ "email": format!("v{k}@x.test"), "name": "V", "role": "end_user", "password": "Good-Password-1", "tenant_id": t }),
                )
                .await;
            let ok = if m == "DELETE" { 204 } else { 200 };
            (format!("/api/v1/users/{id}"), (m == "PATCH").then(|| json!({ "name": "Renamed" })), by_role(ok, ok, 404, 403))
        }
        ("GET", "/tenants") | ("GET", "/subscriptions") => (path.into(), None, by_role(200, 403, 403, 403)),
        ("POST", "/tenants") => (
            path.into(),
            Some(json!({ "company": format!("C{k}"), "email": "c@c.test", "sip_domain": format!("c{k}.test") })),
            by_role(201, 403, 403, 403),
        ),
        ("GET", "/tenants/{id}") => (format!("/api/v1/tenants/{t}"), None, by_role(200, 200, 404, 403)),
        ("PATCH", "/tenants/{id}") => (format!("/api/v1/tenants/{t}"), Some(json!({})), by_role(200, 403, 403, 403)),
        ("DELETE", "/tenants/{id}") => {
            let id =
                w.srv.create(&w.s, "/api/v1/tenants", json!({ "company": "Gone", "email": "g@g.test", "sip_domain": format!("g{k}.test") })).await;
            (format!("/api/v1/tenants/{id}"), None, by_role(204, 403, 403, 403))
        }
        (m @ ("GET" | "POST"), "/conferences/{id}/live") => {
            let room = w
                .srv
                .create(&w.s, "/api/v1/conferences", json!({ "name": format!("c{k}"), "number": format!("{}", 3000 + k % 900), "tenant_id": t }))
                .await;
            // No switch behind the matrix's API: a command in scope says it is offline.
            let ok = if m == "GET" { 200 } else { 503 };
            (path.replace("{id}", &room.to_string()), (m == "POST").then(|| json!({ "action": "lock" })), by_role(ok, ok, 404, 403))
        }
        ("POST", "/sounds") => (format!("/api/v1/sounds?name=s{k}.wav&tenant_id={t}"), None, by_role(201, 201, 201, 403)),
        ("GET", "/sounds") => (path.into(), None, by_role(200, 200, 200, 403)),
        (m @ ("GET" | "DELETE"), "/sounds/{id}/audio" | "/sounds/{id}") => {
            let (st, f) = w.srv.call_raw("POST", &format!("/api/v1/sounds?name=s{k}.wav&tenant_id={t}"), Some(&w.s), WAV).await;
            assert_eq!(st, 201, "{f}");
            let ok = if m == "GET" { 200 } else { 204 };
            (path.replace("{id}", &f["id"].to_string()), None, by_role(ok, ok, 404, 403))
        }
        (m @ ("POST" | "GET"), "/moh-classes/{id}/files") => {
            let class = w.srv.create(&w.s, "/api/v1/moh-classes", json!({ "name": format!("c{k}"), "tenant_id": t })).await;
            let ok = if m == "POST" { 201 } else { 200 };
            (format!("/api/v1/moh-classes/{class}/files?name=f{k}.wav"), None, by_role(ok, ok, 404, 403))
        }
        ("DELETE", "/moh-files/{id}") => {
            let class = w.srv.create(&w.s, "/api/v1/moh-classes", json!({ "name": format!("c{k}"), "tenant_id": t })).await;
            let (st, f) = w.srv.call_raw("POST", &format!("/api/v1/moh-classes/{class}/files?name=f{k}.wav"), Some(&w.s), WAV).await;
            assert_eq!(st, 201, "{f}");
            (format!("/api/v1/moh-files/{}", f["id"]), None, by_role(204, 204, 404, 403))
        }
        (m @ ("GET" | "POST"), "/devices/{id}/provisioning" | "/devices/{id}/resync") => {
            let dev = w.srv.create(&w.s, "/api/v1/devices", json!({ "mac": format!("02000000{k:04x}"), "vendor": "yealink", "tenant_id": t })).await;
            // No switch behind the matrix's API: a resync in scope says it is offline.
            let ok = if m == "GET" { 200 } else { 503 };
            (path.replace("{id}", &dev.to_string()), None, by_role(ok, ok, 404, 403))
        }
        // The matrix's API has no switch behind it: the monitor reads empty, commands say 503.
        ("GET", "/channels" | "/registrations" | "/gateways" | "/realtime/feed") => (path.into(), None, by_role(200, 200, 200, 403)),
        ("POST", "/channels/hangup" | "/channels/hold" | "/channels/transfer") => (
            path.into(),
            Some(json!({ "uuid": "0b7d4d40-56b6-4c1b-9f0e-1c2d3e4f5a6b", "hold": true, "destination": "1001" })),
            by_role(503, 503, 503, 403),
        ),
        // No extension 1001 in the matrix's tenants: the body is refused for whoever may ask.
        ("POST", "/click-to-call") => (format!("{path}?tenant_id={t}"), Some(json!({ "extension": "1001", "number": "1003" })), signed(422)),
        // Agent status is a tenant user's own; a super admin has none to set.
        ("GET", "/queues/me") => (path.into(), None, signed(200)),
        ("PUT", "/queues/me") => (path.into(), Some(json!({ "status": "available" })), by_role(403, 200, 200, 200)),
        ("GET", "/queues/monitor") => (format!("{path}?tenant_id={t}"), None, by_role(200, 200, 200, 403)),
        ("GET", "/faxes/outbound") => (format!("{path}?tenant_id={t}"), None, by_role(200, 200, 200, 403)),
        // Not a PDF: refused by whoever may send (the matrix's tenants have no routes either).
        ("POST", "/faxes/outbound") => {
            (format!("{path}?tenant_id={t}&number=%2B12125551234"), Some(json!({ "not": "a pdf" })), by_role(422, 422, 422, 403))
        }
        // No DID 999999: whoever may assign finds none.
        ("PUT", "/dids/{id}/fax-line") => {
            (format!("{}?tenant_id={t}", path.replace("{id}", "999999")), Some(json!({ "extension_id": 1 })), by_role(404, 404, 404, 403))
        }
        ("GET", "/fax-dnc" | "/fax-dnc/export") => (format!("{path}?tenant_id={t}"), None, by_role(200, 200, 200, 403)),
        // A number that is not one: refused by whoever may list.
        ("POST", "/fax-dnc") => (format!("{path}?tenant_id={t}"), Some(json!({ "number": "not a number" })), by_role(422, 422, 422, 403)),
        ("POST", "/fax-dnc/import") => (format!("{path}?tenant_id={t}"), Some(json!("bad")), by_role(200, 200, 200, 403)),
        ("DELETE", "/fax-dnc/{id}") => (format!("{}?tenant_id={t}", path.replace("{id}", "999999")), None, by_role(404, 404, 404, 403)),
        ("GET", "/fax-contacts/export") => (format!("{path}?tenant_id={t}"), None, by_role(200, 200, 200, 403)),
        ("POST", "/fax-contacts/import") => (format!("{path}?tenant_id={t}"), Some(json!("bad")), by_role(200, 200, 200, 403)),
        ("GET", "/fax-documents") => (format!("{path}?tenant_id={t}"), None, by_role(200, 200, 200, 403)),
        ("GET", "/fax-campaigns") => (format!("{path}?tenant_id={t}"), None, by_role(200, 200, 200, 403)),
        // No such document: refused by whoever may make campaigns.
        ("POST", "/fax-campaigns") => {
            (format!("{path}?tenant_id={t}"), Some(json!({ "name": "C", "document_id": 999999 })), by_role(422, 422, 422, 403))
        }
        // No campaign or cover page 999999: whoever may look finds none.
        ("GET", "/fax-campaigns/{id}" | "/fax-campaigns/{id}/recipients" | "/fax-campaigns/{id}/results" | "/fax-cover-pages/{id}/preview")
        | ("POST", "/fax-campaigns/{id}/pause" | "/fax-campaigns/{id}/resume" | "/fax-campaigns/{id}/cancel") => {
            (format!("{}?tenant_id={t}", path.replace("{id}", "999999")), None, by_role(404, 404, 404, 403))
        }
        ("POST", "/fax-documents") => (format!("{path}?tenant_id={t}&name=Terms"), Some(json!({ "not": "a pdf" })), by_role(422, 422, 422, 403)),
        // No such document: whoever may look finds none.
        ("GET", "/fax-documents/{id}/pdf") | ("DELETE", "/fax-documents/{id}") => {
            (format!("{}?tenant_id={t}", path.replace("{id}", "999999")), None, by_role(404, 404, 404, 403))
        }
        ("GET", "/faxes/inbound" | "/fax-settings") => (format!("{path}?tenant_id={t}"), None, by_role(200, 200, 200, 403)),
        // No fax in the matrix's tenants: whoever may look finds none.
        ("GET", "/faxes/inbound/{id}/pdf") => (format!("{}?tenant_id={t}", path.replace("{id}", "999999")), None, by_role(404, 404, 404, 403)),
        ("PUT", "/fax-settings") => (
            format!("{path}?tenant_id={t}"),
            Some(json!({ "caller_id": "", "station_id": "ACME", "header": "Acme", "max_retries": 2, "retry_delay": 60, "ecm": true, "t38": false,
                         "delivery_email": "fax@a.test", "retention_days": 30 })),
            by_role(200, 200, 200, 403),
        ),
        ("GET", "/queues/report") => (format!("{path}?tenant_id={t}"), None, by_role(200, 200, 200, 403)),
        ("POST", "/subscriptions") => (path.into(), Some(json!({ "tenant_id": t, "package_id": w.package })), by_role(201, 403, 403, 403)),
        (m, p) => panic!("no matrix rules for {m} {p}: add them to custom_case in tests/api_authz.rs"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_every_role_own_and_foreign() {
    let w = world().await;
    let mut checked = 0;
    let mut failures = Vec::new();
    for route in ROUTES.iter() {
        for (who, token) in &w.tokens {
            for foreign in [false, true] {
                let (path, body, expected) = match route.handler {
                    Handler::Resource(..) => resource_case(&w, route, *who, foreign).await,
                    Handler::Custom(_) | Handler::Stream => custom_case(&w, route, *who, foreign).await,
                };
                let (status, v) = match route.body {
                    BodyDoc::Binary(_) => w.srv.call_raw(route.method.as_str(), &path, token.as_deref(), WAV).await,
                    _ => w.srv.call(route.method.as_str(), &path, token.as_deref(), body.as_ref()).await,
                };
                checked += 1;
                if status != expected {
                    failures.push(format!(
                        "{} {path} as {who:?} ({}): {status}, expected {expected}: {v}",
                        route.method,
                        if foreign { "foreign" } else { "own" }
                    ));
                }
            }
        }
    }
    println!("authorisation matrix: {checked} cases over {} routes", ROUTES.len());
    assert!(failures.is_empty(), "{} of {checked} cases wrong:\n{}", failures.len(), failures.join("\n"));
    assert_eq!(checked, ROUTES.len() * 10);
    assert!(ROUTES.len() > 120, "the matrix covers the whole table ({} routes)", ROUTES.len());
}

/// Foreign rows never show up in lists, whatever the query says.
#[tokio::test]
async fn lists_show_only_the_callers_tenant() {
    let w = world().await;
    for t in [w.a, w.b] {
        for k in 0..3 {
            w.srv.create(&w.s, "/api/v1/extensions", json!({ "number": format!("{}", 2000 + k), "tenant_id": t })).await;
        }
    }
    let ta = w.tokens[1].1.as_deref().unwrap();
    for q in ["", "?tenant_id=2", "?q=200", "?per_page=500"] {
        let (st, v) = w.srv.call("GET", &format!("/api/v1/extensions{q}"), Some(ta), None).await;
        assert_eq!(st, 200);
        assert_eq!(v["total"], 3, "{q}: {v}");
        assert!(v["items"].as_array().unwrap().iter().all(|e| e["tenant_id"] == w.a), "{q}");
    }
    let (_, all) = w.srv.call("GET", "/api/v1/extensions", Some(&w.s), None).await;
    assert_eq!(all["total"], 6, "the super admin sees every tenant");
    let (_, only_b) = w.srv.call("GET", &format!("/api/v1/extensions?tenant_id={}", w.b), Some(&w.s), None).await;
    assert_eq!(only_b["total"], 3);
    let (_, users) = w.srv.call("GET", "/api/v1/users", Some(ta), None).await;
    assert!(users["items"].as_array().unwrap().iter().all(|u| u["tenant_id"] == w.a), "{users}");
}
