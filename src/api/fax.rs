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
    ("header", "the header line printed on sent pages, at most 50 characters; spandsp adds the date and page n/N", true),
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
    let pdf = read_fax_file(api, &file)?;
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

/// The most pages one fax may have, and the most bytes its PDF may take.
pub const MAX_PAGES: usize = 50;
pub const MAX_PDF_BYTES: u64 = 20 << 20;

/// `POST /faxes/outbound?number=…&subject=…&resolution=fine|normal` with the PDF as the
/// body, or `&document=ID` (a Fax Document) and no body: checked (a number an outbound
/// route dials; a real PDF, not encrypted, at most [`MAX_PAGES`] pages, every page
/// rendered), converted to the fax TIFF and queued. A refusal is a 422 naming why, and
/// nothing is queued.
pub fn send(api: &Api, req: &Req) -> ApiResult<Reply> {
    let p = req.principal()?;
    let t = req.tenant_of()?;
    let number = req.query("number").map(str::trim).filter(|n| !n.is_empty()).ok_or_else(|| ApiError::invalid("number", "required"))?.to_string();
    crate::pbx::dial::dial_number(&number).map_err(|e| ApiError::invalid("number", e))?;
    if let Some(listed) = api.store.dnc_listing(t, &number)? {
        return Err(ApiError::invalid("number", format!("on the do-not-contact list ({listed})")));
    }
    let routes = api.store.outbound_routes(t)?;
    match crate::pbx::plan::outbound(routes, &number) {
        Some((route, _)) if !route.trunks.is_empty() => {}
        Some((route, _)) => return Err(ApiError::invalid("number", format!("outbound route \"{}\" has no active trunk", route.name))),
        None => return Err(ApiError::invalid("number", "no outbound route dials this number")),
    }
    let subject = crate::store::validate::line(req.query("subject").unwrap_or(""), 200).map_err(|e| ApiError::invalid("subject", e))?;
    let resolution = match req.query("resolution").unwrap_or("fine") {
        "fine" => crate::fax::Resolution::Fine,
        "normal" => crate::fax::Resolution::Normal,
        _ => return Err(ApiError::invalid("resolution", "fine or normal")),
    };
    let files = Files::new(api, t, "out");
    let (pdf_name, tiff_name, pages) = match req.query("document") {
        Some(doc) => {
            if req.upload.as_ref().is_some_and(|u| u.len > 0) {
                return Err(ApiError::invalid("document", "send either a document of the library or a PDF in the body, not both"));
            }
            let id = doc.parse::<i64>().map_err(|_| ApiError::invalid("document", "must be a document's id"))?;
            let (doc, [pdf, tiff]) = api.store.fax_document(t, id, req.grant.owner).map_err(|e| match e {
                crate::store::StoreError::NotFound => ApiError::invalid("document", "no such document in your Fax Documents"),
                e => e.into(),
            })?;
            // The job gets its own links to the document's files: deleting the document
            // (or the fax, at the end of its retention) leaves the other whole.
            let pdf_name = files.link(&pdf, "pdf")?;
            match resolution {
                crate::fax::Resolution::Fine => (pdf_name, files.link(&tiff, "tif")?, doc["pages"].as_i64().unwrap_or(0)),
                crate::fax::Resolution::Normal => {
                    let (tiff, pages) = render_isolated(&read_fax_file(api, &pdf)?, resolution)?;
                    (pdf_name, files.write(&tiff, "tif")?, pages as i64)
                }
            }
        }
        None => {
            let pdf = uploaded_pdf(req)?;
            let (tiff, pages) = render_isolated(&pdf, resolution)?;
            (files.write(&pdf, "pdf")?, files.write(&tiff, "tif")?, pages as i64)
        }
    };
    // A cover page chosen: filled in for this recipient and put first; what is kept (and
    // shown as the fax's PDF) is what is faxed.
    let tiff_bytes = match req.query("cover").filter(|c| !c.is_empty()) {
        Some(_) => Some(read_fax_file(api, &tiff_name)?),
        None => None,
    };
    let (pdf_name, tiff_name, pages) = match tiff_bytes {
        Some(doc) => {
            let covered = super::campaigns::cover_for_send(api, req, &number, &subject, &doc);
            files.0.remove(&[&pdf_name, &tiff_name]);
            let (tiff, pdf, pages) = covered?.ok_or_else(|| ApiError::Internal("the cover page".into()))?;
            let with = Files::new(api, t, "out");
            (with.write(&pdf, "pdf")?, with.write(&tiff, "tif")?, pages)
        }
        None => (pdf_name, tiff_name, pages),
    };
    let queued = crate::store::fax::Outgoing { user: Some(p.user_id), number: number.clone(), subject, pdf: pdf_name, tiff: tiff_name, pages };
    let id = api.store.queue_fax(t, &queued)?;
    audit(api, Some(p), Some(t), "create", format!("faxes/{id}"), format!("fax to {number}, {pages} pages"));
    let (fax, _) = api.store.fax(t, id, None)?;
    Reply::created(fax)
}

