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

pub fn openapi(api: &Api, _req: &Req) -> ApiResult<Reply> {
    let mut doc = crate::api::openapi::document();
    crate::api::openapi::with_defaults(&mut doc, &|table| api.store.column_defaults(table).unwrap_or_default());
    Reply::ok(doc)
}
