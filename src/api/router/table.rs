//! The route table: every `/api/v1` endpoint with its access rule, as data — the custom
//! routes of sign-in, the own account, records and administration here, billing and realtime
//! in `table_billing_live`, then the five routes of each generic resource.

use std::sync::LazyLock;

use warp::http::Method;

use crate::api::handlers;
use crate::store::{resources as res, Resource};

use super::*;

/// Read and write rules of each generic resource. A resource missing here fails the route
/// table's construction (and so every test).
fn resource_rules(r: &Resource) -> (Access, Access, Feature, &'static str) {
    use Access::*;
    let t = |tok| (Token(tok), Token(tok), Feature::Core, "PBX");
    let admin_pbx = (AdminToken(crate::access::Token::FpbxExtension), AdminToken(crate::access::Token::FpbxExtension), Feature::Core, "PBX");
    match r.name {
        "trunks" => (TenantAdmin, SuperAdmin, Feature::Core, "Routing"),
        "dids" => (TenantAdmin, SuperAdmin, Feature::Core, "Routing"),
        "extensions" => t(crate::access::Token::FpbxExtension),
        "inbound-routes" => t(crate::access::Token::InboundRoutes),
        "outbound-routes" => (admin_pbx.0, admin_pbx.1, Feature::Core, "Routing"),
        "ring-groups" => t(crate::access::Token::RingGroups),
        "ivr-menus" => t(crate::access::Token::IvrMenus),
        "call-queues" => t(crate::access::Token::CallQueues),
        "voicemail-boxes" => t(crate::access::Token::Voicemails),
        "conferences" => t(crate::access::Token::Conferences),
        "follow-me" => t(crate::access::Token::FollowMe),
        "time-conditions" | "call-flows" | "call-blocks" => admin_pbx,
        "moh-classes" => t(crate::access::Token::MusicOnHold),
        "fax-contacts" | "fax-groups" => (Token(crate::access::Token::Contacts), Token(crate::access::Token::Contacts), Feature::Core, "Fax"),
        "fax-cover-pages" => (Token(crate::access::Token::SendFax), Token(crate::access::Token::SendFax), Feature::Core, "Fax"),
        "device-profiles" | "devices" => t(crate::access::Token::Devices),
        "packages" => (SuperAdmin, SuperAdmin, Feature::Billing, "Billing"),
        "rate-plans" => (TenantAdmin, SuperAdmin, Feature::Billing, "Billing"),
        "announcements" => (TenantAdmin, TenantAdmin, Feature::Core, "Administration"),
        "branding" => (TenantAdmin, TenantAdmin, Feature::Branding, "Administration"),
        "tenants" => (SuperAdmin, SuperAdmin, Feature::MultiTenant, "Administration"),
        other => panic!("resource {other} has no access rules in api::router::resource_rules"),
    }
}

pub(super) fn custom(
    method: Method,
    path: &str,
    access: Access,
    feature: Feature,
    tag: &'static str,
    summary: &str,
    body: BodyDoc,
    f: HandlerFn,
) -> Route {
    Route { method, path: format!("/api/v1{path}"), access, feature, summary: summary.into(), tag, handler: Handler::Custom(f), body }
}

pub static ROUTES: LazyLock<Vec<Route>> = LazyLock::new(build_routes);

