//! mod_xml_curl over HTTP: the documents FreeSWITCH fetches, checked for the structure
//! FreeSWITCH reads (switch_xml.c, sofia.c, mod_local_stream.c, mod_dialplan_xml.c), as
//! FreeSWITCH would ask for them (form-encoded POST, mod_xml_curl.c:179–239).

mod common;

use common::xml::parse;
use serde_json::{json, Map, Value};
use switchboard::store::resource::{Actor, ListQuery, Within};
use switchboard::store::{resources as res, Store};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const ACME: &str = "acme.switchboard.test";
const ADMIN: Actor = Actor { user_id: 0, admin: true, enforce_packages: false };

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

fn form(pairs: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| if b.is_ascii_alphanumeric() || b"-_.".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
            .collect::<String>()
    };
    pairs.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&")
}

/// What mod_xml_curl sends as `gateway-credentials` to the test servers.
const PASSWORD: &str = "fs-secret";
const SIGNED: Option<&str> = Some("freeswitch:fs-secret");

/// POSTs a form as mod_xml_curl does; status and body text.
async fn fetch(addr: std::net::SocketAddr, pairs: &[(&str, &str)], credentials: Option<&str>) -> (u16, String) {
    fetch_with(addr, pairs, credentials, &[]).await
}

/// [`fetch`] with more headers (a proxy's).
async fn fetch_with(addr: std::net::SocketAddr, pairs: &[(&str, &str)], credentials: Option<&str>, extra: &[(&str, &str)]) -> (u16, String) {
    let body = form(pairs);
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut head = format!(
        "POST /freeswitch/xml HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(c) = credentials {
        use base64::Engine as _;
        head.push_str(&format!("Authorization: Basic {}\r\n", base64::engine::general_purpose::STANDARD.encode(c)));
    }
    for (k, v) in extra {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(body.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    let status = out.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap();
    (status, out.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default())
}

fn user_request<'a>(user: &'a str, domain: &'a str, action: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("hostname", "pbx1"),
        ("section", "directory"),
        ("tag_name", "domain"),
        ("key_name", "name"),
        ("key_value", domain),
        ("Event-Name", "REQUEST_PARAMS"),
        ("action", action),
        ("sip_auth_username", user),
        ("sip_auth_realm", domain),
        ("user", user),
        ("domain", domain),
    ]
}

fn is_not_found(doc: &str) -> bool {
    let d = parse(doc);
    d.at(&["section[name=result]", "result"]).and_then(|r| r.attr("status")) == Some("not found")
}

fn find(store: &Store, r: &switchboard::store::Resource, key: &str, value: &str) -> Value {
    let q = ListQuery { page: 1, per_page: 500, ..Default::default() };
    store.list(r, Within::Everything, None, &q).unwrap().items.into_iter().find(|v| v[key] == value).unwrap()
}

async fn demo() -> common::api::ApiServer {
    common::api::start_demo(|c| c.xml_curl_password = PASSWORD.into()).await
}