/// The request's body as a PDF to fax: present, at most [`MAX_PDF_BYTES`], and starting as
/// a PDF does (the renderer checks the rest).
fn uploaded_pdf(req: &Req) -> ApiResult<Vec<u8>> {
    let upload = req.upload.as_ref().filter(|u| u.len > 0).ok_or_else(|| ApiError::invalid("body", "the PDF is missing"))?;
    if upload.len > MAX_PDF_BYTES {
        return Err(ApiError::invalid("body", format!("the PDF is larger than {} MiB", MAX_PDF_BYTES >> 20)));
    }
    let pdf = std::fs::read(upload.file.path()).map_err(|e| ApiError::Internal(format!("the upload: {e}")))?;
    if !pdf.starts_with(b"%PDF-") {
        return Err(ApiError::invalid("body", crate::fax::DocError::NotPdf.to_string()));
    }
    Ok(pdf)
}

/// New files of one fax or document, in the tenant's part of the fax directory.
struct Files(crate::fax_jobs::files::Files);

impl Files {
    fn new(api: &Api, t: crate::store::TenantId, kind: &str) -> Files {
        Files(crate::fax_jobs::files::Files::new(&api.cfg.data_dir.join(crate::data_dir::FAX), t, kind))
    }

    fn write(&self, bytes: &[u8], ext: &str) -> ApiResult<String> {
        self.0.write(bytes, ext).map_err(ApiError::Internal)
    }

    fn link(&self, existing: &str, ext: &str) -> ApiResult<String> {
        self.0.link(existing, ext).map_err(ApiError::Internal)
    }
}

/// A file of the fax directory (`rel` as the store names it), read whole.
fn read_fax_file(api: &Api, rel: &str) -> ApiResult<Vec<u8>> {
    crate::fax_jobs::files::read(&api.cfg.data_dir.join(crate::data_dir::FAX), rel).map_err(ApiError::Internal)
}

/// `GET /fax-documents`: the library, newest first.
pub fn documents(api: &Api, req: &Req) -> ApiResult<Reply> {
    let t = req.tenant_of()?;
    let page = req.query_i64("page")?.unwrap_or(1).clamp(1, u32::MAX as i64) as u32;
    let per_page = req.query_i64("per_page")?.unwrap_or(50).clamp(1, 500) as u32;
    Reply::ok(api.store.fax_documents(t, req.grant.owner, page, per_page)?)
}

/// `POST /fax-documents?name=…` with the PDF as the body: checked as a fax to send is
/// (rendered, at fine resolution, which is kept for sending), then kept in the library.
pub fn add_document(api: &Api, req: &Req) -> ApiResult<Reply> {
    let p = req.principal()?;
    let t = req.tenant_of()?;
    let name = req.query("name").map(str::trim).filter(|n| !n.is_empty()).ok_or_else(|| ApiError::invalid("name", "required"))?.to_string();
    crate::store::validate::line(&name, 200).map_err(|e| ApiError::invalid("name", e))?;
    let pdf = uploaded_pdf(req)?;
    let (tiff, pages) = render_isolated(&pdf, crate::fax::Resolution::Fine)?;
    let files = Files::new(api, t, "doc");
    let doc = crate::store::fax_documents::NewDocument {
        user: Some(p.user_id),
        name,
        pages: pages as i64,
        bytes: pdf.len() as i64,
        file: files.write(&pdf, "pdf")?,
        tiff: files.write(&tiff, "tif")?,
    };
    let id = api.store.add_fax_document(t, &doc).inspect_err(|_| {
        files.0.remove(&[&doc.file, &doc.tiff]);
    })?;
    audit(api, Some(p), Some(t), "upload", format!("fax-documents/{id}"), format!("{} ({} pages)", doc.name, doc.pages));
    let (v, _) = api.store.fax_document(t, id, None)?;
    Reply::created(v)
}

/// `GET /fax-documents/{id}/pdf`.
pub fn document_pdf(api: &Api, req: &Req) -> ApiResult<Reply> {
    let t = req.tenant_of()?;
    let (_, [pdf, _]) = api.store.fax_document(t, req.id(), req.grant.owner)?;
    let bytes = read_fax_file(api, &pdf)?;
    Ok(Reply { status: warp::http::StatusCode::OK, body: None, raw: Some(("application/pdf", bytes)) })
}

/// `DELETE /fax-documents/{id}`: out of the library, its files removed (faxes queued from it
/// keep theirs).
pub fn delete_document(api: &Api, req: &Req) -> ApiResult<Reply> {
    let p = req.principal()?;
    let t = req.tenant_of()?;
    let files = api.store.delete_fax_document(t, req.id(), req.grant.owner)?;
    let dir = api.cfg.data_dir.join(crate::data_dir::FAX);
    for f in files {
        if let Err(e) = std::fs::remove_file(dir.join(&f)) {
            tracing::warn!(file = %f, error = %e, "a deleted fax document's file");
        }
    }
    audit(api, Some(p), Some(t), "delete", format!("fax-documents/{}", req.id()), String::new());
    Reply::no_content()
}

