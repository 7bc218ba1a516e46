//! `POST /freeswitch/xml`: mod_xml_curl's one URL for the directory, configuration and
//! dialplan bindings. Who may ask: loopback callers (unless `xml_curl_remote`), with the
//! `gateway-credentials` password when one is configured. The documents come from
//! [`crate::xml_curl`].

use std::net::SocketAddr;
use std::sync::Arc;

use base64::Engine as _;
use warp::http::{HeaderValue, StatusCode};
use warp::Filter;

use super::plain as reply;
use super::router::Api;

/// Form bodies above this are not mod_xml_curl's.
const BODY_LIMIT: u64 = 64 * 1024;

/// Why a request is not answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    Forbidden(&'static str),
    /// Credentials missing or wrong (401 with a Basic challenge).
    SignIn,
}

impl Refusal {
    fn reply(self) -> warp::reply::Response {
        match self {
            Refusal::Forbidden(why) => reply(StatusCode::FORBIDDEN, "text/plain", format!("{why}\n")),
            Refusal::SignIn => {
                let mut r = reply(StatusCode::UNAUTHORIZED, "text/plain", "credentials required\n".into());
                r.headers_mut().insert("www-authenticate", HeaderValue::from_static("Basic realm=\"switchboard xml_curl\""));
                r
            }
        }
    }
}

/// Whether the request may be answered; the refusal otherwise.
fn admit(cfg: &crate::config::Config, peer: Option<SocketAddr>, auth: Option<&str>) -> Result<(), Refusal> {
    let local = peer.is_some_and(|p| p.ip().is_loopback());
    if !local && !cfg.xml_curl_remote {
        tracing::warn!(peer = ?peer, "mod_xml_curl request from outside loopback refused (set xml_curl_remote)");
        return Err(Refusal::Forbidden("loopback only"));
    }
    let want = &cfg.xml_curl_password;
    if want.is_empty() {
        if local {
            return Ok(());
        }
        tracing::warn!(peer = ?peer, "mod_xml_curl from another host needs xml_curl_password");
        return Err(Refusal::Forbidden("set xml_curl_password to answer other hosts"));
    }
    let given = auth
        .and_then(|a| a.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b.trim()).ok())
        .and_then(|b| String::from_utf8(b).ok());
    let ok = given.as_deref().and_then(|g| g.split_once(':')).is_some_and(|(_, pw)| constant_time_eq(pw.as_bytes(), want.as_bytes()));
    if ok {
        Ok(())
    } else {
        tracing::warn!(peer = ?peer, "mod_xml_curl request with wrong or missing credentials");
        Err(Refusal::SignIn)
    }
}

/// Equal bytes, compared without an early exit.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub fn xml_curl(api: Arc<Api>) -> impl Filter<Extract = (warp::reply::Response,), Error = warp::Rejection> + Clone {
    let settings = Arc::new(crate::xml_curl::Settings {
        data_dir: std::path::absolute(&api.cfg.data_dir).unwrap_or_else(|_| api.cfg.data_dir.clone()),
        socket: {
            let a = api.cfg.outbound_listen;
            // A wildcard listener is reached on loopback from the switch beside it.
            if a.ip().is_unspecified() {
                format!("127.0.0.1:{}", a.port())
            } else {
                a.to_string()
            }
        },
    });
    warp::path!("freeswitch" / "xml")
        .and(warp::post())
        .and(crate::http::client_addr())
        .and(warp::header::optional::<String>("authorization"))
        .and(warp::body::content_length_limit(BODY_LIMIT))
        .and(warp::body::bytes())
        .then(move |peer: Option<SocketAddr>, auth: Option<String>, body: bytes::Bytes| {
            let (api, settings) = (api.clone(), settings.clone());
            async move {
                if let Err(refused) = admit(&api.cfg, peer, auth.as_deref()) {
                    return refused.reply();
                }
                let answered = tokio::task::spawn_blocking(move || {
                    let text = std::str::from_utf8(&body).map_err(|_| "the form is not UTF-8".to_string())?;
                    let params = super::router::parse_query(text).map_err(|e| e.to_string())?;
                    let req = crate::xml_curl::Request::new(params);
                    crate::xml_curl::answer(&api.store, &settings, &req).map_err(|e| e.to_string())
                })
                .await;
                match answered {
                    Ok(Ok(doc)) => reply(StatusCode::OK, "text/xml", doc),
                    Ok(Err(e)) => super::plain_failure("answering mod_xml_curl", e),
                    Err(e) => super::plain_failure("answering mod_xml_curl", e),
                }
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn status(cfg: &Config, peer: &str, auth: Option<&str>) -> u16 {
        match admit(cfg, Some(peer.parse().unwrap()), auth) {
            Ok(()) => 200,
            Err(r) => r.reply().status().as_u16(),
        }
    }

    #[test]
    fn other_hosts_need_to_be_allowed_and_to_sign_in() {
        let basic = |pw: &str| format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("freeswitch:{pw}")));
        let open = Config::default();
        assert_eq!(status(&open, "127.0.0.1:4000", None), 200, "loopback, no password configured");
        assert_eq!(status(&open, "[::1]:4000", None), 200);
        assert_eq!(status(&open, "192.0.2.9:4000", None), 403, "another host, remote not allowed");
        let remote = Config { xml_curl_remote: true, ..Config::default() };
        assert_eq!(status(&remote, "192.0.2.9:4000", None), 403, "another host needs a password configured");
        let locked = Config { xml_curl_remote: true, xml_curl_password: "pw-1".into(), ..Config::default() };
        assert_eq!(status(&locked, "192.0.2.9:4000", None), 401);
        assert_eq!(status(&locked, "192.0.2.9:4000", Some(&basic("pw-2"))), 401);
        assert_eq!(status(&locked, "192.0.2.9:4000", Some("Basic !!not-base64")), 401);
        assert_eq!(status(&locked, "192.0.2.9:4000", Some(&basic("pw-1"))), 200);
        assert_eq!(status(&locked, "127.0.0.1:4000", None), 401, "a configured password binds loopback too");
        let password_only = Config { xml_curl_password: "pw-1".into(), ..Config::default() };
        assert_eq!(status(&password_only, "192.0.2.9:4000", Some(&basic("pw-1"))), 403, "remote stays off unless enabled");
    }
}
