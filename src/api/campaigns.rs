//! Bulk Fax over HTTP: campaigns made from a Fax Document, contact groups and an uploaded
//! list; their progress, recipients and results CSV; pause, resume and cancel; and cover
//! pages' preview. A user sees the campaigns they made; tenant admins all of the tenant's.

use serde::Deserialize;

use super::error::{ApiError, ApiResult};
use super::handlers::audit;
use super::router::{Api, Reply, Req};
use crate::store::fax_campaigns::{NewCampaign, NewRecipient};

pub const CAMPAIGN_DOC: &[(&str, &str, bool)] = &[
    ("name", "the campaign's name (its Program Name)", true),
    ("document_id", "the Fax Document to send", true),
    ("cover_page_id", "a cover page put before the document, filled in per recipient", false),
    ("subject", "the cover page's subject", false),
    ("message", "the cover page's message", false),
    ("groups", "contact groups whose members are recipients (ids)", false),
    ("recipients_csv", "an uploaded list: number,name,company a row, a header allowed", false),
    ("start_at", "when to start (RFC 3339); now when absent", false),
    ("window_start", "sending starts at HH:MM in the tenant's time zone (00:00)", false),
    ("window_end", "and stops at HH:MM (24:00)", false),
    ("window_days", "ISO weekdays it sends on, 1 Monday … 7 Sunday (1234567)", false),
    ("max_concurrent", "faxes at once, 1 to 30, never above the tenant's cap (2)", false),
    ("max_retries", "tries after the first per recipient, 0 to 10 (2)", false),
    ("retry_delay", "seconds between a recipient's tries, 30 to 86400 (300)", false),
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    name: String,
    document_id: i64,
    #[serde(default)]
    cover_page_id: Option<i64>,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    groups: Vec<i64>,
    #[serde(default)]
    recipients_csv: String,
    #[serde(default)]
    start_at: Option<String>,
    #[serde(default)]
    window_start: Option<String>,
    #[serde(default)]
    window_end: Option<String>,
    #[serde(default)]
    window_days: Option<String>,
    #[serde(default)]
    max_concurrent: Option<i64>,
    #[serde(default)]
    max_retries: Option<i64>,
    #[serde(default)]
    retry_delay: Option<i64>,
}

/// `HH:MM` as minutes after midnight (`24:00` is the day's end).
fn minutes(field: &str, v: &str) -> ApiResult<i64> {
    let bad = || ApiError::invalid(field, "a time of day, HH:MM (00:00 to 24:00)");
    let (h, m) = v.trim().split_once(':').ok_or_else(bad)?;
    let (h, m): (i64, i64) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    match (h, m) {
        (0..=23, 0..=59) | (24, 0) => Ok(h * 60 + m),
        _ => Err(bad()),
    }
}

