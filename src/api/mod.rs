//! The HTTP side: warp filters. `/health`, the JSON API under `/api/v1` (route table in
//! [`router`], handlers in [`handlers`], errors and status codes in [`error`]), the web UI
//! ([`ui_files`]: `static/`, built into the binary), FreeSWITCH's mod_xml_curl at
//! `/freeswitch/xml` ([`freeswitch`]), and desk phones' files at `/provision/` ([`provision`]).

pub mod auth;
pub mod campaigns;
pub mod conference_live;
pub mod contacts;
pub mod csv_in;
pub mod dnc;
pub mod error;
pub mod fax;
pub mod freeswitch;
pub mod handlers;
pub mod money;
pub mod openapi;
pub mod provision;
pub mod queues;
pub mod realtime;
pub mod router;
pub mod throttle;
pub mod ui_files;
pub mod words;

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use serde::Serialize;
use tokio::sync::watch;
use warp::Filter;

use crate::esl::inbound::SwitchState;
use crate::server::CallStats;

#[derive(Clone)]
pub struct Health {
    pub stats: Arc<CallStats>,
    pub switch: watch::Receiver<SwitchState>,
    pub version: &'static str,
}

#[derive(Serialize)]
struct HealthBody {
    status: &'static str,
    version: &'static str,
    freeswitch: SwitchState,
    live_calls: usize,
    calls_handled: u64,
    calls_failed: u64,
    /// From a call's channel data to its first application, over the calls since start:
    /// p50 and p99 in milliseconds (bucket upper bounds, within 1/8), null before any.
    first_app_p50_ms: Option<f64>,
    first_app_p99_ms: Option<f64>,
}

/// GET /health: switchboard is up; whether FreeSWITCH is reachable; call counters and how
/// long calls wait for their first application. A missing FreeSWITCH is reported, not an
/// error (200 either way).
pub fn health(h: Health) -> impl Filter<Extract = (impl warp::Reply,), Error = warp::Rejection> + Clone {
    warp::path!("health").and(warp::get()).map(move || {
        let first_app = h.stats.first_app.snapshot();
        let body = HealthBody {
            status: "ok",
            version: h.version,
            freeswitch: h.switch.borrow().clone(),
            live_calls: h.stats.live.load(Ordering::Relaxed),
            calls_handled: h.stats.total.load(Ordering::Relaxed),
            calls_failed: h.stats.failed.load(Ordering::Relaxed),
            first_app_p50_ms: first_app.percentile(0.5).map(|d| d.as_secs_f64() * 1e3),
            first_app_p99_ms: first_app.percentile(0.99).map(|d| d.as_secs_f64() * 1e3),
        };
        warp::reply::json(&body)
    })
}

/// The slowest a body may arrive, on the whole: a client that sends a byte just inside the
/// idle time, again and again, must not hold its connection for ever.
const MIN_BODY_RATE: u64 = 64 * 1024;

/// Reads a request body, at most `limit` bytes, into `sink`: each chunk within `idle` of the
/// last, and the whole within `idle` plus the limit at [`MIN_BODY_RATE`] (else 408: a client
/// that trickles its body must not hold a connection and a handler); the total is checked
/// before each chunk is kept.
pub(crate) async fn read_body<S, B>(
    s: S,
    limit: u64,
    idle: std::time::Duration,
    mut sink: impl FnMut(&[u8]) -> Result<(), error::ApiError>,
) -> Result<u64, error::ApiError>
where
    S: futures_util::Stream<Item = Result<B, warp::Error>>,
    B: warp::Buf,
{
    use futures_util::StreamExt;
    let mut s = std::pin::pin!(s);
    let mut len = 0u64;
    let whole = tokio::time::Instant::now() + idle + std::time::Duration::from_secs(limit / MIN_BODY_RATE);
    loop {
        let next = tokio::time::timeout_at(whole.min(tokio::time::Instant::now() + idle), s.next())
            .await
            .map_err(|_| error::ApiError::Timeout("the request body stopped arriving, or came too slowly"))?;
        let Some(chunk) = next else { return Ok(len) };
        let mut chunk = chunk.map_err(|e| error::ApiError::BadRequest(format!("reading the body: {e}")))?;
        if len + chunk.remaining() as u64 > limit {
            return Err(error::ApiError::TooLarge(limit as usize));
        }
        len += chunk.remaining() as u64;
        while chunk.has_remaining() {
            let c = chunk.chunk();
            sink(c)?;
            let n = c.len();
            chunk.advance(n);
        }
    }
}

