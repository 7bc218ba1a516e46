//! First start: one super admin with a random password, or (`serve --demo`) a whole demo
//! installation. Both only when the database has no users yet; everything goes through the
//! same checked writes as the API.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::accounts::NewUser;
use super::resource::Actor;
use super::{resources as res, Result, Store, TenantId};
use crate::access::{self, Role, Token};

/// The demo's sign-ins (also printed in the README).
pub const DEMO_ACCOUNTS: &[(Role, &str, &str)] = &[
    (Role::SuperAdmin, "admin@switchboard.test", "Demo-Admin-2026"),
    (Role::TenantAdmin, "tenant@acme.test", "Demo-Tenant-2026"),
    (Role::Agent, "agent@acme.test", "Demo-Agent-2026"),
    (Role::EndUser, "user@acme.test", "Demo-User-2026"),
    (Role::TenantAdmin, "tenant@globex.test", "Demo-Globex-2026"),
];

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => unreachable!("seed bodies are objects"),
    }
}

fn id(v: &Value) -> i64 {
    v["id"].as_i64().expect("created rows have ids")
}

/// Creates the first super admin when there are no users; returns the password to print
/// once, or None when users already exist.
pub fn first_admin(store: &Store, email: &str, hash: &dyn Fn(&str) -> String) -> Result<Option<String>> {
    if store.user_count()? > 0 {
        return Ok(None);
    }
    // 20 characters from an unambiguous alphabet, with the classes any policy asks for.
    let password = format!("{}-9a", super::validate::generate_secret());
    let new = NewUser {
        tenant: None,
        email: email.into(),
        name: "Administrator".into(),
        role: Role::SuperAdmin,
        password_hash: hash(&password),
        permissions: Default::default(),
        fax_email: String::new(),
    };
    store.create_user(&new, &BTreeMap::new())?;
    Ok(Some(password))
}

/// The community edition has one tenant and no way to create another: make it on first
/// start (every permission, editable afterwards). Returns its id when it was created.
pub fn single_tenant(store: &Store) -> Result<Option<i64>> {
    let q = super::resource::ListQuery { page: 1, per_page: 1, ..Default::default() };
    if store.list(&res::TENANTS, super::resource::Within::Everything, None, &q)?.total > 0 {
        return Ok(None);
    }
    let all: Vec<&str> = Token::ALL.iter().map(|t| t.as_str()).collect();
    let admin = Actor { user_id: 0, admin: true, enforce_packages: false };
    let t = store.create(
        &res::TENANTS,
        None,
        &admin,
        &obj(json!({ "company": "My Company", "email": "admin@localhost.localdomain", "sip_domain": "pbx.localdomain", "permissions": all })),
    )?;
    Ok(Some(id(&t)))
}

