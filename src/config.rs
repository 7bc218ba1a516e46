//! Settings from a TOML file plus `SWITCHBOARD_*` environment overrides, with defaults that
//! run on one box next to FreeSWITCH.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where FreeSWITCH's `socket` application connects (the dialplan's `socket` data).
    pub outbound_listen: SocketAddr,
    /// The HTTP API, UI, health and (later) mod_xml_curl and provisioning.
    pub http_listen: SocketAddr,
    /// The SQLite file and everything else switchboard writes.
    pub data_dir: PathBuf,
    /// FreeSWITCH's inbound event socket (event_socket.conf.xml).
    pub freeswitch_esl: SocketAddr,
    /// Its password. Never logged.
    pub freeswitch_password: String,
    /// `linger N` on every call: how long FreeSWITCH keeps the socket after a hangup.
    pub linger_secs: u64,
    /// How long to wait for the connect reply.
    pub connect_timeout_ms: u64,
    /// On SIGINT/SIGTERM, how long live calls may go on before they are cut.
    pub shutdown_grace_secs: u64,
    /// At most this many calls handled at once.
    pub max_calls: usize,
    /// Played before a call that cannot be routed is ended (unknown DID, unknown domain).
    pub greeting: String,
    /// One tenant, no billing, no branding: the community edition, from the same code.
    /// Also set by the `COMMUNITY_EDITION` environment variable.
    pub community_edition: bool,
    /// Lifetime of an access token (seconds); refresh tokens live `refresh_token_secs`.
    pub access_token_secs: u64,
    pub refresh_token_secs: u64,
    pub password_policy: PasswordPolicy,
    /// Limits on proving a password (sign-in, password changes): per client address, and
    /// on the argon2 checks the whole server runs at once (docs/security.md).
    pub sign_in: SignIn,
    /// The relay alerts (low credit) are mailed through; no relay, no mail (the UI flag
    /// still shows).
    pub smtp: Smtp,
    /// The password FreeSWITCH's mod_xml_curl sends as `gateway-credentials`
    /// (`freeswitch:<password>`, HTTP basic). Always required; empty: the one switchboard
    /// generates at its first start into `<data_dir>/xml-curl-password`.
    pub xml_curl_password: String,
    /// Answer mod_xml_curl from other hosts too (a FreeSWITCH on another box); the password
    /// is then required.
    pub xml_curl_remote: bool,
    /// The address phones and browsers reach switchboard at (`https://pbx.example.com`, a
    /// TLS proxy in front of `http_listen`): provisioning URLs and DHCP option 66 are built
    /// from it. Empty: `http://` and the HTTP listener's address.
    pub public_url: String,
    /// What one HTTP client may hold (`[http]`): connections, time, requests.
    pub http: HttpLimits,
}

/// Limits on HTTP clients, so that no one who reaches the port can hold the descriptors,
/// memory or time calls need (docs/security.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpLimits {
    /// HTTP connections open at once; lowered at start if the process's descriptors cannot
    /// carry both this and `max_calls` (the log says so).
    pub max_connections: usize,
    /// Connections open at once from one address (IPv6: one /64).
    pub max_connections_per_address: usize,
    /// A connection must deliver a request's head within this many seconds of opening or of
    /// its last answer, and a body must not pause longer; otherwise it is closed.
    pub idle_secs: u64,
    /// An answer the client does not read for this many seconds ends the connection.
    pub write_stall_secs: u64,
    /// Requests on one kept-alive connection; the last answer says `Connection: close`.
    pub max_requests_per_connection: u32,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits { max_connections: 1024, max_connections_per_address: 64, idle_secs: 15, write_stall_secs: 30, max_requests_per_connection: 1000 }
    }
}

impl HttpLimits {
    pub fn idle(&self) -> Duration {
        Duration::from_secs(self.idle_secs.max(1))
    }
    pub fn write_stall(&self) -> Duration {
        Duration::from_secs(self.write_stall_secs.max(1))
    }
}