/// Streams an upload into a new temporary file under the data directory's `tmp/` (the same
/// file system as its destination, so keeping it is a rename).
async fn read_upload<S, B>(s: S, limit: u64, idle: std::time::Duration, data_dir: &std::path::Path) -> Result<router::Upload, error::ApiError>
where
    S: futures_util::Stream<Item = Result<B, warp::Error>>,
    B: warp::Buf,
{
    use std::io::Write;
    let dir = data_dir.join("tmp");
    let io = |e: std::io::Error| error::ApiError::Internal(format!("storing an upload in {}: {e}", dir.display()));
    std::fs::create_dir_all(&dir).map_err(io)?;
    let file = tempfile::Builder::new().prefix("upload-").tempfile_in(&dir).map_err(io)?;
    // Writes are small (a socket read's worth) and to a local disk; a buffered writer keeps
    // them off the runtime's threads for most chunks. Through the file's own handle: one
    // descriptor an upload (src/fds.rs counts two a connection, its socket and this).
    let mut out = std::io::BufWriter::with_capacity(256 << 10, file.as_file());
    let mut head = Vec::with_capacity(router::UPLOAD_HEAD);
    let len = read_body(s, limit, idle, |c| {
        let want = router::UPLOAD_HEAD.saturating_sub(head.len()).min(c.len());
        head.extend_from_slice(&c[..want]);
        out.write_all(c).map_err(io)
    })
    .await?;
    out.flush().map_err(io)?;
    drop(out);
    Ok(router::Upload { file, len, head })
}

/// A reply to a non-JSON client (FreeSWITCH, desk phones): status, type, body, never cached.
pub(crate) fn plain(status: warp::http::StatusCode, content_type: &'static str, body: String) -> warp::reply::Response {
    let mut r = warp::reply::Response::new(body.into());
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert("content-type", warp::http::HeaderValue::from_static(content_type));
    h.insert("cache-control", warp::http::HeaderValue::from_static("no-store"));
    h.insert("x-content-type-options", warp::http::HeaderValue::from_static("nosniff"));
    r
}

/// A non-JSON service's answer when its blocking work failed (`Err`: a store error; the
/// outer `Err`: the task panicked): logged with `what`, and a bare 500 — the caller (a
/// switch, a phone) can do nothing with the details.
pub(crate) fn plain_failure<E: std::fmt::Display>(what: &'static str, e: E) -> warp::reply::Response {
    tracing::error!(error = %e, "{what}");
    plain(warp::http::StatusCode::INTERNAL_SERVER_ERROR, "text/plain", "internal error\n".into())
}

pub(crate) fn respond(result: Result<router::Reply, error::ApiError>) -> warp::reply::Response {
    let (status, body, raw, retry_after) = match result {
        Ok(r) => (r.status, r.body, r.raw, None),
        Err(e) => (e.status(), Some(e.body()), None, e.retry_after()),
    };
    let (content_type, bytes) = match raw {
        Some((ct, bytes)) => (ct, bytes),
        None => ("application/json", body.map(|v| serde_json::to_vec(&v).expect("JSON values serialise")).unwrap_or_default()),
    };
    let mut resp = warp::reply::Response::new(bytes.into());
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert("content-type", warp::http::HeaderValue::from_static(content_type));
    h.insert("cache-control", warp::http::HeaderValue::from_static("no-store"));
    h.insert("x-content-type-options", warp::http::HeaderValue::from_static("nosniff"));
    if let Some(secs) = retry_after {
        h.insert("retry-after", warp::http::HeaderValue::from(secs));
    }
    resp
}

