//! The route table's billing and realtime routes (credit, payments, ledger, usage; live
//! channels, registrations, gateways, the feed, click-to-call), in the table's order.

use warp::http::Method;

use crate::api::error::ApiError;
use crate::api::handlers;

use super::table::custom;
use super::*;

/// The billing and realtime routes, appended to the table after the administration ones.
pub(super) fn routes() -> Vec<Route> {
    use handlers as h;
    use Access::*;
    use Feature::*;
    let m = |s: &str| Method::from_bytes(s.as_bytes()).expect("method");
    vec![
        custom(
            m("GET"),
            "/subscriptions",
            SuperAdmin,
            Billing,
            "Billing",
            "Subscriptions, newest first (filter: tenant_id)",
            BodyDoc::None,
            h::subscriptions,
        ),
        custom(
            m("POST"),
            "/subscriptions",
            SuperAdmin,
            Billing,
            "Billing",
            "Subscribe a tenant to a package (the old subscription ends)",
            BodyDoc::Fields(h::SUBSCRIBE_DOC),
            h::subscribe,
        ),
        custom(
            m("GET"),
            "/credit",
            User,
            Billing,
            "Billing",
            "Credit balance, held and available (tenant_id for super admins)",
            BodyDoc::None,
            crate::api::money::credit,
        ),
        custom(
            m("GET"),
            "/payments",
            TenantAdmin,
            Billing,
            "Billing",
            "Payments, newest first (tenant_id for super admins, page, per_page)",
            BodyDoc::None,
            crate::api::money::payments,
        ),
        custom(
            m("POST"),
            "/payments",
            SuperAdmin,
            Billing,
            "Billing",
            "Record a payment: it raises the tenant's balance at once",
            BodyDoc::Fields(crate::api::money::PAYMENT_DOC),
            crate::api::money::pay,
        ),
        custom(
            m("GET"),
            "/ledger",
            TenantAdmin,
            Billing,
            "Billing",
            "Every balance change with the balance it left, newest first (kind, tenant_id, page, per_page)",
            BodyDoc::None,
            crate::api::money::ledger,
        ),
        custom(
            m("GET"),
            "/usage",
            TenantAdmin,
            Billing,
            "Billing",
            "Calls, answered, minutes and charges by local day (from, to: YYYY-MM-DD, default this month; tenant_id for super admins)",
            BodyDoc::None,
            crate::api::money::usage,
        ),
        custom(
            m("GET"),
            "/flagged-calls",
            TenantAdmin,
            Billing,
            "Billing",
            "Calls that ran on no credit under the flag policy, for review",
            BodyDoc::None,
            crate::api::money::flagged_calls,
        ),
        custom(
            m("GET"),
            "/channels",
            Token(crate::access::Token::Realtime),
            Core,
            "Realtime",
            "Live channels on the switch (caller, destination, duration, codec, uuid) and whether it is online",
            BodyDoc::None,
            crate::api::realtime::channels,
        ),
        custom(
            m("POST"),
            "/channels/hangup",
            Token(crate::access::Token::Realtime),
            Core,
            "Realtime",
            "Hang up a live channel",
            BodyDoc::Fields(crate::api::realtime::HANGUP_DOC),
            crate::api::realtime::hangup,
        ),
        custom(
            m("POST"),
            "/channels/hold",
            Token(crate::access::Token::Realtime),
            Core,
            "Realtime",
            "Put a live channel on hold (hold: true) or take it off",
            BodyDoc::Fields(crate::api::realtime::HOLD_DOC),
            crate::api::realtime::hold,
        ),
        custom(
            m("POST"),
            "/channels/transfer",
            Token(crate::access::Token::Realtime),
            Core,
            "Realtime",
            "Blind-transfer a live channel to a number of its tenant",
            BodyDoc::Fields(crate::api::realtime::TRANSFER_DOC),
            crate::api::realtime::transfer,
        ),
        custom(
            m("GET"),
            "/registrations",
            Token(crate::access::Token::Realtime),
            Core,
            "Realtime",
            "SIP registrations on the switch",
            BodyDoc::None,
            crate::api::realtime::registrations,
        ),
        custom(
            m("GET"),
            "/gateways",
            TenantAdmin,
            Core,
            "Realtime",
            "Trunks with their gateway's state (REGED…)",
            BodyDoc::None,
            crate::api::realtime::gateways,
        ),
        Route {
            handler: Handler::Stream,
            ..custom(
                m("GET"),
                "/realtime/feed",
                Token(crate::access::Token::Realtime),
                Core,
                "Realtime",
                "Server-Sent Events: a snapshot, then every change (channels, registrations, gateways, switch state); ?access_token= for EventSource",
                BodyDoc::None,
                |_, _| Err(ApiError::Internal("a stream route has no handler".into())),
            )
        },
        custom(
            m("POST"),
            "/click-to-call",
            User,
            Core,
            "Realtime",
            "Ring an own extension; when it answers, call the number from it (202; the result arrives on the feed)",
            BodyDoc::Fields(crate::api::realtime::CLICK_DOC),
            crate::api::realtime::click_to_call,
        ),
    ]
}