fn build_routes() -> Vec<Route> {
    use handlers as h;
    use Access::*;
    use Feature::*;
    let m = |s: &str| Method::from_bytes(s.as_bytes()).expect("method");
    let mut routes = vec![
        custom(m("GET"), "/openapi.json", Public, Core, "Meta", "This document", BodyDoc::None, h::openapi),
        custom(
            m("POST"),
            "/auth/login",
            Public,
            Core,
            "Auth",
            "Sign in with email and password: access and refresh tokens",
            BodyDoc::Fields(h::LOGIN_DOC),
            h::login,
        ),
        custom(
            m("POST"),
            "/auth/refresh",
            Public,
            Core,
            "Auth",
            "A new access token for a refresh token",
            BodyDoc::Fields(h::REFRESH_DOC),
            h::refresh,
        ),
        custom(
            m("POST"),
            "/auth/change-password",
            Public,
            Core,
            "Auth",
            "Change a password with the current one (also when it has expired)",
            BodyDoc::Fields(h::CHANGE_PASSWORD_DOC),
            h::change_expired_password,
        ),
        custom(
            m("GET"),
            "/branding/public",
            Public,
            Branding,
            "Meta",
            "Branding for ?host= (the login page, before sign-in)",
            BodyDoc::None,
            h::public_branding,
        ),
        custom(m("GET"), "/me", User, Core, "My account", "The signed-in user, tenant and effective permissions", BodyDoc::None, h::me),
        custom(m("PATCH"), "/me", User, Core, "My account", "Change own name or fax delivery email", BodyDoc::Fields(h::ME_DOC), h::update_me),
        custom(m("POST"), "/me/password", User, Core, "My account", "Change own password", BodyDoc::Fields(h::PASSWORD_DOC), h::my_password),
        custom(m("GET"), "/me/extensions", User, Core, "My account", "Own extensions with SIP credentials", BodyDoc::None, h::my_extensions),
        custom(
            m("PATCH"),
            "/me/extensions/{id}",
            User,
            Core,
            "My account",
            "DND and call forwarding of an own extension",
            BodyDoc::Fields(h::MY_EXTENSION_DOC),
            h::update_my_extension,
        ),
        custom(
            m("GET"),
            "/me/dids",
            User,
            Core,
            "My account",
            "DIDs routed to own extensions (all of the tenant's for admins)",
            BodyDoc::None,
            h::my_dids,
        ),
        custom(m("GET"), "/me/queues", User, Core, "My account", "Call queues the user is an agent of", BodyDoc::None, h::my_queues),
        custom(
            m("GET"),
            "/me/announcements",
            User,
            Core,
            "My account",
            "Current announcements for the user's role and tenant",
            BodyDoc::None,
            h::my_announcements,
        ),
        custom(m("GET"), "/permissions", User, Core, "Administration", "Permission tokens, their parents and groups", BodyDoc::None, h::permissions),
        custom(m("GET"), "/feature-codes", User, Core, "PBX", "Star codes the switch honours", BodyDoc::None, h::feature_codes),
        custom(
            m("GET"),
            "/cdrs",
            User,
            Core,
            "Reports",
            "Call records, newest first (from, to, extension, direction, disposition, page, per_page); users see their own calls",
            BodyDoc::None,
            h::cdrs,
        ),
        custom(
            m("GET"),
            "/route/explain",
            AdminToken(crate::access::Token::FpbxExtension),
            Core,
            "Routing",
            "The path a call to ?number= would take (tenant_id for super admins unless the number is a DID; from; at = RFC 3339 time)",
            BodyDoc::None,
            h::route_explain,
        ),
        custom(m("GET"), "/cdrs.csv", User, Core, "Reports", "The same list as CSV (per_page up to 10,000)", BodyDoc::None, h::cdrs_csv),
        custom(
            m("GET"),
            "/cdrs/{id}",
            User,
            Core,
            "Reports",
            "One call record with its detail (codec, cause, SIP Call-ID); users see their own calls",
            BodyDoc::None,
            h::cdr,
        ),
        custom(
            m("GET"),
            "/cdrs/{id}/recording",
            User,
            Core,
            "Reports",
            "The call's recording (WAV or MP3), to whoever may see its record",
            BodyDoc::None,
            h::cdr_recording,
        ),
        custom(
            m("GET"),
            "/quota",
            User,
            Core,
            "Billing",
            "Slot usage against the package, and period usage",
            BodyDoc::None,
            crate::api::money::quota,
        ),
        custom(
            m("GET"),
            "/activity",
            TenantAdmin,
            Core,
            "Administration",
            "Activity log (filters: from, to, user_id, tenant_id, action)",
            BodyDoc::None,
            h::activity,
        ),
        custom(
            m("GET"),
            "/users",
            TenantAdmin,
            Core,
            "Administration",
            "Users (filters: role, tenant_id; q searches email and name)",
            BodyDoc::None,
            h::list_users,
        ),
        custom(m("POST"), "/users", TenantAdmin, Core, "Administration", "Create a user", BodyDoc::Fields(h::USER_DOC), h::create_user),
        custom(m("GET"), "/users/{id}", TenantAdmin, Core, "Administration", "One user", BodyDoc::None, h::get_user),
        custom(m("PATCH"), "/users/{id}", TenantAdmin, Core, "Administration", "Change a user", BodyDoc::Fields(h::USER_DOC), h::update_user),
        custom(m("DELETE"), "/users/{id}", TenantAdmin, Core, "Administration", "Delete a user", BodyDoc::None, h::delete_user),
        custom(
            m("POST"),
            "/sounds",
            TenantAdmin,
            Core,
            "PBX",
            "Upload a system recording for IVR and voicemail greetings (a WAV, or an MP3 where the switch plays MP3): ?name=welcome.wav; a super admin names the tenant_id",
            BodyDoc::Binary(&["audio/wav", "audio/mpeg"]),
            h::upload_sound,
        ),
        custom(m("GET"), "/sounds", TenantAdmin, Core, "PBX", "The tenant's system recordings (a greeting names one as sound:<id>)", BodyDoc::None, h::sounds),
        custom(m("GET"), "/sounds/{id}/audio", TenantAdmin, Core, "PBX", "A system recording's audio, to listen to", BodyDoc::None, h::sound_audio),
        custom(m("DELETE"), "/sounds/{id}", TenantAdmin, Core, "PBX", "Delete a system recording no greeting uses", BodyDoc::None, h::delete_sound),
        custom(
            m("POST"),
            "/moh-classes/{id}/files",
            Token(crate::access::Token::MusicOnHold),
            Core,
            "PBX",
            "Upload an audio file (WAV or MP3) to a music-on-hold class: ?name=file.wav",
            BodyDoc::Binary(&["audio/wav", "audio/mpeg"]),
            h::upload_moh_file,
        ),
        custom(
            m("GET"),
            "/moh-classes/{id}/files",
            Token(crate::access::Token::MusicOnHold),
            Core,
            "PBX",
            "Files of a music-on-hold class",
            BodyDoc::None,
            h::moh_files,
        ),
        custom(
            m("DELETE"),
            "/moh-files/{id}",
            Token(crate::access::Token::MusicOnHold),
            Core,
            "PBX",
            "Delete a music-on-hold file",
            BodyDoc::None,
            h::delete_moh_file,
        ),
        custom(
            m("GET"),
            "/devices/{id}/provisioning",
            Token(crate::access::Token::Devices),
            Core,
            "PBX",
            "A device's provisioning URL, credentials, DHCP option 66 value and recent downloads",
            BodyDoc::None,
            crate::api::provision::details,
        ),
        custom(
            m("POST"),
            "/devices/{id}/resync",
            Token(crate::access::Token::Devices),
            Core,
            "PBX",
            "Ask the device's registered lines to fetch their configuration again (check-sync NOTIFY)",
            BodyDoc::None,
            crate::api::provision::resync,
        ),
        custom(m("GET"), "/tenants", SuperAdmin, Core, "Administration", "Tenants", BodyDoc::None, h::list_tenants),
        custom(
            m("POST"),
            "/tenants",
            SuperAdmin,
            MultiTenant,
            "Administration",
            "Create a tenant",
            BodyDoc::Resource(&res::TENANTS),
            h::create_tenant,
        ),
        custom(m("GET"), "/tenants/{id}", TenantAdmin, Core, "Administration", "One tenant (tenant admins: their own)", BodyDoc::None, h::get_tenant),
        custom(
            m("PATCH"),
            "/tenants/{id}",
            SuperAdmin,
            Core,
            "Administration",
            "Change a tenant",
            BodyDoc::Resource(&res::TENANTS),
            h::update_tenant,
        ),
        custom(
            m("DELETE"),
            "/tenants/{id}",
            SuperAdmin,
            MultiTenant,
            "Administration",
            "Delete a tenant and everything it owns",
            BodyDoc::None,
            h::delete_tenant,
        ),
    ];
    routes.extend(super::table_billing_live::routes());
    for r in res::ALL.iter().copied().filter(|r| r.name != "tenants") {
        let (read, write, feature, tag) = resource_rules(r);
        let base = format!("/api/v1/{}", r.name);
        let item = format!("{base}/{{id}}");
        let mk = |method: &str, path: &str, access, op, summary: String, body| Route {
            method: m(method),
            path: path.to_string(),
            access,
            feature,
            summary,
            tag,
            handler: Handler::Resource(r, op),
            body,
        };
        routes.push(mk("GET", &base, read, Op::List, format!("List {}s (paged: page, per_page, q, filters)", r.title), BodyDoc::None));
        routes.push(mk("POST", &base, write, Op::Create, format!("Create a {}", r.title), BodyDoc::Resource(r)));
        routes.push(mk("GET", &item, read, Op::Get, format!("One {}", r.title), BodyDoc::None));
        routes.push(mk(
            "PATCH",
            &item,
            write,
            Op::Update,
            format!("Change a {} (fields given are changed; lists are replaced)", r.title),
            BodyDoc::Resource(r),
        ));
        routes.push(mk("DELETE", &item, write, Op::Delete, format!("Delete a {}", r.title), BodyDoc::None));
    }
    routes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_resource_has_rules_and_routes_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for r in ROUTES.iter() {
            assert!(seen.insert((r.method.clone(), r.path.clone())), "duplicate route {} {}", r.method, r.path);
        }
        for r in res::ALL {
            if r.name != "tenants" {
                assert!(ROUTES.iter().any(|x| x.path == format!("/api/v1/{}", r.name)), "{}", r.name);
            }
        }
    }
}
