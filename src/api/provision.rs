//! `GET /provision/…`: the files desk phones ask for, and the device page's provisioning
//! details and resync in the API.
//!
//! Two ways in, both ending at the same files:
//! - `/provision/<file>` — the URL for DHCP option 66. Common files to anyone; a file named
//!   by a MAC only with HTTP digest or basic credentials: the MAC as user name and the
//!   device's provisioning secret as password.
//! - `/provision/d/<secret>/<file>` — a per-device URL (a DHCP reservation for that phone,
//!   or typed into it); the token is the proof.
//!
//! A request for a MAC without credentials is challenged whether or not the MAC exists; an
//! unknown MAC or token and wrong credentials all get the same 404. Those failures are logged
//! and counted per address ([`Guard`]): past a few, answers are slowed, then the address is
//! refused for a while. Every download of a file with credentials is in the activity log
//! with the device, the file and the address.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use warp::http::{HeaderValue, StatusCode};
use warp::Filter;

use super::error::{ApiError, ApiResult};
use super::plain as reply;
use super::router::{Api, Reply, Req};
use crate::provision::guard::{Check, Credentials, Guard, Verdict};
use crate::provision::{self, Asked, Phone, Vendor};
use crate::store::activity::{Entry, Filter as ActivityFilter};
use crate::store::provision::DeviceKey;
use crate::store::resources as res;
use crate::store::TenantId;

/// The activity log's action for a download of a phone's own file.
const DOWNLOAD: &str = "provisioned";

