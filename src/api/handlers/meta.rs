//! Public answers that need no sign-in: the OpenAPI document and a host's branding.

use serde_json::json;

use crate::api::error::{ApiError, ApiResult};
use crate::api::router::{Api, Reply, Req};
use crate::store::branding;
use crate::store::validate;

pub fn public_branding(api: &Api, req: &Req) -> ApiResult<Reply> {
    let host = req.query("host").ok_or_else(|| ApiError::invalid("host", "required"))?;
    let host = validate::hostname(host).map_err(|m| ApiError::invalid("host", m))?;
    let installation = branding::is_installation_host(&host, &branding::installation_hosts(&api.cfg.public_url));
    let b = api
        .store
        .public_branding(&host, installation)?
        .unwrap_or_else(|| json!({ "title": "switchboard", "logo": "", "login_background": "", "favicon": "", "footer": "", "support_email": "" }));
    Reply::ok(b)
}

/// The document, built once: the route table and the tables' defaults do not change while
/// the process runs (migrations ran before the server started), and every page load asks.
pub fn openapi(api: &Api, _req: &Req) -> ApiResult<Reply> {
    static DOC: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    let doc = DOC.get_or_init(|| {
        let mut doc = crate::api::openapi::document();
        crate::api::openapi::with_defaults(&mut doc, &|table| api.store.column_defaults(table).unwrap_or_default());
        doc
    });
    Reply::ok(doc)
}