#[tokio::test]
async fn the_directory_answers_a_registering_phone_with_its_digest_and_routing_variables() {
    let srv = demo().await;
    let ext = find(&srv.store, &res::EXTENSIONS, "number", "1001");
    let password = ext["sip_password"].as_str().unwrap().to_string();
    for action in ["sip_auth", "user_call", "message-count"] {
        let (st, doc) = fetch(srv.addr, &user_request("1001", ACME, action), SIGNED).await;
        assert_eq!(st, 200);
        let d = parse(&doc);
        assert_eq!((d.name.as_str(), d.attr("type")), ("document", Some("freeswitch/xml")));
        let domain = d.at(&["section[name=directory]", &format!("domain[name={ACME}]")]).expect("the domain");
        assert!(
            domain.at(&["params"]).and_then(|p| p.param("param", "dial-string")).is_some_and(|s| s.contains("sofia_contact")),
            "user/ needs a dial-string"
        );
        let user = domain.at(&["groups", "group[name=default]", "users", "user[id=1001]"]).expect("the user");
        let params = user.at(&["params"]).unwrap();
        assert_eq!(params.param("param", "a1-hash"), Some(switchboard::xml_curl::a1_hash("1001", ACME, &password).as_str()));
        assert!(params.param("param", "password").is_none(), "the digest's hash, not the password");
        assert_eq!(params.param("param", "vm-password"), Some("4321"));
        assert_eq!(params.param("param", "vm-mailto"), Some("ops@acme.test"));
        assert_eq!(params.param("param", "vm-attach-file"), Some("true"));
        let vars = user.at(&["variables"]).unwrap();
        assert_eq!(vars.param("variable", "user_context"), Some(ACME), "the phone's calls enter the tenant's context");
        assert_eq!(vars.param("variable", "effective_caller_id_name"), Some("Reception"));
        assert_eq!(vars.param("variable", "effective_caller_id_number"), Some("1001"));
        assert_eq!(vars.param("variable", "switchboard_max_calls"), Some("20"));
    }
    // Unknown users and domains, and a user asked for under another tenant's domain, get
    // FreeSWITCH's "not found", never an error page.
    for (u, d) in [("9999", ACME), ("1001", "nowhere.test"), ("1001", "globex.switchboard.test"), ("", ACME)] {
        let (st, doc) = fetch(srv.addr, &user_request(u, d, "sip_auth"), SIGNED).await;
        assert_eq!(st, 200);
        assert!(is_not_found(&doc), "{u}@{d}: {doc}");
    }
    // A disabled tenant's phones cannot register.
    let acme = find(&srv.store, &res::TENANTS, "sip_domain", ACME)["id"].as_i64().unwrap();
    srv.store.update(&res::TENANTS, Within::Everything, None, acme, &obj(json!({ "enabled": false }))).unwrap();
    let (_, doc) = fetch(srv.addr, &user_request("1001", ACME, "sip_auth"), SIGNED).await;
    assert!(is_not_found(&doc));
}

#[tokio::test]
async fn hostile_names_stay_attribute_text() {
    let srv = demo().await;
    let acme = switchboard::store::TenantId(find(&srv.store, &res::TENANTS, "sip_domain", ACME)["id"].as_i64().unwrap());
    let evil = "Eve\"/><user id=\"x\"><!-- & 'q'";
    let id = find(&srv.store, &res::EXTENSIONS, "number", "1004")["id"].as_i64().unwrap();
    srv.store.update(&res::EXTENSIONS, Within::Tenant(acme), None, id, &obj(json!({ "display_name": evil }))).unwrap();
    let (_, doc) = fetch(srv.addr, &user_request("1004", ACME, "sip_auth"), SIGNED).await;
    let d = parse(&doc);
    let users = d.at(&["section[name=directory]", "domain", "groups", "group", "users"]).unwrap();
    assert_eq!(users.children.len(), 1, "no second user smuggled in");
    assert_eq!(users.children[0].at(&["variables"]).unwrap().param("variable", "effective_caller_id_name"), Some(evil));
}

/// What an attacker would store for FreeSWITCH: a global variable its preprocessor
/// substitutes, an API call its channel-variable expansion runs, and a preprocessor command.
const SWITCH_BAIT: &str = "a$${default_password}b${system(id)}<X-PRE-PROCESS cmd=\"exec\" data=\"id\"/>x-pre-process";
/// SWITCH_BAIT as a channel variable or mail address carries it: each `$` opening a reference
/// made `%`, as FreeSWITCH cleans a caller's name (switch_var_clean_string).
const SWITCH_BAIT_DEFUSED: &str = "a$%{default_password}b%{system(id)}<X-PRE-PROCESS cmd=\"exec\" data=\"id\"/>x-pre-process";

/// Writes a value straight into the database, as data stored before the API refused it.
fn store_raw(store: &Store, sql: &str, value: &str, id: i64) {
    let n = store.conn().unwrap().execute(sql, (value, id)).unwrap();
    assert_eq!(n, 1, "{sql}");
}

/// The bytes FreeSWITCH's preprocessor reads hold none of the bait: no `$` of it (expand_vars
/// finds no `$${`), no `<` and no x-pre-process word (no command, no dropped line).
fn preprocessor_finds_nothing(doc: &str) {
    for raw in ["$${default_password}", "${system", "<X-PRE"] {
        assert!(!doc.contains(raw), "{raw} in\n{doc}");
    }
    assert!(!doc.to_ascii_lowercase().contains("x-pre-process"), "{doc}");
}

