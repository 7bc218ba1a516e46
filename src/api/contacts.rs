//! Fax contacts' import and export over HTTP (the contacts themselves are a generic
//! resource, `/fax-contacts`): `POST /fax-contacts/import[?group=ID]` with a CSV of
//! `name,company,fax,email,notes` rows answers row by row; `GET /fax-contacts/export` gives
//! the same columns back.

use serde_json::json;

use super::error::ApiResult;
use super::handlers::audit;
use super::router::{Api, Reply, Req};
use crate::store::fax_contacts::ContactRow;

/// The columns, in order, of an import and an export.
pub const COLUMNS: &str = "name,company,fax,email,notes";

pub fn import(api: &Api, req: &Req) -> ApiResult<Reply> {
    let p = req.principal()?;
    let t = req.tenant_of()?;
    let group = req.query_i64("group")?;
    let (read, unreadable) = super::csv_in::rows(req, "name")?;
    let cell = |r: &Vec<String>, i: usize| r.get(i).cloned().unwrap_or_default();
    let rows: Vec<ContactRow> = read
        .iter()
        .map(|(_, r)| ContactRow { name: cell(r, 0), company: cell(r, 1), fax: cell(r, 2), email: cell(r, 3), notes: cell(r, 4) })
        .collect();
    let report = api.store.import_contacts(t, req.grant.owner, &rows, group)?;
    let skipped = super::csv_in::refusals(&read, &report.skipped, unreadable);
    let summary = format!("{} imported, {} updated, {} skipped", report.imported, report.updated, skipped.len());
    audit(api, Some(p), Some(t), "import", "fax-contacts".into(), summary);
    Reply::ok(json!({ "imported": report.imported, "updated": report.updated, "skipped": skipped }))
}

pub fn export(api: &Api, req: &Req) -> ApiResult<Reply> {
    let t = req.tenant_of()?;
    let field = |s: &str| super::handlers::records::csv_field(&serde_json::Value::String(s.to_string()));
    let mut out = format!("{COLUMNS}\n");
    for c in api.store.contacts_export(t, req.grant.owner)? {
        out.push_str(&format!("{},{},{},{},{}\n", field(&c.name), field(&c.company), field(&c.fax), field(&c.email), field(&c.notes)));
    }
    Ok(Reply { status: warp::http::StatusCode::OK, body: None, raw: Some(("text/csv; charset=utf-8", out.into_bytes())) })
}