/// `POST /fax-campaigns`: made, its recipients queued or skipped, and started (at
/// `start_at`, within its window).
pub fn create(api: &Api, req: &Req) -> ApiResult<Reply> {
    let p = req.principal()?;
    let t = req.tenant_of()?;
    let b: Body = req.parse()?;
    let name = crate::store::validate::line(b.name.trim(), 200).map_err(|e| ApiError::invalid("name", e))?;
    if name.is_empty() {
        return Err(ApiError::invalid("name", "required"));
    }
    let subject = crate::store::validate::line(&b.subject, 200).map_err(|e| ApiError::invalid("subject", e))?;
    let message = crate::store::validate::text(&b.message, 2000).map_err(|e| ApiError::invalid("message", e))?;
    let window_start = minutes("window_start", b.window_start.as_deref().unwrap_or("00:00"))?;
    let window_end = minutes("window_end", b.window_end.as_deref().unwrap_or("24:00"))?;
    if window_start >= window_end {
        return Err(ApiError::invalid("window_end", "must be after window_start"));
    }
    let window_days = b.window_days.unwrap_or_else(|| "1234567".into());
    let mut days: Vec<char> = window_days.chars().collect();
    days.sort();
    days.dedup();
    if days.is_empty() || days.iter().any(|d| !('1'..='7').contains(d)) {
        return Err(ApiError::invalid("window_days", "the ISO weekdays it sends on: digits 1 (Monday) to 7 (Sunday)"));
    }
    let start_at = match b.start_at.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => s.parse::<jiff::Timestamp>().map_err(|_| ApiError::invalid("start_at", "an RFC 3339 time"))?.to_string(),
        None => crate::store::now(),
    };
    let tenant = api.store.routing_tenant(t)?;
    let max_concurrent = b.max_concurrent.unwrap_or(2);
    if !(1..=30).contains(&max_concurrent) {
        return Err(ApiError::invalid("max_concurrent", "1 to 30"));
    }
    if tenant.max_concurrent_calls > 0 && max_concurrent > tenant.max_concurrent_calls {
        return Err(ApiError::invalid("max_concurrent", format!("at most the tenant's {} concurrent calls", tenant.max_concurrent_calls)));
    }
    let max_retries = b.max_retries.unwrap_or(2);
    if !(0..=10).contains(&max_retries) {
        return Err(ApiError::invalid("max_retries", "0 to 10"));
    }
    let retry_delay = b.retry_delay.unwrap_or(300);
    if !(30..=86_400).contains(&retry_delay) {
        return Err(ApiError::invalid("retry_delay", "30 to 86400 seconds"));
    }
    if let Some(cover) = b.cover_page_id {
        api.store.cover_page(t, cover, req.grant.owner).map_err(|e| match e {
            crate::store::StoreError::NotFound => ApiError::invalid("cover_page_id", "no such cover page"),
            e => e.into(),
        })?;
    }
    let mut recipients = Vec::new();
    if !b.recipients_csv.trim().is_empty() {
        // The body's own limit (1 MiB, about 25,000 rows) comes first: a longer list is
        // imported into a contact group (`/fax-contacts/import`), and the group chosen.
        let (rows, unreadable) = super::csv_in::read(b.recipients_csv.as_bytes(), "number");
        if let Some((row, why)) = unreadable.first() {
            return Err(ApiError::invalid("recipients_csv", format!("row {row}: {why}")));
        }
        let cell = |r: &Vec<String>, i: usize| r.get(i).cloned().unwrap_or_default();
        recipients = rows.iter().map(|(_, r)| NewRecipient { contact_id: None, number: cell(r, 0), name: cell(r, 1), company: cell(r, 2) }).collect();
    }
    let (doc, [pdf, tiff]) = api.store.fax_document(t, b.document_id, req.grant.owner).map_err(|e| match e {
        crate::store::StoreError::NotFound => ApiError::invalid("document_id", "no such document in your Fax Documents"),
        e => e.into(),
    })?;
    // The campaign's own links: deleting the document leaves the campaign whole.
    let files = crate::fax_jobs::files::Files::new(&api.cfg.data_dir.join(crate::data_dir::FAX), t, "campaign");
    let pdf = files.link(&pdf, "pdf").map_err(ApiError::Internal)?;
    let tiff = files.link(&tiff, "tif").map_err(ApiError::Internal)?;
    let new = NewCampaign {
        user: Some(p.user_id),
        name: name.clone(),
        document_name: doc["name"].as_str().unwrap_or("").to_string(),
        pdf,
        tiff,
        pages: doc["pages"].as_i64().unwrap_or(0),
        cover_page_id: b.cover_page_id,
        subject,
        message,
        start_at,
        window_start,
        window_end,
        window_days: days.into_iter().collect(),
        max_concurrent,
        max_retries,
        retry_delay,
        groups: b.groups,
        recipients,
    };
    let made = api.store.create_campaign(t, req.grant.owner, &new).inspect_err(|_| files.remove(&[&new.pdf, &new.tiff]))?;
    audit(api, Some(p), Some(t), "create", format!("fax-campaigns/{}", made.id), format!("{name}: {} queued, {} skipped", made.queued, made.skipped));
    Reply::created(api.store.campaign(t, made.id, None)?)
}

pub fn list(api: &Api, req: &Req) -> ApiResult<Reply> {
    let t = req.tenant_of()?;
    let page = req.query_i64("page")?.unwrap_or(1).clamp(1, u32::MAX as i64) as u32;
    let per_page = req.query_i64("per_page")?.unwrap_or(50).clamp(1, 500) as u32;
    Reply::ok(api.store.campaigns(t, req.grant.owner, page, per_page)?)
}

pub fn get(api: &Api, req: &Req) -> ApiResult<Reply> {
    Reply::ok(api.store.campaign(req.tenant_of()?, req.id(), req.grant.owner)?)
}

pub fn recipients(api: &Api, req: &Req) -> ApiResult<Reply> {
    let t = req.tenant_of()?;
    let page = req.query_i64("page")?.unwrap_or(1).clamp(1, u32::MAX as i64) as u32;
    let per_page = req.query_i64("per_page")?.unwrap_or(100).clamp(1, 1000) as u32;
    Reply::ok(api.store.campaign_recipients(t, req.id(), req.grant.owner, req.query("state"), page, per_page)?)
}

/// The columns of the results CSV.
pub const RESULT_COLUMNS: &str = "number,name,company,state,reason,tries,updated_at";

