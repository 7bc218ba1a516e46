//! What happened: route explain, call records (JSON and CSV) and the activity log.

use serde_json::Value;

use crate::access::Role;
use crate::api::error::{ApiError, ApiResult};
use crate::api::router::{Api, Reply, Req};
use crate::store::activity::Filter;
use crate::store::resource::Within;
use crate::store::TenantId;

// ---- route explain -----------------------------------------------------------------------

pub fn route_explain(api: &Api, req: &Req) -> ApiResult<Reply> {
    let number = req.query("number").ok_or_else(|| ApiError::invalid("number", "required"))?;
    let tenant = match req.grant.within {
        Within::Tenant(t) => Some(t),
        Within::Everything => req.query_i64("tenant_id")?.map(TenantId),
    };
    let at = match req.query("at") {
        Some(v) => v.parse::<jiff::Timestamp>().map_err(|_| ApiError::invalid("at", "must be an RFC 3339 time, e.g. 2026-11-18T15:00:00Z"))?,
        None => jiff::Timestamp::now(),
    };
    Reply::ok(crate::call::explain::explain(&api.store, tenant, number, req.query("from"), at)?)
}

// ---- call records ------------------------------------------------------------------------

/// The CDR list for this request; `flagged_only` for the admins' review list.
pub(crate) fn cdr_page(api: &Api, req: &Req, max_per_page: i64, flagged_only: bool) -> ApiResult<crate::store::Page> {
    cdr_page_of(api, req, max_per_page, flagged_only, None)
}

/// The list, or the one record `id` when this user may see it (the list's own rules: the
/// tenant's, and an agent's or end user's own calls only).
fn cdr_page_of(api: &Api, req: &Req, max_per_page: i64, flagged_only: bool, id: Option<i64>) -> ApiResult<crate::store::Page> {
    let p = req.principal()?;
    let own_extensions = match (p.role, p.tenant) {
        (Role::Agent | Role::EndUser, Some(t)) => Some(api.store.extensions_of_user(t, p.user_id)?.into_iter().map(|e| e.number).collect()),
        _ => None,
    };
    let f = crate::store::cdr::CdrFilter {
        from: req.query("from").map(String::from),
        to: req.query("to").map(String::from),
        extension: req.query("extension").map(String::from),
        direction: req.query("direction").map(String::from),
        disposition: req.query("disposition").map(String::from),
        own_extensions,
        flagged: flagged_only || matches!(req.query("flagged"), Some("true" | "1")),
        id,
        page: req.query_i64("page")?.unwrap_or(1).clamp(1, u32::MAX as i64) as u32,
        per_page: req.query_i64("per_page")?.unwrap_or(50).clamp(1, max_per_page) as u32,
    };
    Ok(api.store.cdrs(req.list_within()?, &f)?)
}

pub fn cdrs(api: &Api, req: &Req) -> ApiResult<Reply> {
    Reply::ok(cdr_page(api, req, 500, false)?)
}

/// One record this user may see; 404 for any other (whether or not it exists).
fn one_cdr(api: &Api, req: &Req) -> ApiResult<Value> {
    cdr_page_of(api, req, 1, false, Some(req.id()))?.items.pop().ok_or(ApiError::NotFound)
}

pub fn cdr(api: &Api, req: &Req) -> ApiResult<Reply> {
    Reply::ok(one_cdr(api, req)?)
}

/// A record's recording, to whoever may see the record (played in the page, saved from
/// it). The file is where the switch wrote it: single-box, on this machine.
pub fn cdr_recording(api: &Api, req: &Req) -> ApiResult<Reply> {
    let cdr = one_cdr(api, req)?;
    let path = cdr["recording_path"].as_str().filter(|p| !p.is_empty()).ok_or_else(|| ApiError::Missing("this call was not recorded".into()))?;
    let kind = match std::path::Path::new(path).extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("wav") => "audio/wav",
        Some("mp3") => "audio/mpeg",
        _ => return Err(ApiError::Missing("the recording is not a WAV or MP3 file".into())),
    };
    let bytes = std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => ApiError::Missing("the recording's file is gone".into()),
        _ => ApiError::Internal(format!("reading the recording {path}: {e}")),
    })?;
    Ok(Reply { status: warp::http::StatusCode::OK, body: None, raw: Some((kind, bytes)) })
}

/// One CSV field: quoted when it holds a separator, quote or newline; a text cell that a
/// spreadsheet would run as a formula (`=`, `@`, `-`, `+` followed by a letter…) gets a
/// leading `'` — caller names come from strangers.
pub(crate) fn csv_field(v: &Value) -> String {
    let s = match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let formula =
        s.starts_with(['=', '@', '\t', '\r']) || ((s.starts_with('+') || s.starts_with('-')) && !s[1..].chars().all(|c| c.is_ascii_digit()));
    let s = if formula { format!("'{s}") } else { s };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// A record's queue visits in one cell: "Sales answered by Ann after 12 s; Support timed_out after 60 s".
fn queue_visits_text(visits: &Value) -> String {
    let Some(visits) = visits.as_array() else { return String::new() };
    visits
        .iter()
        .map(|v| {
            let by = v["agent"].as_str().filter(|a| !a.is_empty()).map(|a| format!(" by {a}")).unwrap_or_default();
            format!("{} {}{by} after {} s", v["queue"].as_str().unwrap_or(""), v["outcome"].as_str().unwrap_or(""), v["wait"])
        })
        .collect::<Vec<_>>()
        .join("; ")
}

pub fn cdrs_csv(api: &Api, req: &Req) -> ApiResult<Reply> {
    let page = cdr_page(api, req, 10_000, false)?;
    let cols = crate::store::cdr::CDR_COLUMNS;
    let mut out = cols.join(",");
    out.push_str(",queues\r\n");
    for row in &page.items {
        let mut line: Vec<String> = cols.iter().map(|c| csv_field(&row[*c])).collect();
        line.push(csv_field(&Value::String(queue_visits_text(&row["queue_visits"]))));
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    Ok(Reply { status: warp::http::StatusCode::OK, body: None, raw: Some(("text/csv; charset=utf-8", out.into_bytes())) })
}

pub fn activity(api: &Api, req: &Req) -> ApiResult<Reply> {
    let f = Filter {
        from: req.query("from").map(String::from),
        to: req.query("to").map(String::from),
        user_id: req.query_i64("user_id")?,
        tenant_id: if req.grant.within == Within::Everything { req.query_i64("tenant_id")? } else { None },
        action: req.query("action").map(String::from),
        object: req.query("object").map(String::from),
        page: req.query_i64("page")?.unwrap_or(1).clamp(1, u32::MAX as i64) as u32,
        per_page: req.query_i64("per_page")?.unwrap_or(50).clamp(1, 500) as u32,
    };
    Reply::ok(api.store.activity(req.grant.within, &f)?)
}