/// How long a rendering may take before it is stopped.
const RENDER_WALL: std::time::Duration = std::time::Duration::from_secs(120);

/// The PDF as the fax TIFF, rendered by `switchboard fax-render` in a process of its own
/// (memory and CPU limited, stopped after [`RENDER_WALL`]): a hostile document costs that
/// process, never the server. The TIFF and its pages, or a 422 saying why not.
fn render_isolated(pdf: &[u8], resolution: crate::fax::Resolution) -> ApiResult<(Vec<u8>, usize)> {
    use std::io::{Read, Write};
    use std::process::{Command, Stdio};
    let exe = std::env::current_exe().map_err(|e| ApiError::Internal(format!("the server's own program: {e}")))?;
    let res = match resolution {
        crate::fax::Resolution::Fine => "fine",
        crate::fax::Resolution::Normal => "normal",
    };
    let mut child = Command::new(exe)
        .args(["fax-render", "--resolution", res, "--max-pages", &MAX_PAGES.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| ApiError::Internal(format!("starting the fax renderer: {e}")))?;
    let (mut stdin, mut stdout, mut stderr) = (child.stdin.take(), child.stdout.take(), child.stderr.take());
    let input = pdf.to_vec();
    let writer = std::thread::spawn(move || stdin.as_mut().map(|s| s.write_all(&input)));
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        stdout.as_mut().map(|s| s.read_to_end(&mut out));
        out
    });
    let errors = std::thread::spawn(move || {
        let mut out = String::new();
        stderr.as_mut().map(|s| s.read_to_string(&mut out));
        out
    });
    let deadline = std::time::Instant::now() + RENDER_WALL;
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break Some(st),
            Ok(None) if std::time::Instant::now() < deadline => std::thread::sleep(std::time::Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let _ = writer.join();
    let (tiff, said) = (reader.join().unwrap_or_default(), errors.join().unwrap_or_default());
    match status.and_then(|s| s.code()) {
        Some(0) => {
            let pages = said.lines().find_map(|l| l.strip_prefix("pages=")?.trim().parse().ok()).unwrap_or(0);
            Ok((tiff, pages))
        }
        Some(2) => Err(ApiError::invalid("body", said.trim().to_string())),
        _ => Err(ApiError::invalid("body", "the PDF could not be rendered within the time and memory a fax may take")),
    }
}

/// `GET /faxes/outbound`: faxes sent and to send, newest first (their status and tries).
pub fn outbound(api: &Api, req: &Req) -> ApiResult<Reply> {
    let t = req.tenant_of()?;
    let page = req.query_i64("page")?.unwrap_or(1).clamp(1, u32::MAX as i64) as u32;
    let per_page = req.query_i64("per_page")?.unwrap_or(50).clamp(1, 500) as u32;
    Reply::ok(api.store.faxes(t, "out", req.grant.owner, page, per_page)?)
}

pub const FAX_LINE_DOC: &[(&str, &str, bool)] = &[("extension_id", "the fax line (an extension of type fax) the DID's calls go to", true)];

/// `PUT /dids/{id}/fax-line` (Fax → My DIDs → Assign): the DID's calls go to a fax line. Its
/// inbound route is made, or pointed there; the DID's row is the answer.
pub fn assign_fax_line(api: &Api, req: &Req) -> ApiResult<Reply> {
    use crate::store::resources as res;
    let p = req.principal()?;
    let t = req.tenant_of()?;
    let body = req.object()?;
    if let Some(k) = body.keys().find(|k| *k != "extension_id") {
        return Err(ApiError::invalid(k, "unknown field"));
    }
    let ext = body.get("extension_id").and_then(|v| v.as_i64()).ok_or_else(|| ApiError::invalid("extension_id", "required: a fax line's id"))?;
    let did = api.store.did_with_route(t, req.id())?;
    let mut route = serde_json::Map::new();
    route.insert("destination".into(), json!({ "type": "fax", "id": ext }));
    let within = crate::store::resource::Within::Tenant(t);
    let done = match did["inbound_route_id"].as_i64() {
        Some(id) => api.store.update(&res::INBOUND_ROUTES, within, None, id, &route),
        None => {
            route.insert("did_id".into(), did["id"].clone());
            route.insert("name".into(), json!(format!("Fax {}", did["number"].as_str().unwrap_or(""))));
            let actor = crate::store::resource::Actor { user_id: p.user_id, admin: true, enforce_packages: !api.cfg.community_edition };
            api.store.create(&res::INBOUND_ROUTES, Some(t), &actor, &route)
        }
    };
    // The route's check names its own field: here the caller chose the extension.
    done.map_err(|e| match e {
        crate::store::StoreError::Invalid { field, .. } if field == "destination" => {
            ApiError::invalid("extension_id", "not a fax line of this tenant (an extension of type fax)")
        }
        e => e.into(),
    })?;
    audit(api, Some(p), Some(t), "update", format!("dids/{}", req.id()), format!("fax line {ext}"));
    Reply::ok(api.store.did_with_route(t, req.id())?)
}