/// An SMTP relay: a local MTA on port 25, or a provider's submission port with STARTTLS.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Smtp {
    /// Host name or address; empty = mail is off.
    pub relay: String,
    pub port: u16,
    /// `none` (plain, for a relay on loopback), `starttls` or `tls`.
    pub security: SmtpSecurity,
    /// Sign-in at the relay; empty = none.
    pub username: String,
    /// Never logged.
    pub password: String,
    /// The From address of every alert.
    pub from: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    None,
    Starttls,
    Tls,
}

impl std::str::FromStr for SmtpSecurity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "none" => Ok(SmtpSecurity::None),
            "starttls" => Ok(SmtpSecurity::Starttls),
            "tls" => Ok(SmtpSecurity::Tls),
            _ => Err("must be none, starttls or tls".into()),
        }
    }
}

impl Default for Smtp {
    fn default() -> Self {
        Smtp {
            relay: String::new(),
            port: 25,
            security: SmtpSecurity::None,
            username: String::new(),
            password: String::new(),
            from: "switchboard@localhost".into(),
        }
    }
}

/// How hard a client may push on password checks. Each check is an argon2 verification
/// (19 MiB and tens of milliseconds of a core): unbounded, a few dozen clients exhaust
/// memory and slow every other request.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SignIn {
    /// Failed attempts one client address may make in a burst (a right password gives its
    /// attempt back). Beyond it: 429 with Retry-After.
    pub per_address_burst: u32,
    /// Attempts an address earns back per minute after the burst is spent.
    pub per_address_per_minute: u32,
    /// Password checks (argon2) run at once across the server.
    pub concurrent_checks: usize,
    /// Checks waiting for one of those; beyond them: 503 with Retry-After.
    pub queued_checks: usize,
}

impl Default for SignIn {
    fn default() -> Self {
        SignIn { per_address_burst: 10, per_address_per_minute: 10, concurrent_checks: 2, queued_checks: 16 }
    }
}

/// Rules for every password set or used: creation, change and login.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct PasswordPolicy {
    pub min_length: usize,
    pub require_upper: bool,
    pub require_lower: bool,
    pub require_digit: bool,
    pub require_symbol: bool,
    /// Days before a password must be changed; 0 = never.
    pub max_age_days: u32,
    /// Failed logins in a row that lock the account; 0 = never lock.
    pub lockout_threshold: u32,
    pub lockout_minutes: u32,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy {
            min_length: 10,
            require_upper: true,
            require_lower: true,
            require_digit: true,
            require_symbol: false,
            max_age_days: 0,
            lockout_threshold: 5,
            lockout_minutes: 15,
        }
    }
}