/// What a request gets.
#[derive(Debug)]
enum Outcome {
    File(provision::File),
    /// A device's own file, handed to it: logged.
    Delivered {
        file: provision::File,
        device: i64,
        tenant: TenantId,
        mac: String,
    },
    /// Credentials needed (`stale`: the nonce expired, same credentials will do).
    Challenge {
        stale: bool,
    },
    /// Not a file of ours, or one the device's vendor does not use.
    NotFound,
    /// An unknown MAC or token, or wrong credentials: the same 404, counted.
    Failed(&'static str),
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// The device-file part: checks the device may have it and renders it.
fn deliver(dev: crate::store::provision::ProvisionDevice, file: provision::DeviceFile) -> Outcome {
    let Some(vendor) = Vendor::parse(&dev.vendor) else { return Outcome::NotFound };
    let phone = Phone::new(&dev, vendor, jiff::Timestamp::now());
    match provision::device(&phone, file) {
        Some(f) => Outcome::Delivered { file: f, device: dev.id, tenant: dev.tenant, mac: dev.mac },
        None => Outcome::NotFound,
    }
}

fn answer(api: &Api, guard: &Guard, tail: &str, full_path: &str, auth: Option<&str>) -> ApiResult<Outcome> {
    if let Some(rest) = tail.strip_prefix("d/") {
        let (token, name) = rest.split_once('/').unwrap_or((rest, ""));
        let dev = if crate::store::validate::url_secret(token).is_ok() { api.store.provision_device(DeviceKey::Token(token))? } else { None };
        let Some(dev) = dev else { return Ok(Outcome::Failed("unknown provisioning token")) };
        return Ok(match provision::classify(name) {
            Asked::Common(c) => Outcome::File(provision::common(c)),
            Asked::Device { mac, file } if mac == dev.mac => deliver(dev, file),
            Asked::Device { .. } => Outcome::Failed("a token asking for another device's file"),
            Asked::Unknown => Outcome::NotFound,
        });
    }
    let (mac, file) = match provision::classify(tail) {
        Asked::Common(c) => return Ok(Outcome::File(provision::common(c))),
        Asked::Unknown => return Ok(Outcome::NotFound),
        Asked::Device { mac, file } => (mac, file),
    };
    let Some(header) = auth else { return Ok(Outcome::Challenge { stale: false }) };
    let Some(creds) = Credentials::parse(header) else { return Ok(Outcome::Failed("malformed credentials")) };
    let now = now_secs();
    // The nonce first: an expired one is re-challenged before anything is looked up, so the
    // answer says nothing about the MAC.
    if let Credentials::Digest(d) = &creds {
        match guard.nonce_fresh(&d.nonce, now) {
            None => return Ok(Outcome::Failed("a digest nonce that is not ours")),
            Some(false) => return Ok(Outcome::Challenge { stale: true }),
            Some(true) => {}
        }
    }
    if crate::store::validate::mac(creds.user()).ok().as_deref() != Some(mac.as_str()) {
        return Ok(Outcome::Failed("credentials of another MAC"));
    }
    let Some(dev) = api.store.provision_device(DeviceKey::Mac(&mac))? else { return Ok(Outcome::Failed("unknown MAC")) };
    if guard.check(&creds, "GET", full_path, &dev.secret) == Check::Good {
        Ok(deliver(dev, file))
    } else {
        Ok(Outcome::Failed("wrong credentials"))
    }
}

/// Whether a request can end in [`Outcome::Failed`]: a token URL, or a device's file with
/// credentials to check. Common files and the first, credential-less ask for a device's
/// file (a challenge) cannot.
fn may_fail(tail: &str, has_credentials: bool) -> bool {
    tail.starts_with("d/") || (has_credentials && matches!(provision::classify(tail), Asked::Device { .. }))
}

fn not_found() -> warp::reply::Response {
    reply(StatusCode::NOT_FOUND, "text/plain", "not found\n".into())
}

pub fn files(api: Arc<Api>, guard: Arc<Guard>) -> impl Filter<Extract = (warp::reply::Response,), Error = warp::Rejection> + Clone {
    warp::path("provision")
        .and(warp::path::tail())
        .and(warp::path::full())
        .and(warp::get())
        .and(crate::http::client_addr())
        .and(warp::header::optional::<String>("authorization"))
        .then(move |tail: warp::path::Tail, full: warp::path::FullPath, peer: Option<SocketAddr>, auth: Option<String>| {
            let (api, guard) = (api.clone(), guard.clone());
            async move {
                let ip = peer.map(|p| p.ip()).unwrap_or(IpAddr::from([0, 0, 0, 0]));
                let refused = |wait: Duration| {
                    tracing::warn!(address = %ip, path = full.as_str(), "provisioning: refused (too many unknown devices from this address)");
                    let mut r = reply(StatusCode::TOO_MANY_REQUESTS, "text/plain", "too many failed requests; try later\n".into());
                    r.headers_mut().insert("retry-after", HeaderValue::from(wait.as_secs().max(1)));
                    r
                };
                // A request that may fail is counted before it is checked (guard.rs).
                let attempt = if may_fail(tail.as_str(), auth.is_some()) {
                    match guard.attempt(ip, Instant::now()) {
                        Err(wait) => return refused(wait),
                        Ok(a) => {
                            if let Some(wait) = a.delay {
                                tokio::time::sleep(wait).await;
                            }
                            Some(a)
                        }
                    }
                } else {
                    match guard.verdict(ip, Instant::now()) {
                        Verdict::Refused(wait) => return refused(wait),
                        Verdict::Slow(wait) => tokio::time::sleep(wait).await,
                        Verdict::Go => {}
                    }
                    None
                };
                let tail = tail.as_str().to_string();
                let path = full.as_str().to_string();
                let g = guard.clone();
                let a = api.clone();
                let outcome = tokio::task::spawn_blocking(move || answer(&a, &g, &tail, &path, auth.as_deref())).await;
                let failed = matches!(outcome, Ok(Ok(Outcome::Failed(_))));
                match attempt {
                    Some(a) if failed => a.failed(),
                    Some(a) => a.passed(),
                    None if failed => guard.failed(ip, Instant::now()),
                    None => {}
                }
                match outcome {
                    Ok(Ok(Outcome::File(f))) => reply(StatusCode::OK, f.content_type, f.body),
                    Ok(Ok(Outcome::Delivered { file, device, tenant, mac })) => {
                        let name = full.as_str().rsplit('/').next().unwrap_or("").to_string();
                        tracing::info!(device, %mac, file = %name, address = %ip, "provisioning: credentials delivered");
                        let detail = format!("{name} to {ip}");
                        let entry =
                            Entry { tenant: Some(tenant), action: DOWNLOAD, object: format!("devices/{device}"), detail, ..Default::default() };
                        let a = api.clone();
                        // The log is written before the file leaves: a download that cannot be
                        // recorded is not made.
                        match tokio::task::spawn_blocking(move || a.store.log(&entry)).await {
                            Ok(Ok(())) => reply(StatusCode::OK, file.content_type, file.body),
                            _ => {
                                tracing::error!(device, "provisioning: the download could not be logged; not served");
                                reply(StatusCode::SERVICE_UNAVAILABLE, "text/plain", "try again later\n".into())
                            }
                        }
                    }
                    Ok(Ok(Outcome::Challenge { stale })) => {
                        let mut r = reply(StatusCode::UNAUTHORIZED, "text/plain", "credentials required\n".into());
                        for c in guard.challenges(now_secs(), stale) {
                            if let Ok(v) = HeaderValue::from_str(&c) {
                                r.headers_mut().append("www-authenticate", v);
                            }
                        }
                        r
                    }
                    Ok(Ok(Outcome::NotFound)) => not_found(),
                    Ok(Ok(Outcome::Failed(why))) => {
                        tracing::warn!(address = %ip, path = full.as_str(), why, "provisioning: refused a device file");
                        not_found()
                    }
                    Ok(Err(e)) => super::plain_failure("provisioning", e),
                    Err(e) => super::plain_failure("provisioning", e),
                }
            }
        })
}

/// The device of a request, in the caller's scope.
fn device_of(api: &Api, req: &Req) -> ApiResult<Value> {
    Ok(api.store.get(&res::DEVICES, req.grant.within, req.grant.owner, req.id())?)
}

/// GET /devices/{id}/provisioning: what to enter in the phone or the DHCP server, and the
/// device's recent downloads.
pub fn details(api: &Api, req: &Req) -> ApiResult<Reply> {
    let d = device_of(api, req)?;
    let (mac, vendor, model, secret) = (
        d["mac"].as_str().unwrap_or(""),
        d["vendor"].as_str().unwrap_or(""),
        d["model"].as_str().unwrap_or(""),
        d["provision_secret"].as_str().unwrap_or(""),
    );
    let tenant = d["tenant_id"].as_i64().map(TenantId);
    let base = format!("{}/provision/", api.cfg.public_base());
    let device_url = format!("{base}d/{secret}/");
    let downloads = api.store.activity(
        match tenant {
            Some(t) => crate::store::resource::Within::Tenant(t),
            None => crate::store::resource::Within::Everything,
        },
        &ActivityFilter { action: Some(DOWNLOAD.into()), object: Some(format!("devices/{}", req.id())), per_page: 20, ..Default::default() },
    )?;
    let downloads: Vec<Value> = downloads.items.iter().map(|e| json!({ "at": e["at"], "detail": e["detail"] })).collect();
    let file = Vendor::parse(vendor).map(|v| v.device_file(mac, model));
    Reply::ok(json!({
        "provisioned": file.is_some(),
        "base_url": base,
        "username": mac,
        "password": secret,
        "device_url": device_url,
        "file": file,
        "dhcp_option_66": base,
        "dhcp_option_66_reserved": device_url,
        "help": "Shared DHCP scope: option 66 is base_url and each phone's auto-provisioning user name and password are username/password (digest or basic). A DHCP reservation for this phone's MAC may instead give option 66 = device_url, which needs nothing typed into the phone.",
        "downloads": downloads,
    }))
}

/// POST /devices/{id}/resync: every registered line of the device is sent a `check-sync`
/// NOTIFY through FreeSWITCH (`sofia profile internal check_sync <user>@<domain>`,
/// mod_sofia.c), which makes the phone fetch its files again.
pub fn resync(api: &Api, req: &Req) -> ApiResult<Reply> {
    let d = device_of(api, req)?;
    let tenant = TenantId(d["tenant_id"].as_i64().ok_or_else(|| ApiError::Internal("device without tenant".into()))?);
    let domain = api.store.routing_tenant(tenant)?.sip_domain;
    if !api.live.online() {
        return Err(ApiError::SwitchOffline);
    }
    let numbers = api.store.device_line_numbers(req.id())?;
    let (registered, absent): (Vec<String>, Vec<String>) = numbers.into_iter().partition(|n| api.live.is_registered(n, &domain));
    if registered.is_empty() {
        return Err(ApiError::Conflict {
            field: None,
            message: "none of the device's lines is registered: the phone fetches its files when it next boots".into(),
        });
    }
    for n in &registered {
        let sync = crate::esl::ApiCommand::SofiaCheckSync { profile: "internal".into(), user: format!("{n}@{domain}") };
        super::realtime::block(api.live.api(&sync))?;
    }
    let p = req.principal()?;
    super::handlers::audit(api, Some(p), Some(tenant), "resync", format!("devices/{}", req.id()), registered.join(", "));
    Reply::ok(json!({ "sent": registered, "not_registered": absent }))
}