/// Everything under `/api/v1`. The route, the token and the access rule are checked first,
/// on the blocking pool (SQLite); only then is a body read, bounded by the route's limit
/// (a larger Content-Length is refused at once, 413), JSON into memory and uploads onto
/// disk; then the handler runs on the blocking pool.
pub fn api(api: Arc<router::Api>) -> impl Filter<Extract = (warp::reply::Response,), Error = warp::Rejection> + Clone {
    let query = warp::query::raw().or(warp::any().map(String::new)).unify();
    warp::path("api")
        .and(warp::path("v1"))
        .and(warp::path::full())
        .and(warp::method())
        .and(query)
        .and(warp::header::optional::<String>("authorization"))
        .and(warp::header::optional::<String>("content-length"))
        .and(crate::http::client_addr())
        .and(warp::body::stream())
        .then(
            move |path: warp::path::FullPath,
                  method: warp::http::Method,
                  query: String,
                  auth: Option<String>,
                  length: Option<String>,
                  peer: Option<SocketAddr>,
                  body| {
                let api = api.clone();
                async move {
                    if router::find(&method, path.as_str()).is_ok_and(|(r, _)| matches!(r.handler, router::Handler::Stream)) {
                        let bearer = auth.as_deref().and_then(|a| a.strip_prefix("Bearer ")).map(|t| t.trim().to_string());
                        return realtime::feed(api, path.as_str().to_string(), query, bearer).await;
                    }
                    let bearer = match auth.as_deref().map(|a| a.strip_prefix("Bearer ").ok_or(())) {
                        Some(Err(())) => return respond(Err(error::ApiError::Unauthorized("the Authorization header must be: Bearer <token>"))),
                        Some(Ok(t)) => Some(t.trim().to_string()),
                        None => None,
                    };
                    // A request without a body (every GET) is admitted and run in one trip
                    // to the blocking pool; one with a body is admitted first, then read.
                    let no_body = length.as_deref().map(str::trim) == Some("0") || (method == warp::http::Method::GET && length.is_none());
                    if no_body {
                        let (path, peer) = (path.as_str().to_string(), peer.map(|p| p.ip()));
                        let result = tokio::task::spawn_blocking(move || {
                            let (route, req) = router::admit(&api, &method, &path, &query, bearer.as_deref(), peer)?;
                            router::run(&api, route, req)
                        })
                        .await
                        .unwrap_or_else(|e| Err(error::ApiError::Internal(format!("handler panicked: {e}"))));
                        return respond(result);
                    }
                    let admitted = {
                        let (api, method, path, peer) = (api.clone(), method.clone(), path.as_str().to_string(), peer.map(|p| p.ip()));
                        tokio::task::spawn_blocking(move || router::admit(&api, &method, &path, &query, bearer.as_deref(), peer))
                            .await
                            .unwrap_or_else(|e| Err(error::ApiError::Internal(format!("handler panicked: {e}"))))
                    };
                    let (route, req) = match admitted {
                        Ok(a) => a,
                        Err(e) => return respond(Err(e)),
                    };
                    let limit = route.body_limit() as u64;
                    match length.map(|l| l.trim().parse::<u64>()) {
                        Some(Ok(n)) if n > limit => return respond(Err(error::ApiError::TooLarge(limit as usize))),
                        Some(Err(_)) => return respond(Err(error::ApiError::BadRequest("Content-Length is not a number".into()))),
                        _ => {}
                    }
                    let req = match route.body {
                        router::BodyDoc::Binary(_) => match read_upload(body, limit, api.cfg.http.idle(), &api.cfg.data_dir).await {
                            Ok(u) => Ok(router::Req { upload: Some(u), ..req }),
                            Err(e) => Err(e),
                        },
                        _ => {
                            let mut json = Vec::new();
                            match read_body(body, limit, api.cfg.http.idle(), |c| Ok(json.extend_from_slice(c))).await {
                                Ok(_) => router::with_json(req, &json),
                                Err(e) => Err(e),
                            }
                        }
                    };
                    let req = match req {
                        Ok(r) => r,
                        Err(e) => return respond(Err(e)),
                    };
                    let result = tokio::task::spawn_blocking(move || router::run(&api, route, req))
                        .await
                        .unwrap_or_else(|e| Err(error::ApiError::Internal(format!("handler panicked: {e}"))));
                    respond(result)
                }
            },
        )
}