/// `GET /fax-campaigns/{id}/results`: every recipient and how it ended, as CSV.
pub fn results(api: &Api, req: &Req) -> ApiResult<Reply> {
    let t = req.tenant_of()?;
    let field = super::handlers::records::csv_field;
    let mut out = format!("{RESULT_COLUMNS}\n");
    api.store.campaign_results(t, req.id(), req.grant.owner, &mut |r| {
        let cells: Vec<String> = ["number", "name", "company", "state", "reason", "tries", "updated_at"].iter().map(|k| field(&r[*k])).collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    })?;
    Ok(Reply { status: warp::http::StatusCode::OK, body: None, raw: Some(("text/csv; charset=utf-8", out.into_bytes())) })
}

fn action(api: &Api, req: &Req, what: &str) -> ApiResult<Reply> {
    let p = req.principal()?;
    let t = req.tenant_of()?;
    let v = api.store.campaign_action(t, req.id(), req.grant.owner, what)?;
    audit(api, Some(p), Some(t), what, format!("fax-campaigns/{}", req.id()), String::new());
    Reply::ok(v)
}

pub fn pause(api: &Api, req: &Req) -> ApiResult<Reply> {
    action(api, req, "pause")
}

pub fn resume(api: &Api, req: &Req) -> ApiResult<Reply> {
    action(api, req, "resume")
}

pub fn cancel(api: &Api, req: &Req) -> ApiResult<Reply> {
    action(api, req, "cancel")
}

/// `GET /fax-cover-pages/{id}/preview`: the cover page filled in with sample values, as the
/// PDF a recipient's fax would start with.
pub fn preview(api: &Api, req: &Req) -> ApiResult<Reply> {
    let p = req.principal()?;
    let t = req.tenant_of()?;
    let cover = crate::fax_jobs::campaigns::Cover::load(&api.store, t, req.id(), req.grant.owner, Some(p.user_id))?;
    let to = crate::store::fax_campaigns::Due { id: 0, name: "Jane Doe".into(), company: "Example Corp".into(), number: "+12125550199".into() };
    let pdf = cover.pdf(&to, "Sample subject", "Your message appears here.", 3, jiff::Timestamp::now());
    Ok(Reply { status: warp::http::StatusCode::OK, body: None, raw: Some(("application/pdf", pdf)) })
}

/// The cover page a Send Fax asks for (`cover`, with `to_name`/`to_company` or the contact
/// kept for the number, and `message`) put before the fax's TIFF: the new TIFF, its PDF and
/// pages.
pub fn cover_for_send(
    api: &Api,
    req: &Req,
    number: &str,
    subject: &str,
    document_tiff: &[u8],
) -> ApiResult<Option<crate::fax_jobs::campaigns::Covered>> {
    let Some(id) = req.query("cover").filter(|c| !c.is_empty()) else { return Ok(None) };
    let p = req.principal()?;
    let t = req.tenant_of()?;
    let id: i64 = id.parse().map_err(|_| ApiError::invalid("cover", "must be a cover page's id"))?;
    let cover = crate::fax_jobs::campaigns::Cover::load(&api.store, t, id, req.grant.owner, Some(p.user_id)).map_err(|e| match e {
        crate::store::StoreError::NotFound => ApiError::invalid("cover", "no such cover page"),
        e => e.into(),
    })?;
    let kept = api.store.contact_by_fax(t, number, req.grant.owner)?.unwrap_or_default();
    let line = |k: &str, default: String| -> ApiResult<String> {
        match req.query(k) {
            Some(v) => crate::store::validate::line(v, 200).map_err(|e| ApiError::invalid(k, e)),
            None => Ok(default),
        }
    };
    let to =
        crate::store::fax_campaigns::Due { id: 0, name: line("to_name", kept.0)?, company: line("to_company", kept.1)?, number: number.to_string() };
    let message = crate::store::validate::text(req.query("message").unwrap_or(""), 2000).map_err(|e| ApiError::invalid("message", e))?;
    cover.prepend(&to, subject, &message, document_tiff, jiff::Timestamp::now()).map(Some).map_err(ApiError::Internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_time_of_day_is_minutes_after_midnight() {
        assert_eq!(minutes("w", "00:00").unwrap(), 0);
        assert_eq!(minutes("w", "08:30").unwrap(), 510);
        assert_eq!(minutes("w", "24:00").unwrap(), 1440);
        for bad in ["24:01", "7", "12:60", "-1:00", "ab:cd"] {
            assert!(minutes("w", bad).is_err(), "{bad}");
        }
    }
}
