//! Fax over HTTP: the inbound fax log and its PDFs, and the tenant's fax settings. Agents
//! and end users see the faxes that came to the fax lines assigned to them; tenant admins
//! all of the tenant's.

use serde_json::json;

use super::error::{ApiError, ApiResult};
use super::handlers::{audit, own_tenant};
use super::router::{Api, Reply, Req};
use crate::store::fax::FaxSettings;

pub const SETTINGS_DOC: &[(&str, &str, bool)] = &[
    ("caller_id", "the number faxes are sent from (E.164), or empty for the trunk's", true),
    ("station_id", "the station ID sent to the far machine, at most 20 characters", true),
    ("header", "the header line printed on sent pages (company, number, date, page n/N)", true),
    ("max_retries", "0 to 10", true),
    ("retry_delay", "seconds between tries, 30 to 86400", true),
    ("ecm", "error correction mode", true),
    ("t38", "T.38 when the far end offers it", true),
    ("delivery_email", "where received faxes are mailed when the line's user has no fax address", true),
    ("retention_days", "how long stored faxes are kept, 1 to 3650", true),
];

/// `GET /faxes/inbound`: received faxes, newest first.
pub fn inbound(api: &Api, req: &Req) -> ApiResult<Reply> {
    let t = req.tenant_of()?;
    let page = req.query_i64("page")?.unwrap_or(1).clamp(1, u32::MAX as i64) as u32;
    let per_page = req.query_i64("per_page")?.unwrap_or(50).clamp(1, 500) as u32;
    Reply::ok(api.store.faxes(t, "in", req.grant.owner, page, per_page)?)
}

/// `GET /faxes/inbound/{id}/pdf`: the fax as a PDF.
pub fn inbound_pdf(api: &Api, req: &Req) -> ApiResult<Reply> {
    let t = req.tenant_of()?;
    let (fax, file) = api.store.fax(t, req.id(), req.grant.owner)?;
    if fax["direction"] != "in" || file.is_empty() {
        return Err(ApiError::NotFound);
    }
    let pdf = std::fs::read(api.cfg.data_dir.join("fax").join(&file)).map_err(|e| ApiError::Internal(format!("the fax's PDF: {e}")))?;
    Ok(Reply { status: warp::http::StatusCode::OK, body: None, raw: Some(("application/pdf", pdf)) })
}

pub fn settings(api: &Api, req: &Req) -> ApiResult<Reply> {
    Reply::ok(api.store.fax_settings(req.tenant_of()?)?)
}

pub fn set_settings(api: &Api, req: &Req) -> ApiResult<Reply> {
    let p = req.principal()?;
    let t = match p.tenant {
        Some(_) => own_tenant(p)?,
        None => req.tenant_of()?,
    };
    let s: FaxSettings = req.parse()?;
    api.store.set_fax_settings(t, &s)?;
    audit(api, Some(p), Some(t), "update", "fax-settings".into(), "fax settings".into());
    Reply::ok(json!(api.store.fax_settings(t)?))
}