/// Every route, with the web UI's files (`static/`, the softphone's JsSIP at `/vendor/`
/// among them) from `ui` at `/`.
pub fn routes(
    h: Health,
    api_state: Arc<router::Api>,
    ui: ui_files::UiFiles,
) -> impl Filter<Extract = (impl warp::Reply,), Error = warp::Rejection> + Clone {
    let guard = Arc::new(crate::provision::guard::Guard::new(crate::provision::guard::Policy::default()));
    let files = ui_files::filter(Arc::new(ui));
    // The web UI's first load, gzipped for browsers that take it: the OpenAPI document the
    // menu is built from (135 KB of JSON, 9 KB gzipped), the shell and its pages. Nothing
    // else is: phones fetching their files may not decode gzip, and the realtime feed is a
    // stream that must not wait in a compressor's buffer. The API stands before the gzipped
    // files, so an API call never looks for a file on disk first.
    let openapi_gzipped = takes_gzip()
        .and(only_path("/api/v1/openapi.json"))
        .and(api(api_state.clone()))
        .with(warp::filters::compression::gzip())
        .map(|r| warp::reply::with_header(r, "vary", "accept-encoding"));
    // Only a 200 is gzipped: a 304 has no body, and must not say it is encoded (a cache
    // could take that onto the copy it keeps); it goes on to the plain files below.
    let files_gzipped = takes_gzip()
        .and(files.clone().and_then(|r: warp::reply::Response| async move {
            if r.status() == 200 {
                Ok(r)
            } else {
                Err(warp::reject::not_found())
            }
        }))
        .with(warp::filters::compression::gzip())
        .map(|r| warp::reply::with_header(r, "vary", "accept-encoding"));
    health(h)
        .or(freeswitch::xml_curl(api_state.clone()))
        .or(provision::files(api_state.clone(), guard))
        .or(openapi_gzipped)
        .or(api(api_state))
        .or(files_gzipped)
        .or(files)
}

/// Passes requests whose Accept-Encoding lists gzip (and not with `q=0`, which refuses it).
fn takes_gzip() -> impl Filter<Extract = (), Error = warp::Rejection> + Clone {
    warp::header::optional::<String>("accept-encoding")
        .and_then(|v: Option<String>| async move {
            if v.as_deref().is_some_and(accepts_gzip) {
                Ok(())
            } else {
                Err(warp::reject())
            }
        })
        .untuple_one()
}

fn accepts_gzip(header: &str) -> bool {
    header.split(',').any(|item| {
        let mut parts = item.split(';').map(str::trim);
        let coding = parts.next().unwrap_or_default();
        let refused = parts.any(|p| p.strip_prefix("q=").is_some_and(|q| q.parse::<f32>().is_ok_and(|q| q <= 0.0)));
        coding.eq_ignore_ascii_case("gzip") && !refused
    })
}

/// Passes one exact path, consuming nothing (the API's own routing reads it again).
fn only_path(path: &'static str) -> impl Filter<Extract = (), Error = warp::Rejection> + Clone {
    warp::path::full()
        .and_then(move |p: warp::path::FullPath| async move {
            if p.as_str() == path {
                Ok(())
            } else {
                Err(warp::reject())
            }
        })
        .untuple_one()
}

#[cfg(test)]
mod tests {
    #[test]
    fn accept_encoding_is_read_with_its_weights() {
        for yes in ["gzip", "gzip, deflate, br", "br;q=1.0, GZIP;q=0.5", "identity, gzip ; q=0.1"] {
            assert!(super::accepts_gzip(yes), "{yes}");
        }
        for no in ["", "br, identity", "gzip;q=0", "gzip; q=0.0, br", "x-gzip-not", "deflate"] {
            assert!(!super::accepts_gzip(no), "{no}");
        }
    }
}