/// Seeds the demo installation; false when the database already has users.
pub fn demo(store: &Store, hash: &dyn Fn(&str) -> String) -> Result<bool> {
    if store.user_count()? > 0 {
        return Ok(false);
    }
    let admin = Actor { user_id: 0, admin: true, enforce_packages: true };
    let all: Vec<&str> = Token::ALL.iter().map(|t| t.as_str()).collect();
    let acme = store.create(
        &res::TENANTS,
        None,
        &admin,
        &obj(json!({ "company": "Acme Corp", "email": "ops@acme.test", "sip_domain": "acme.switchboard.test", "timezone": "America/New_York",
                     "permissions": all, "max_concurrent_calls": 20, "low_credit_threshold": 5_000_000 })),
    )?;
    let globex = store.create(
        &res::TENANTS,
        None,
        &admin,
        &obj(json!({ "company": "Globex Ltd", "email": "it@globex.test", "sip_domain": "globex.switchboard.test", "timezone": "Europe/London",
                     "permissions": ["fpbx_extension", "ring_groups", "ivr_menus", "voicemails", "inbound_routes", "send_fax", "receive_fax"],
                     "max_concurrent_calls": 5 })),
    )?;
    let (acme, globex) = (TenantId(id(&acme)), TenantId(id(&globex)));
    let package = store.create(
        &res::PACKAGES,
        None,
        &admin,
        &obj(json!({ "name": "Business 20", "extensions": 20, "devices": 20, "ring_groups": 5, "call_queues": 3, "ivr_menus": 5,
                     "voicemails": 20, "conferences": 3, "music_on_hold": 3, "voice_minutes": 1000, "fax_pages": 200, "conference_minutes": 500 })),
    )?;
    store.subscribe(acme, id(&package))?;
    store.subscribe(globex, id(&package))?;

    let mut users = BTreeMap::new();
    for (role, email, password) in DEMO_ACCOUNTS {
        let tenant = match *role {
            Role::SuperAdmin => None,
            _ if email.ends_with("@globex.test") => Some(globex),
            _ => Some(acme),
        };
        let perms = match role {
            Role::Agent => access::parse_tokens(["fpbx_extension", "call_queues", "follow_me"]).expect("tokens"),
            Role::EndUser => access::parse_tokens(["fpbx_extension", "follow_me", "send_fax", "receive_fax"]).expect("tokens"),
            _ => Default::default(),
        };
        let name = email.split('@').next().unwrap_or("user");
        let u = store.create_user(
            &NewUser {
                tenant,
                email: (*email).into(),
                name: name.into(),
                role: *role,
                password_hash: hash(password),
                permissions: perms,
                fax_email: String::new(),
            },
            &BTreeMap::new(),
        )?;
        users.insert(*email, u.id);
    }

    let trunk = store.create(
        &res::TRUNKS,
        None,
        &admin,
        // No carrier is reachable from a demo box: the demo trunk is FreeSWITCH's own
        // external profile on loopback, so a call out to a demo DID comes straight back in on
        // that DID, and the rest are refused as unknown DIDs. It does not register: a peer
        // that is no registrar marks a registering gateway DOWN (sofia_reg.c:524), and a
        // host that does not resolve did the same (a real switch resolved sip.carrier.test).
        &obj(json!({ "name": "DemoCarrier", "host": "127.0.0.1", "port": 5080,
                     "register": false, "caller_id": "+12125550100", "codecs": ["PCMU", "PCMA"], "max_channels": 30 })),
    )?;
    let mut dids = Vec::new();
    for (number, tenant, desc) in
        [("+12125550100", acme, "Acme main line"), ("+12125550101", acme, "Acme support"), ("+442079460100", globex, "Globex London")]
    {
        dids.push(store.create(
            &res::DIDS,
            None,
            &admin,
            &obj(json!({ "number": number, "trunk_id": id(&trunk), "tenant_id": tenant.0, "description": desc })),
        )?);
    }

    let ext = |tenant: TenantId, number: &str, name: &str, user: Option<i64>| {
        store.create(
            &res::EXTENSIONS,
            Some(tenant),
            &admin,
            &obj(json!({ "number": number, "display_name": name, "voicemail_enabled": true, "voicemail_pin": "4321", "user_id": user })),
        )
    };
    let e1001 = ext(acme, "1001", "Reception", Some(users["tenant@acme.test"]))?;
    let e1002 = ext(acme, "1002", "Sales Desk", Some(users["agent@acme.test"]))?;
    let e1003 = ext(acme, "1003", "Jane User", Some(users["user@acme.test"]))?;
    ext(acme, "1004", "Warehouse", None)?;
    let e2001 = ext(globex, "2001", "Front Desk", Some(users["tenant@globex.test"]))?;
    ext(globex, "2002", "Accounts", None)?;

    // A desk phone for reception, provisioned with its line and a few keys.
    let profile = store.create(
        &res::DEVICE_PROFILES,
        Some(acme),
        &admin,
        &obj(json!({ "name": "Office Phones", "description": "Front office desk phones", "codecs": ["G722", "PCMU", "PCMA"],
                     "dtmf_mode": "rfc2833", "timezone": "America/New_York", "ntp_server": "pool.ntp.org",
                     "feature_keys": [{ "type": "line" }, { "type": "blf", "value": "1002", "label": "Sales Desk" },
                                      { "type": "blf", "value": "1003", "label": "Jane" }, { "type": "voicemail" }] })),
    )?;
    store.create(
        &res::DEVICES,
        Some(acme),
        &admin,
        &obj(json!({ "mac": "80:5e:c0:12:34:56", "label": "Reception desk", "vendor": "yealink", "model": "T54W",
                     "profile_id": id(&profile), "lines": [{ "extension_id": id(&e1001) }] })),
    )?;

    let vm = store.create(
        &res::VOICEMAIL_BOXES,
        Some(acme),
        &admin,
        &obj(json!({ "number": "1001", "pin": "4321", "name": "Reception", "email": "ops@acme.test", "attach_audio": true })),
    )?;
    let sales = store.create(
        &res::RING_GROUPS,
        Some(acme),
        &admin,
        &obj(json!({ "name": "Sales Team", "number": "6000", "strategy": "simultaneous", "timeout": 25,
                     "no_answer_destination": { "type": "voicemail", "id": id(&vm) },
                     "members": [{ "extension_id": id(&e1001) }, { "extension_id": id(&e1002) }] })),
    )?;
    let ivr = store.create(
        &res::IVR_MENUS,
        Some(acme),
        &admin,
        &obj(json!({ "name": "Main menu", "number": "5000", "greeting": "ivr/ivr-welcome_to_freeswitch.wav", "timeout": 10,
                     "invalid_destination": { "type": "extension", "id": id(&e1001) },
                     "timeout_destination": { "type": "extension", "id": id(&e1001) },
                     "direct_dial": true,
                     "options": [
                        { "digit": "1", "destination": { "type": "ring_group", "id": id(&sales) } },
                        { "digit": "2", "destination": { "type": "extension", "id": id(&e1003) } },
                        { "digit": "0", "destination": { "type": "extension", "id": id(&e1001) } },
                        { "digit": "9", "destination": { "type": "voicemail", "id": id(&vm) } } ] })),
    )?;
    let hours = store.create(
        &res::TIME_CONDITIONS,
        Some(acme),
        &admin,
        &obj(json!({ "name": "Business hours", "weekdays": ["mon", "tue", "wed", "thu", "fri"],
                     "time_ranges": [{ "start": "09:00", "end": "17:00" }],
                     "holidays": [{ "date": "2026-12-25", "name": "Christmas Day" }],
                     "matched_destination": { "type": "ivr", "id": id(&ivr) },
                     "unmatched_destination": { "type": "voicemail", "id": id(&vm) } })),
    )?;
    store.create(
        &res::INBOUND_ROUTES,
        Some(acme),
        &admin,
        &obj(json!({ "did_id": id(&dids[0]), "name": "Main line", "destination": { "type": "time_condition", "id": id(&hours) } })),
    )?;
    store.create(
        &res::INBOUND_ROUTES,
        Some(acme),
        &admin,
        &obj(json!({ "did_id": id(&dids[1]), "name": "Support line", "destination": { "type": "ring_group", "id": id(&sales) } })),
    )?;
    store.create(
        &res::INBOUND_ROUTES,
        Some(globex),
        &admin,
        &obj(json!({ "did_id": id(&dids[2]), "name": "London", "destination": { "type": "extension", "id": id(&e2001) } })),
    )?;
    store.create(
        &res::OUTBOUND_ROUTES,
        Some(acme),
        &admin,
        &obj(json!({ "name": "North America", "pattern": "+1NXXNXXXXXX", "priority": 10, "trunks": [{ "trunk_id": id(&trunk) }],
                     "failover_causes": ["NORMAL_TEMPORARY_FAILURE", "NO_ROUTE_DESTINATION", "GATEWAY_DOWN"] })),
    )?;
    store.create(
        &res::ANNOUNCEMENTS,
        None,
        &admin,
        &obj(json!({ "title": "Welcome to the switchboard demo", "body": "Two tenants, Acme Corp and Globex Ltd, are set up to explore." })),
    )?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::resource::{ListQuery, Within};

    #[test]
    fn demo_seeds_once_and_passes_every_check() {
        let (s, dir) = crate::store::temp_store();
        let cheap = |p: &str| format!("plain:{p}");
        assert!(demo(&s, &cheap).unwrap());
        assert!(!demo(&s, &cheap).unwrap(), "a second start seeds nothing");
        assert_eq!(s.user_count().unwrap(), DEMO_ACCOUNTS.len() as i64);
        let q = ListQuery { page: 1, per_page: 50, ..Default::default() };
        let acme = s.list(&res::TENANTS, Within::Everything, None, &q).unwrap().items[0]["id"].as_i64().unwrap();
        let exts = s.list(&res::EXTENSIONS, Within::Tenant(TenantId(acme)), None, &q).unwrap();
        assert_eq!(exts.total, 4);
        assert!(first_admin(&s, "x@y.test", &cheap).unwrap().is_none(), "no extra admin once users exist");
        let _ = std::fs::remove_dir_all(dir);
    }
}