fn acme_id(store: &Store, r: &switchboard::store::Resource, key: &str, value: &str) -> i64 {
    let acme = find(store, &res::TENANTS, "sip_domain", ACME)["id"].clone();
    let q = ListQuery { page: 1, per_page: 500, ..Default::default() };
    let rows = store.list(r, Within::Everything, None, &q).unwrap().items;
    rows.into_iter().find(|v| v[key] == value && v["tenant_id"] == acme).unwrap()["id"].as_i64().unwrap()
}

#[tokio::test]
async fn a_display_name_reaches_the_switch_without_a_variable_to_expand() {
    let srv = demo().await;
    store_raw(
        &srv.store,
        "UPDATE extensions SET display_name = ?1 WHERE id = ?2",
        SWITCH_BAIT,
        acme_id(&srv.store, &res::EXTENSIONS, "number", "1004"),
    );
    let (st, doc) = fetch(srv.addr, &user_request("1004", ACME, "sip_auth"), SIGNED).await;
    assert_eq!(st, 200);
    preprocessor_finds_nothing(&doc);
    assert!(doc.contains("value=\"a&#36;%{default_password}b%{system(id)}&lt;&#88;-PRE-PROCESS"), "{doc}");
    let d = parse(&doc);
    let vars = d.at(&["section[name=directory]", "domain", "groups", "group", "users", "user[id=1004]", "variables"]).unwrap();
    assert_eq!(vars.param("variable", "effective_caller_id_name"), Some(SWITCH_BAIT_DEFUSED));
}

#[tokio::test]
async fn a_voicemail_email_reaches_the_switch_without_a_variable_to_expand() {
    let srv = demo().await;
    store_raw(
        &srv.store,
        "UPDATE voicemail_boxes SET email = ?1 WHERE id = ?2",
        SWITCH_BAIT,
        acme_id(&srv.store, &res::VOICEMAIL_BOXES, "number", "1001"),
    );
    let (st, doc) = fetch(srv.addr, &user_request("1001", ACME, "sip_auth"), SIGNED).await;
    assert_eq!(st, 200);
    preprocessor_finds_nothing(&doc);
    let d = parse(&doc);
    let params = d.at(&["section[name=directory]", "domain", "groups", "group", "users", "user[id=1001]", "params"]).unwrap();
    assert_eq!(params.param("param", "vm-mailto"), Some(SWITCH_BAIT_DEFUSED));
}

/// sofia.conf's gateway for a trunk whose `column` holds the bait: the raw answer and the
/// gateway as FreeSWITCH parses it.
async fn gateway_with(column: &str) -> (String, common::xml::Node) {
    let srv = demo().await;
    let trunk = srv
        .store
        .create(&res::TRUNKS, None, &ADMIN, &obj(json!({ "name": "Carrier B", "host": "sip.b.test", "username": "acct7", "password": "s3cret" })))
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    store_raw(&srv.store, &format!("UPDATE trunks SET {column} = ?1 WHERE id = ?2"), SWITCH_BAIT, trunk);
    let req = [("section", "configuration"), ("tag_name", "configuration"), ("key_name", "name"), ("key_value", "sofia.conf")];
    let (st, doc) = fetch(srv.addr, &req, SIGNED).await;
    assert_eq!(st, 200);
    let d = parse(&doc);
    let conf = d.at(&["section[name=configuration]", "configuration[name=sofia.conf]", "profiles", "profile[name=external]", "gateways"]).unwrap();
    let gw = conf.at(&[&format!("gateway[name=trunk{trunk}]")]).unwrap().clone();
    (doc, gw)
}

#[tokio::test]
async fn a_trunk_name_reaches_the_switch_without_a_variable_to_expand() {
    let (doc, gw) = gateway_with("name").await;
    preprocessor_finds_nothing(&doc);
    assert_eq!(gw.at(&["variables"]).unwrap().param("variable", "switchboard_trunk"), Some(SWITCH_BAIT_DEFUSED));
}

/// sofia reads a gateway's user name and password as they are and never expands them
/// (sofia.c:3771 parse_gateways): the switch gets exactly what was stored, `$` included.
#[tokio::test]
async fn a_trunk_user_name_reaches_the_switch_literally() {
    let (doc, gw) = gateway_with("username").await;
    preprocessor_finds_nothing(&doc);
    assert!(doc.contains("value=\"a&#36;&#36;{default_password}b&#36;{system(id)}&lt;&#88;-PRE-PROCESS"), "{doc}");
    assert_eq!(gw.param("param", "username"), Some(SWITCH_BAIT));
}