impl PasswordPolicy {
    /// Every unmet rule, in one message.
    pub fn check(&self, pw: &str) -> Result<(), String> {
        let mut missing = Vec::new();
        if pw.chars().count() < self.min_length {
            missing.push(format!("at least {} characters", self.min_length));
        }
        if pw.chars().count() > 256 {
            missing.push("at most 256 characters".to_string());
        }
        let rules = [
            (self.require_upper, pw.chars().any(|c| c.is_uppercase()), "an upper-case letter"),
            (self.require_lower, pw.chars().any(|c| c.is_lowercase()), "a lower-case letter"),
            (self.require_digit, pw.chars().any(|c| c.is_ascii_digit()), "a digit"),
            (self.require_symbol, pw.chars().any(|c| !c.is_alphanumeric() && !c.is_whitespace()), "a symbol"),
        ];
        missing.extend(rules.iter().filter(|(on, has, _)| *on && !has).map(|(_, _, what)| what.to_string()));
        // Control characters (NUL, escape, line breaks…) cannot be typed at a login form,
        // yet would count towards the length: "Aa1" and eight NULs passed as 11 characters.
        let control = pw.chars().any(char::is_control);
        let control_msg = "must not contain control characters (NUL, tab, line breaks, escape…)";
        match (missing.is_empty(), control) {
            (true, false) => Ok(()),
            (true, true) => Err(format!("the password {control_msg}")),
            (false, false) => Err(format!("the password needs {}", missing.join(", "))),
            (false, true) => Err(format!("the password needs {}, and {control_msg}", missing.join(", "))),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            outbound_listen: "127.0.0.1:8084".parse().expect("addr"),
            http_listen: "0.0.0.0:8080".parse().expect("addr"),
            data_dir: PathBuf::from("./data"),
            freeswitch_esl: "127.0.0.1:8021".parse().expect("addr"),
            freeswitch_password: "ClueCon".into(),
            linger_secs: 30,
            connect_timeout_ms: 5000,
            shutdown_grace_secs: 30,
            max_calls: 10_000,
            greeting: "ivr/ivr-that_was_an_invalid_entry.wav".into(),
            community_edition: false,
            access_token_secs: 900,
            refresh_token_secs: 7 * 24 * 3600,
            password_policy: PasswordPolicy::default(),
            sign_in: SignIn::default(),
            smtp: Smtp::default(),
            xml_curl_password: String::new(),
            xml_curl_remote: false,
            public_url: String::new(),
            http: HttpLimits::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading {path}: {error}")]
    Read { path: String, error: std::io::Error },
    #[error("{path}: {error}")]
    Parse { path: String, error: String },
    #[error("environment variable {name}: {error}")]
    Env { name: String, error: String },
}

impl Config {
    /// [`Config::public_url`] without a trailing slash, or the HTTP listener's address (a
    /// wildcard listener named by this host's loopback address).
    pub fn public_base(&self) -> String {
        let u = self.public_url.trim().trim_end_matches('/');
        if !u.is_empty() {
            return u.to_string();
        }
        let a = self.http_listen;
        let host = if a.ip().is_unspecified() { "127.0.0.1".to_string() } else { a.ip().to_string() };
        if a.is_ipv6() && !a.ip().is_unspecified() {
            format!("http://[{host}]:{}", a.port())
        } else {
            format!("http://{host}:{}", a.port())
        }
    }

    /// The file (if any), then the environment.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let mut cfg = match path {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|error| ConfigError::Read { path: p.display().to_string(), error })?;
                toml::from_str(&text).map_err(|e| ConfigError::Parse { path: p.display().to_string(), error: e.to_string() })?
            }
            None => Config::default(),
        };
        cfg.apply_env(|k| std::env::var(k).ok())?;
        Ok(cfg)
    }

    /// `SWITCHBOARD_<FIELD>` overrides, e.g. `SWITCHBOARD_HTTP_LISTEN=127.0.0.1:9000`.
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        fn parse<T: std::str::FromStr>(name: &str, v: String) -> Result<T, ConfigError>
        where
            T::Err: std::fmt::Display,
        {
            v.parse().map_err(|e: T::Err| ConfigError::Env { name: name.into(), error: e.to_string() })
        }
        macro_rules! env {
            ($field:ident, $name:literal) => {
                if let Some(v) = get($name) {
                    self.$field = parse($name, v)?;
                }
            };
        }
        env!(outbound_listen, "SWITCHBOARD_OUTBOUND_LISTEN");
        env!(http_listen, "SWITCHBOARD_HTTP_LISTEN");
        env!(data_dir, "SWITCHBOARD_DATA_DIR");
        env!(freeswitch_esl, "SWITCHBOARD_FREESWITCH_ESL");
        env!(freeswitch_password, "SWITCHBOARD_FREESWITCH_PASSWORD");
        env!(linger_secs, "SWITCHBOARD_LINGER_SECS");
        env!(connect_timeout_ms, "SWITCHBOARD_CONNECT_TIMEOUT_MS");
        env!(shutdown_grace_secs, "SWITCHBOARD_SHUTDOWN_GRACE_SECS");
        env!(max_calls, "SWITCHBOARD_MAX_CALLS");
        env!(greeting, "SWITCHBOARD_GREETING");
        env!(community_edition, "COMMUNITY_EDITION");
        env!(community_edition, "SWITCHBOARD_COMMUNITY_EDITION");
        env!(access_token_secs, "SWITCHBOARD_ACCESS_TOKEN_SECS");
        env!(refresh_token_secs, "SWITCHBOARD_REFRESH_TOKEN_SECS");
        env!(xml_curl_password, "SWITCHBOARD_XML_CURL_PASSWORD");
        env!(xml_curl_remote, "SWITCHBOARD_XML_CURL_REMOTE");
        env!(public_url, "SWITCHBOARD_PUBLIC_URL");
        macro_rules! http {
            ($field:ident, $name:literal) => {
                if let Some(v) = get($name) {
                    self.http.$field = parse($name, v)?;
                }
            };
        }
        http!(max_connections, "SWITCHBOARD_HTTP_MAX_CONNECTIONS");
        http!(max_connections_per_address, "SWITCHBOARD_HTTP_MAX_CONNECTIONS_PER_ADDRESS");
        http!(idle_secs, "SWITCHBOARD_HTTP_IDLE_SECS");
        http!(write_stall_secs, "SWITCHBOARD_HTTP_WRITE_STALL_SECS");
        http!(max_requests_per_connection, "SWITCHBOARD_HTTP_MAX_REQUESTS_PER_CONNECTION");
        macro_rules! smtp {
            ($field:ident, $name:literal) => {
                if let Some(v) = get($name) {
                    self.smtp.$field = parse($name, v)?;
                }
            };
        }
        smtp!(relay, "SWITCHBOARD_SMTP_RELAY");
        smtp!(port, "SWITCHBOARD_SMTP_PORT");
        smtp!(security, "SWITCHBOARD_SMTP_SECURITY");
        smtp!(username, "SWITCHBOARD_SMTP_USERNAME");
        smtp!(password, "SWITCHBOARD_SMTP_PASSWORD");
        smtp!(from, "SWITCHBOARD_SMTP_FROM");
        Ok(())
    }

    /// The SQLite file inside the data directory.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("switchboard.db")
    }

    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_run_on_one_box() {
        let c = Config::default();
        assert_eq!(c.outbound_listen.to_string(), "127.0.0.1:8084");
        assert_eq!(c.http_listen.to_string(), "0.0.0.0:8080");
        assert_eq!(c.freeswitch_esl.to_string(), "127.0.0.1:8021");
        assert_eq!(c.data_dir, PathBuf::from("./data"));
    }

    #[test]
    fn environment_overrides_the_file() {
        let mut c: Config = toml::from_str("http_listen = \"127.0.0.1:9000\"\nlinger_secs = 10").unwrap();
        assert_eq!(c.linger_secs, 10);
        c.apply_env(|k| (k == "SWITCHBOARD_HTTP_LISTEN").then(|| "127.0.0.1:9100".to_string())).unwrap();
        assert_eq!(c.http_listen.to_string(), "127.0.0.1:9100");
        let err = c.apply_env(|k| (k == "SWITCHBOARD_MAX_CALLS").then(|| "many".to_string())).unwrap_err();
        assert!(err.to_string().contains("SWITCHBOARD_MAX_CALLS"));
        assert!(toml::from_str::<Config>("htp_listen = \"x\"").is_err(), "typos are refused");
    }

    #[test]
    fn password_policy_names_every_unmet_rule() {
        let p = PasswordPolicy { require_symbol: true, ..Default::default() };
        let e = p.check("short").unwrap_err();
        for rule in ["10 characters", "upper-case", "digit", "symbol"] {
            assert!(e.contains(rule), "{e}");
        }
        assert!(!e.contains("lower-case"));
        assert!(p.check("Long-enough-1").is_ok());
        let e = p.check("Aa1-\0\0\0\0\0\0\0\0").unwrap_err();
        assert!(e.contains("control characters"), "{e}");
        assert!(p.check("Long-enough-1\u{1b}").is_err() && p.check("Long-enough-1\u{85}").is_err(), "escape and C1 controls too");
        let c: Config = toml::from_str("[password_policy]\nmin_length = 14\nlockout_threshold = 3").unwrap();
        assert_eq!(c.password_policy.min_length, 14);
        assert!(c.password_policy.require_upper, "unset rules keep their defaults");
    }
}
