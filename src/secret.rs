//! Comparing and hashing secrets: equality without an early exit, MD5 in hex and the SIP/HTTP
//! digest's A1 hash. Small and dependency-free so that the doors that check credentials
//! (mod_xml_curl's password, phones' provisioning digest) and the files that hand hashes to
//! FreeSWITCH share one implementation without importing each other.

use std::fmt::Write as _;

use md5::{Digest, Md5};

/// Equal bytes, compared without an early exit.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The SIP digest's A1 hash, `md5(user:realm:password)`: FreeSWITCH checks a phone's
/// credentials without switchboard handing it the password (sofia_reg.c sofia_reg_parse_auth).
pub fn a1_hash(user: &str, realm: &str, password: &str) -> String {
    md5_hex(&format!("{user}:{realm}:{password}"))
}

/// MD5 in lowercase hex, as HTTP and SIP digest write it.
pub fn md5_hex(text: &str) -> String {
    let d = Md5::digest(text.as_bytes());
    d.iter().fold(String::with_capacity(32), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a1_hash_is_the_digest_s_md5() {
        // RFC 2617 §3.5's example credentials: Mufasa / testrealm@host.com / Circle Of Life.
        assert_eq!(a1_hash("Mufasa", "testrealm@host.com", "Circle Of Life"), "939e7578ed9e3c518a452acee763bce9");
    }

    #[test]
    fn equal_only_when_every_byte_and_the_length_match() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret!"));
        assert!(!constant_time_eq(b"", b"x"));
        assert!(constant_time_eq(b"", b""));
    }
}