#[tokio::test]
async fn a_trunk_password_reaches_the_switch_literally() {
    let (doc, gw) = gateway_with("password").await;
    preprocessor_finds_nothing(&doc);
    assert_eq!(gw.param("param", "password"), Some(SWITCH_BAIT));
}

/// The data directory's path is the operator's; a `$` in it is a `$` in the path.
#[tokio::test]
async fn a_music_on_hold_path_reaches_the_switch_literally() {
    let dir = common::api::temp_dir().join("pbx$${default_password}");
    std::fs::create_dir_all(&dir).unwrap();
    let srv = common::api::start_demo(|c| {
        c.xml_curl_password = PASSWORD.into();
        c.data_dir = dir.clone();
    })
    .await;
    let acme = switchboard::store::TenantId(find(&srv.store, &res::TENANTS, "sip_domain", ACME)["id"].as_i64().unwrap());
    let class = srv.store.create(&res::MOH_CLASSES, Some(acme), &ADMIN, &obj(json!({ "name": "jazz" }))).unwrap()["id"].as_i64().unwrap();
    let (_, doc) = fetch(srv.addr, &[("section", "configuration"), ("key_value", "local_stream.conf")], SIGNED).await;
    assert!(!doc.contains("pbx$${default_password}"), "{doc}");
    let d = parse(&doc);
    let conf = d.at(&["section[name=configuration]", "configuration[name=local_stream.conf]"]).unwrap();
    let path = conf.at(&[&format!("directory[name=moh_t{}_c{class}]", acme.0)]).unwrap().attr("path").unwrap();
    assert!(path.contains("/pbx$${default_password}/moh/"), "{path}");
    assert_eq!(conf.at(&["directory[name=default]"]).unwrap().attr("path"), Some("$${sounds_dir}/music/8000"), "FreeSWITCH's own stays a variable");
}

