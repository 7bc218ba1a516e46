//! `POST /freeswitch/xml`: mod_xml_curl's one URL for the directory, configuration and
//! dialplan bindings. Who may ask: loopback callers (unless `xml_curl_remote`), always with
//! the `gateway-credentials` password, and never through a proxy. The documents come from
//! [`crate::xml_curl`].
//!
//! The answers carry every phone's digest hash and voicemail PIN, so the password is never
//! optional: without `xml_curl_password` switchboard generates one at its first start into
//! `<data_dir>/xml-curl-password` (`fs-scripts/wire-freeswitch --xml-curl-password-file`
//! writes it into FreeSWITCH's xml_curl.conf.xml). A loopback peer alone proves nothing
//! behind a reverse proxy on the same box, so a request carrying a proxy's forwarding
//! headers is refused whatever its peer: mod_xml_curl (libcurl) sends none.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use base64::Engine as _;
use warp::http::{HeaderMap, HeaderValue, StatusCode};
use warp::Filter;

use super::plain as reply;
use super::router::Api;
use crate::secret::constant_time_eq;

/// Form bodies above this are not mod_xml_curl's.
const BODY_LIMIT: u64 = 64 * 1024;

/// The generated password's file in the data directory.
pub const PASSWORD_FILE: &str = "xml-curl-password";

/// Headers a proxy adds (RFC 7239 `Forwarded`, the de-facto `X-Forwarded-*`, nginx's
/// `X-Real-IP`, RFC 9110 `Via`): a request with any of them did not come from the switch.
fn forwarded(headers: &HeaderMap) -> Option<&str> {
    headers.keys().map(|k| k.as_str()).find(|k| matches!(*k, "forwarded" | "x-real-ip" | "via") || k.starts_with("x-forwarded-"))
}

/// The password mod_xml_curl must send: `xml_curl_password` when configured, else the one in
/// `<data_dir>/xml-curl-password`, generated (0600) on the first start without one.
pub fn password(cfg: &crate::config::Config) -> std::io::Result<String> {
    if !cfg.xml_curl_password.is_empty() {
        return Ok(cfg.xml_curl_password.clone());
    }
    let path = password_path(cfg);
    match std::fs::read_to_string(&path) {
        Ok(pw) if !pw.trim().is_empty() => return Ok(pw.trim().to_string()),
        Ok(_) => return Err(std::io::Error::other(format!("{} is empty: delete it to have a new password generated", path.display()))),
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))),
        Err(_) => {}
    }
    // 32 letters and digits: nothing XML, a shell or FreeSWITCH's preprocessor reads specially.
    let pw: String = (0..2).map(|_| crate::store::validate::generate_secret()).collect::<String>().chars().take(32).collect();
    crate::data_dir::create_private(&path, format!("{pw}\n").as_bytes())
        .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    tracing::info!(
        file = %path.display(),
        "generated the mod_xml_curl password; wire FreeSWITCH with: fs-scripts/wire-freeswitch --xml-curl-password-file {}",
        path.display()
    );
    Ok(pw)
}

