//! Credit, payments, the ledger and the flagged-usage list. Tenant users act on their own
//! tenant; the super admin names one with `tenant_id` (in the query, or the payment's body).

use serde::Deserialize;

use super::error::{ApiError, ApiResult};
use super::handlers::audit;
use super::router::{Api, Reply, Req};
use crate::store::ledger::{Payment, LEDGER_KINDS};
use crate::store::TenantId;

/// Optional for the super admin (every tenant), fixed for tenant users.
fn tenant_filter(req: &Req) -> ApiResult<Option<TenantId>> {
    match req.list_within()? {
        crate::store::resource::Within::Tenant(t) => Ok(Some(t)),
        crate::store::resource::Within::Everything => Ok(None),
    }
}

fn paging(req: &Req) -> ApiResult<(u32, u32)> {
    let q = req.list_query(&[])?;
    Ok((q.page.max(1), q.per_page.clamp(1, crate::store::resource::MAX_PER_PAGE)))
}

pub fn credit(api: &Api, req: &Req) -> ApiResult<Reply> {
    Reply::ok(api.store.credit(req.tenant_of()?)?)
}

pub const PAYMENT_DOC: &[(&str, &str, bool)] = &[
    ("tenant_id", "integer", true),
    ("amount", "integer (micro-units)", true),
    ("payment_type", "online | bank_transfer | cash", true),
    ("date", "string (YYYY-MM-DD or RFC 3339; default now)", false),
    ("note", "string", false),
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewPayment {
    tenant_id: i64,
    amount: i64,
    payment_type: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    note: String,
}

pub fn pay(api: &Api, req: &Req) -> ApiResult<Reply> {
    let p = req.principal()?;
    let b: NewPayment = req.parse()?;
    let tenant = TenantId(b.tenant_id);
    api.store.credit(tenant).map_err(|_| ApiError::invalid("tenant_id", "no such tenant"))?;
    let payment = Payment { amount: b.amount, payment_type: b.payment_type, date: b.date, note: b.note, user_id: Some(p.user_id) };
    let row = api.store.pay(tenant, &payment)?;
    audit(
        api,
        Some(p),
        Some(tenant),
        "payment",
        format!("ledger/{}", row["id"]),
        format!("{} micro-units ({})", payment.amount, payment.payment_type),
    );
    Reply::created(row)
}

pub fn payments(api: &Api, req: &Req) -> ApiResult<Reply> {
    let (page, per_page) = paging(req)?;
    Reply::ok(api.store.ledger(tenant_filter(req)?, Some("payment"), page, per_page)?)
}

pub fn ledger(api: &Api, req: &Req) -> ApiResult<Reply> {
    let (page, per_page) = paging(req)?;
    let kind = req.query("kind");
    if let Some(k) = kind.filter(|k| !LEDGER_KINDS.contains(k)) {
        return Err(ApiError::invalid("kind", format!("{k:?} is not payment, charge, refund or adjustment")));
    }
    Reply::ok(api.store.ledger(tenant_filter(req)?, kind, page, per_page)?)
}

/// The CDR list narrowed to flagged calls (the same filters, scope and paging).
pub fn flagged_calls(api: &Api, req: &Req) -> ApiResult<Reply> {
    Reply::ok(super::handlers::cdr_page(api, req, 500, true)?)
}

/// Usage by local day for `from`..=`to` (dates; default: this month so far).
pub fn usage(api: &Api, req: &Req) -> ApiResult<Reply> {
    let t = req.tenant_of()?;
    let (first, today) = crate::billing::period::month_so_far(&api.store.tenant_timezone(t)?, jiff::Timestamp::now());
    Reply::ok(api.store.usage(t, req.query_date("from", first)?, req.query_date("to", today)?)?)
}

/// The quota dashboard: package slots, period usage, and the transaction limits' use today
/// and this month.
pub fn quota(api: &Api, req: &Req) -> ApiResult<Reply> {
    Reply::ok(api.store.quota(req.tenant_of()?)?)
}
