//! Dial strings as switchboard writes them for `bridge` and `originate`: a phone of a tenant
//! (`user/<number>@<domain>`, mod_dptools' user endpoint, which looks the phone up in the
//! directory switchboard serves) and a trunk (`sofia/gateway/trunk<id>/<number>`, the
//! gateway name xml_curl.rs gives each trunk), with per-leg variables (`[k=v,…]`), legs
//! rung at once (`,`) or one after the other (`|`).
//!
//! Callers pass checked values only (a number through [`super::dial::number`], a domain
//! the store checked as a host name); a value that would break the string out of its place
//! is a bug, caught in debug builds.

/// True when `s` holds nothing FreeSWITCH would read as dial-string syntax.
fn plain(s: &str) -> bool {
    !s.is_empty() && !s.contains([',', '|', '[', ']', '{', '}', '<', '>', '$', '^', '\'', ';', ' ', '\r', '\n', '/'])
}

/// A tenant's phone: `user/1001@acme.example`.
pub fn user(number: &str, domain: &str) -> String {
    debug_assert!(plain(number) && plain(domain), "{number:?}@{domain:?}");
    format!("user/{number}@{domain}")
}

/// The gateway switchboard configures for a trunk (see `xml_curl`): `trunk<id>`.
pub fn gateway_name(trunk: i64) -> String {
    format!("trunk{trunk}")
}

/// A number out through a trunk: `sofia/gateway/trunk12/+12125550100`.
pub fn gateway(trunk: i64, number: &str) -> String {
    debug_assert!(plain(number), "{number:?}");
    format!("sofia/gateway/{}/{number}", gateway_name(trunk))
}

/// One leg with its own variables: `[k=v,k2=v2]endpoint` (or the endpoint alone).
pub fn leg<S: AsRef<str>>(vars: &[S], endpoint: &str) -> String {
    if vars.is_empty() {
        return endpoint.to_string();
    }
    let vars: Vec<&str> = vars.iter().map(AsRef::as_ref).collect();
    debug_assert!(vars.iter().all(|v| !v.contains(['[', ']', '\r', '\n'])), "{vars:?}");
    format!("[{}]{endpoint}", vars.join(","))
}

/// Legs rung at once; the first to answer wins.
pub fn at_once<S: AsRef<str>>(legs: &[S]) -> String {
    legs.iter().map(AsRef::as_ref).collect::<Vec<_>>().join(",")
}

/// Legs rung one after the other.
pub fn in_turn<S: AsRef<str>>(legs: &[S]) -> String {
    legs.iter().map(AsRef::as_ref).collect::<Vec<_>>().join("|")
}

/// The trunk a dial string goes out on (`sofia/gateway/trunk<id>/…`, as [`gateway`] writes
/// it), read back from a channel's application data.
pub fn trunk_of(data: &str) -> Option<i64> {
    let prefix = "sofia/gateway/trunk";
    let at = data.find(prefix)? + prefix.len();
    let digits: String = data[at..].chars().take_while(char::is_ascii_digit).collect();
    if data[at + digits.len()..].starts_with('/') {
        digits.parse().ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dial_strings_are_written_and_read_back_exactly() {
        assert_eq!(user("1001", "acme.example"), "user/1001@acme.example");
        assert_eq!(gateway(12, "+12125550100"), "sofia/gateway/trunk12/+12125550100");
        assert_eq!(leg(&["leg_timeout=20"], &user("1001", "a.b")), "[leg_timeout=20]user/1001@a.b");
        assert_eq!(leg::<&str>(&[], "user/1@a.b"), "user/1@a.b");
        assert_eq!(at_once(&["user/1@a.b", "user/2@a.b"]), "user/1@a.b,user/2@a.b");
        assert_eq!(in_turn(&["user/1@a.b", "user/2@a.b"]), "user/1@a.b|user/2@a.b");
        assert_eq!(trunk_of(&leg(&["x=1"], &gateway(12, "+1555"))), Some(12));
        assert_eq!(trunk_of("user/1001@acme"), None);
        assert_eq!(trunk_of("sofia/gateway/trunk12x/1"), None);
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic]
    fn a_number_that_would_add_a_leg_is_a_bug() {
        user("1001,user/2000", "acme.example");
    }
}