pub fn password_path(cfg: &crate::config::Config) -> PathBuf {
    cfg.data_dir.join(PASSWORD_FILE)
}

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
fn admit(cfg: &crate::config::Config, peer: Option<SocketAddr>, headers: &HeaderMap) -> Result<(), Refusal> {
    if let Some(h) = forwarded(headers) {
        tracing::warn!(peer = ?peer, header = h, "mod_xml_curl request through a proxy refused");
        return Err(Refusal::Forbidden("forwarded requests are refused: FreeSWITCH asks switchboard directly"));
    }
    let local = peer.is_some_and(|p| p.ip().is_loopback());
    if !local && !cfg.xml_curl_remote {
        tracing::warn!(peer = ?peer, "mod_xml_curl request from outside loopback refused (set xml_curl_remote)");
        return Err(Refusal::Forbidden("loopback only"));
    }
    let want = &cfg.xml_curl_password;
    if want.is_empty() {
        // `serve` always has one (configured or generated); an empty one never opens the door.
        tracing::error!("mod_xml_curl request refused: no xml_curl_password");
        return Err(Refusal::Forbidden("no xml_curl_password is set"));
    }
    let given = headers
        .get("authorization")
        .and_then(|a| a.to_str().ok())
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
        .and(warp::header::headers_cloned())
        .and(warp::body::content_length_limit(BODY_LIMIT))
        .and(warp::body::stream())
        .then(move |peer: Option<SocketAddr>, headers: HeaderMap, stream| {
            let (api, settings) = (api.clone(), settings.clone());
            async move {
                // Who asks first, then the form, bounded in size and time: a stranger's
                // body is never read.
                if let Err(refused) = admit(&api.cfg, peer, &headers) {
                    return refused.reply();
                }
                let mut body = Vec::new();
                if let Err(e) = super::read_body(stream, BODY_LIMIT, api.cfg.http.idle(), |c| {
                    body.extend_from_slice(c);
                    Ok(())
                })
                .await
                {
                    return reply(e.status(), "text/plain", format!("{e}\n"));
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

    fn status(cfg: &Config, peer: &str, headers: &[(&str, &str)]) -> u16 {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.insert(warp::http::HeaderName::from_bytes(k.as_bytes()).unwrap(), HeaderValue::from_str(v).unwrap());
        }
        match admit(cfg, Some(peer.parse().unwrap()), &map) {
            Ok(()) => 200,
            Err(r) => r.reply().status().as_u16(),
        }
    }

    fn basic(pw: &str) -> String {
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("freeswitch:{pw}")))
    }

    #[test]
    fn other_hosts_need_to_be_allowed_and_every_caller_signs_in() {
        let auth = basic("pw-1");
        let signed = [("authorization", auth.as_str())];
        let local = Config { xml_curl_password: "pw-1".into(), ..Config::default() };
        assert_eq!(status(&local, "127.0.0.1:4000", &signed), 200);
        assert_eq!(status(&local, "[::1]:4000", &signed), 200);
        assert_eq!(status(&local, "127.0.0.1:4000", &[]), 401, "loopback alone is no proof");
        assert_eq!(status(&local, "127.0.0.1:4000", &[("authorization", &basic("pw-2"))]), 401);
        assert_eq!(status(&local, "127.0.0.1:4000", &[("authorization", "Basic !!not-base64")]), 401);
        assert_eq!(status(&local, "192.0.2.9:4000", &signed), 403, "remote stays off unless enabled");
        let remote = Config { xml_curl_remote: true, ..local.clone() };
        assert_eq!(status(&remote, "192.0.2.9:4000", &[]), 401);
        assert_eq!(status(&remote, "192.0.2.9:4000", &signed), 200);
        let none = Config::default();
        assert_eq!(status(&none, "127.0.0.1:4000", &[("authorization", &basic(""))]), 403, "an empty password opens nothing");
    }

    #[test]
    fn a_request_through_a_proxy_is_refused_with_the_right_password() {
        let cfg = Config { xml_curl_password: "pw-1".into(), xml_curl_remote: true, ..Config::default() };
        let auth = basic("pw-1");
        for h in ["X-Forwarded-For", "x-forwarded-host", "X-Forwarded-Proto", "Forwarded", "X-Real-IP", "Via"] {
            assert_eq!(status(&cfg, "127.0.0.1:4000", &[("authorization", &auth), (h, "203.0.113.5")]), 403, "{h}");
        }
        assert_eq!(status(&cfg, "127.0.0.1:4000", &[("authorization", &auth), ("user-agent", "freeswitch-xml/1.0")]), 200);
    }

    #[cfg(unix)]
    #[test]
    fn the_password_is_generated_once_owner_only_and_configured_wins() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("sb-xmlpw-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let cfg = Config { data_dir: dir.clone(), ..Config::default() };
        let first = password(&cfg).unwrap();
        assert_eq!(first.len(), 32);
        assert!(first.bytes().all(|b| b.is_ascii_alphanumeric()), "{first}");
        assert_eq!(password(&cfg).unwrap(), first, "read back, not made again");
        assert_eq!(std::fs::read_to_string(dir.join(PASSWORD_FILE)).unwrap(), format!("{first}\n"));
        assert_eq!(std::fs::metadata(dir.join(PASSWORD_FILE)).unwrap().permissions().mode() & 0o777, 0o600);
        let configured = Config { xml_curl_password: "from-config".into(), ..cfg.clone() };
        assert_eq!(password(&configured).unwrap(), "from-config");
        std::fs::write(dir.join(PASSWORD_FILE), "\n").unwrap();
        assert!(password(&cfg).is_err(), "an emptied file is an error, not an open door");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