/// Every field the switch reads refuses a variable reference when it is written, with a
/// field error that says why; the same text elsewhere is stored as it is.
#[tokio::test]
async fn the_api_refuses_a_variable_reference_in_every_field_the_switch_reads() {
    let srv = demo().await;
    let to_switch: Vec<(&str, &str)> = res::ALL.iter().flat_map(|r| r.fields.iter().filter(|f| f.to_switch).map(move |f| (r.name, f.name))).collect();
    assert_eq!(
        to_switch,
        [("trunks", "name"), ("trunks", "username"), ("trunks", "password"), ("extensions", "display_name"), ("voicemail-boxes", "email")],
        "every field an XML answer carries as text"
    );
    let admin = srv.login("admin@switchboard.test", "Demo-Admin-2026").await;
    let trunk = find(&srv.store, &res::TRUNKS, "name", "DemoCarrier")["id"].as_i64().unwrap();
    let ext = acme_id(&srv.store, &res::EXTENSIONS, "number", "1004");
    let vm = acme_id(&srv.store, &res::VOICEMAIL_BOXES, "number", "1001");
    for (path, field, bait) in [
        (format!("/api/v1/trunks/{trunk}"), "name", "Carrier ${system(id)}"),
        (format!("/api/v1/trunks/{trunk}"), "username", "u$${default_password}"),
        (format!("/api/v1/trunks/{trunk}"), "password", "p$\\{x}"),
        (format!("/api/v1/extensions/{ext}"), "display_name", "a$${default_password}b"),
        (format!("/api/v1/voicemail-boxes/{vm}"), "email", "${system(id)}@acme.test"),
    ] {
        let (st, v) = srv.call("PATCH", &path, Some(&admin), Some(&json!({ field: bait }))).await;
        assert_eq!((st, v["field"].as_str()), (422, Some(field)), "{path} {field}: {v}");
        assert!(v["message"].as_str().unwrap().contains("${"), "{v}");
    }
    // A `$` or braces alone are no reference.
    let (st, v) = srv.call("PATCH", &format!("/api/v1/extensions/{ext}"), Some(&admin), Some(&json!({ "display_name": "Sales $ {EU}" }))).await;
    assert_eq!((st, v["display_name"].as_str()), (200, Some("Sales $ {EU}")), "{v}");
    // Text the switch never reads keeps any character.
    let (st, _) = srv.call("PATCH", &format!("/api/v1/voicemail-boxes/{vm}"), Some(&admin), Some(&json!({ "name": "${x}" }))).await;
    assert_eq!(st, 200);
}
#[tokio::test]
async fn sofia_conf_has_both_profiles_and_a_gateway_per_active_trunk() {
    let srv = demo().await;
    let trunk = srv
        .store
        .create(
            &res::TRUNKS,
            None,
            &ADMIN,
            &obj(json!({ "name": "Carrier B", "host": "sip.b.test", "port": 5070, "username": "acct7", "password": "s3cret", "register": true })),
        )
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let off = srv.store.create(&res::TRUNKS, None, &ADMIN, &obj(json!({ "name": "Retired", "host": "old.test", "active": false }))).unwrap()["id"]
        .as_i64()
        .unwrap();
    let req =
        [("section", "configuration"), ("tag_name", "configuration"), ("key_name", "name"), ("key_value", "sofia.conf"), ("profile", "external")];
    let (st, doc) = fetch(srv.addr, &req, SIGNED).await;
    assert_eq!(st, 200);
    let d = parse(&doc);
    let conf = d.at(&["section[name=configuration]", "configuration[name=sofia.conf]"]).expect("sofia.conf");
    assert!(conf.at(&["global_settings"]).is_some());
    let profiles = conf.at(&["profiles"]).unwrap();
    let internal = profiles.at(&["profile[name=internal]"]).expect("internal profile");
    assert_eq!(internal.at(&["settings"]).unwrap().param("param", "auth-calls"), Some("true"), "phones are challenged");
    assert_eq!(
        internal.at(&["settings"]).unwrap().param("param", "sip-port"),
        Some("$${internal_sip_port}"),
        "the port is the stock vars.xml variable"
    );
    let external = profiles.at(&["profile[name=external]"]).expect("external profile");
    assert_eq!(external.at(&["settings"]).unwrap().param("param", "context"), Some("public"));
    let gws = external.at(&["gateways"]).unwrap();
    let gw = gws.at(&[&format!("gateway[name=trunk{trunk}]")]).expect("the new trunk's gateway");
    assert_eq!(gw.param("param", "proxy"), Some("sip.b.test:5070"));
    assert_eq!((gw.param("param", "username"), gw.param("param", "password")), (Some("acct7"), Some("s3cret")));
    assert_eq!(gw.param("param", "register"), Some("true"));
    assert_eq!(gw.at(&["variables"]).and_then(|v| v.param("variable", "switchboard_trunk")), Some("Carrier B"));
    assert!(gws.at(&[&format!("gateway[name=trunk{off}]")]).is_none(), "an inactive trunk is no gateway");
    assert_eq!(gws.children.len(), 2, "the demo trunk and the new one");
    // What switchboard does not own falls back to FreeSWITCH's files.
    let (_, doc) = fetch(srv.addr, &[("section", "configuration"), ("key_value", "switch.conf")], SIGNED).await;
    assert!(is_not_found(&doc));
}

#[tokio::test]
async fn music_on_hold_classes_and_conference_profiles() {
    let srv = demo().await;
    let acme = find(&srv.store, &res::TENANTS, "sip_domain", ACME)["id"].as_i64().unwrap();
    let class = srv.store.create(&res::MOH_CLASSES, Some(switchboard::store::TenantId(acme)), &ADMIN, &obj(json!({ "name": "jazz" }))).unwrap()["id"]
        .as_i64()
        .unwrap();
    let (_, doc) = fetch(srv.addr, &[("section", "configuration"), ("key_value", "local_stream.conf")], SIGNED).await;
    let d = parse(&doc);
    let conf = d.at(&["section[name=configuration]", "configuration[name=local_stream.conf]"]).unwrap();
    assert!(conf.at(&["directory[name=default]"]).is_some(), "FreeSWITCH's own default stream stays");
    let dir = conf.at(&[&format!("directory[name=moh_t{acme}_c{class}]")]).expect("the class's stream");
    let path = dir.attr("path").unwrap();
    assert!(std::path::Path::new(path).is_absolute() && path.ends_with(&format!("moh/{acme}/{class}")), "{path}");
    assert_eq!(dir.param("param", "rate"), Some("8000"));
    let (_, doc) = fetch(srv.addr, &[("section", "configuration"), ("key_value", "conference.conf")], SIGNED).await;
    let d = parse(&doc);
    let conf = d.at(&["section[name=configuration]", "configuration[name=conference.conf]"]).unwrap();
    assert_eq!(conf.at(&["profiles", "profile[name=default]"]).unwrap().param("param", "caller-controls"), Some("default"));
    assert!(conf.at(&["caller-controls", "group[name=default]"]).is_some_and(|g| g.children.len() > 5));
}

