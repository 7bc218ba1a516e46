//! The do-not-contact list over HTTP (Fax → Contacts → Contact DNC; the `contacts` token):
//! list and search, add, delete, import a CSV (a report row by row), export. The list is the
//! tenant's, one for all its users; it is enforced where faxes are queued and dialed.

use serde_json::json;

use super::error::ApiResult;
use super::handlers::audit;
use super::router::{Api, Reply, Req};
use crate::store::fax_dnc::Entry;

pub const ENTRY_DOC: &[(&str, &str, bool)] = &[
    ("number", "a number in E.164 (+12125550199), or with prefix a beginning (+1900)", true),
    ("prefix", "true: every number that begins with it", false),
    ("note", "why it is listed (200 characters)", false),
];

/// `GET /fax-dnc?q=&page=&per_page=`.
pub fn list(api: &Api, req: &Req) -> ApiResult<Reply> {
    let t = req.tenant_of()?;
    let page = req.query_i64("page")?.unwrap_or(1).clamp(1, u32::MAX as i64) as u32;
    let per_page = req.query_i64("per_page")?.unwrap_or(50).clamp(1, 1000) as u32;
    Reply::ok(api.store.dnc(t, req.query("q"), page, per_page)?)
}

/// `POST /fax-dnc`.
pub fn add(api: &Api, req: &Req) -> ApiResult<Reply> {
    let p = req.principal()?;
    let t = req.tenant_of()?;
    let e: Entry = req.parse()?;
    let v = api.store.add_dnc(t, &e)?;
    audit(api, Some(p), Some(t), "create", format!("fax-dnc/{}", v["id"]), format!("{}", v["number"].as_str().unwrap_or("")));
    Reply::created(v)
}

/// `DELETE /fax-dnc/{id}`.
pub fn delete(api: &Api, req: &Req) -> ApiResult<Reply> {
    let p = req.principal()?;
    let t = req.tenant_of()?;
    api.store.delete_dnc(t, req.id())?;
    audit(api, Some(p), Some(t), "delete", format!("fax-dnc/{}", req.id()), String::new());
    Reply::no_content()
}

/// `POST /fax-dnc/import` with a CSV as the body: `number[,prefix][,note]` a row, a header
/// row allowed (its first cell "number"), prefix `1`/`true`/`yes`. Good rows are added in
/// one transaction; the answer counts them and names each refused row and why.
pub fn import(api: &Api, req: &Req) -> ApiResult<Reply> {
    let p = req.principal()?;
    let t = req.tenant_of()?;
    let (read, unreadable) = super::csv_in::rows(req, "number")?;
    let cell = |r: &Vec<String>, i: usize| r.get(i).cloned().unwrap_or_default();
    let rows: Vec<Entry> = read
        .iter()
        .map(|(_, r)| Entry {
            number: cell(r, 0),
            prefix: matches!(cell(r, 1).to_ascii_lowercase().as_str(), "1" | "true" | "yes"),
            note: cell(r, 2),
        })
        .collect();
    let report = api.store.import_dnc(t, &rows)?;
    let refused = super::csv_in::refusals(&read, &report.refused, unreadable);
    let summary = format!("{} added, {} already listed, {} refused", report.added, report.duplicates, refused.len());
    audit(api, Some(p), Some(t), "import", "fax-dnc".into(), summary);
    Reply::ok(json!({ "added": report.added, "duplicates": report.duplicates, "refused": refused }))
}

/// `GET /fax-dnc/export`: the whole list as CSV, as import reads it.
pub fn export(api: &Api, req: &Req) -> ApiResult<Reply> {
    let t = req.tenant_of()?;
    let mut out = String::from("number,prefix,note\n");
    let mut page = 1;
    loop {
        let p = api.store.dnc(t, None, page, 1000)?;
        for e in &p.items {
            let field = super::handlers::records::csv_field;
            out.push_str(&format!("{},{},{}\n", field(&e["number"]), if e["prefix"] == true { 1 } else { 0 }, field(&e["note"])));
        }
        if p.items.len() < 1000 {
            break;
        }
        page += 1;
    }
    Ok(Reply { status: warp::http::StatusCode::OK, body: None, raw: Some(("text/csv; charset=utf-8", out.into_bytes())) })
}