#[tokio::test]
async fn every_tenant_domain_and_public_get_a_context_that_hands_calls_to_the_socket() {
    let srv = demo().await;
    for ctx in ["public", ACME, "globex.switchboard.test"] {
        let (_, doc) = fetch(srv.addr, &[("section", "dialplan"), ("Caller-Context", ctx), ("Caller-Destination-Number", "1001")], SIGNED).await;
        let d = parse(&doc);
        let context = d.at(&["section[name=dialplan]", &format!("context[name={ctx}]")]).unwrap_or_else(|| panic!("{ctx}: {doc}"));
        let cond = context.at(&["extension[name=switchboard]", "condition"]).unwrap();
        let actions: Vec<(&str, &str)> = cond.all("action").map(|a| (a.attr("application").unwrap(), a.attr("data").unwrap_or(""))).collect();
        let socket = actions.iter().find(|(app, _)| *app == "socket").expect("a socket action");
        assert!(socket.1.contains("127.0.0.1:8084") && socket.1.ends_with("async full"), "{socket:?}");
        assert_eq!(actions.last().map(|a| a.0), Some("hangup"), "the fallback ends the call when no switchboard answers");
    }
    let (_, doc) = fetch(srv.addr, &[("section", "dialplan"), ("Caller-Context", "default")], SIGNED).await;
    assert!(is_not_found(&doc), "contexts switchboard does not own are FreeSWITCH's");
}

#[tokio::test]
async fn the_password_is_required_and_a_request_through_a_proxy_is_refused() {
    let srv = demo().await;
    let req = user_request("1001", ACME, "sip_auth");
    assert_eq!(fetch(srv.addr, &req, None).await.0, 401, "loopback alone is no proof");
    assert_eq!(fetch(srv.addr, &req, Some("freeswitch:wrong")).await.0, 401);
    let (st, doc) = fetch(srv.addr, &req, SIGNED).await;
    assert_eq!(st, 200);
    assert!(!is_not_found(&doc));
    // A reverse proxy on the same box connects from loopback: its headers give it away.
    for h in [("X-Forwarded-For", "203.0.113.5"), ("Forwarded", "for=203.0.113.5"), ("X-Real-IP", "203.0.113.5")] {
        let (st, doc) = fetch_with(srv.addr, &req, SIGNED, &[h]).await;
        assert_eq!(st, 403, "{h:?}");
        assert!(!doc.contains("a1-hash"), "{h:?}: {doc}");
    }
}

/// `serve` with no password configured (a fresh `serve --demo`): one is generated into the
/// data directory, owner-only, and nothing is answered without it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_demo_generates_the_password_and_answers_nothing_without_it() {
    use std::os::unix::fs::PermissionsExt;
    let dir = common::api::temp_dir();
    let sb = common::process::serve(&dir, "127.0.0.1:9".parse().unwrap(), "ClueCon", &["--demo"]);
    let file = dir.join("xml-curl-password");
    let password = std::fs::read_to_string(&file).expect("generated at the first start").trim().to_string();
    assert!(password.len() >= 32, "{password}");
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    let req = user_request("1001", ACME, "sip_auth");
    let (st, doc) = fetch(sb.http, &req, None).await;
    assert_eq!(st, 401, "{doc}");
    let creds = format!("freeswitch:{password}");
    let (st, doc) = fetch(sb.http, &req, Some(&creds)).await;
    assert_eq!(st, 200);
    assert!(doc.contains("a1-hash"), "{doc}");
    assert_eq!(fetch_with(sb.http, &req, Some(&creds), &[("X-Forwarded-For", "203.0.113.5")]).await.0, 403);
    // The same password after a restart.
    drop(sb);
    let sb = common::process::serve(&dir, "127.0.0.1:9".parse().unwrap(), "ClueCon", &[]);
    assert_eq!(fetch(sb.http, &req, Some(&creds)).await.0, 200);
}
