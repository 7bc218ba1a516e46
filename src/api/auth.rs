//! Authentication: the RS256 key pair, access and refresh tokens, argon2 password hashes.
//!
//! The key pair is generated on first start and kept in the data directory, the private half
//! readable by the owner only. A token proves who the user is and which sign-in (session) it
//! belongs to; what they may do is read from the store on every request (role, tenant,
//! permissions, whether the token or its session was revoked).

use std::io::Write;
use std::path::Path;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::store::accounts::Principal;

pub const PRIVATE_KEY_FILE: &str = "jwt-private.pem";
pub const PUBLIC_KEY_FILE: &str = "jwt-public.pem";

#[derive(Clone)]
pub struct Keys {
    enc: EncodingKey,
    dec: DecodingKey,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{path}: {error}")]
    Io { path: String, error: std::io::Error },
    #[error("{path}: {error}")]
    Key { path: String, error: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    Access,
    Refresh,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    pub role: String,
    pub tenant: Option<i64>,
    pub perms: Vec<String>,
    pub iat: u64,
    pub exp: u64,
    pub typ: TokenKind,
    /// The user's token version when issued; a password change or disable bumps it.
    pub ver: i64,
    /// The session (sign-in) the token belongs to: the family its refresh tokens descend
    /// in. Revoking the session refuses its access tokens too.
    pub sid: String,
    /// This token's own id: a family's refresh tokens are told apart by it (only the
    /// newest may be used).
    pub jti: String,
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

impl Keys {
    /// Loads the key pair from `dir`, generating it (2048-bit RSA) on first start.
    pub fn load_or_create(dir: &Path) -> Result<Keys, KeyError> {
        let private = dir.join(PRIVATE_KEY_FILE);
        let public = dir.join(PUBLIC_KEY_FILE);
        fn io(p: &Path) -> impl Fn(std::io::Error) -> KeyError + '_ {
            move |error| KeyError::Io { path: p.display().to_string(), error }
        }
        if !private.exists() {
            use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
            let key = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048)
                .map_err(|e| KeyError::Key { path: private.display().to_string(), error: e.to_string() })?;
            let pem = key.to_pkcs8_pem(LineEnding::LF).map_err(|e| KeyError::Key { path: private.display().to_string(), error: e.to_string() })?;
            let pub_pem = key
                .to_public_key()
                .to_public_key_pem(LineEnding::LF)
                .map_err(|e| KeyError::Key { path: public.display().to_string(), error: e.to_string() })?;
            write_private(&private, pem.as_bytes()).map_err(io(&private))?;
            std::fs::write(&public, pub_pem).map_err(io(&public))?;
            tracing::info!(path = %private.display(), "generated the token signing key");
        }
        let pem = std::fs::read(&private).map_err(io(&private))?;
        let pub_pem = std::fs::read(&public).map_err(io(&public))?;
        fn bad(p: &Path) -> impl Fn(jsonwebtoken::errors::Error) -> KeyError + '_ {
            move |e| KeyError::Key { path: p.display().to_string(), error: e.to_string() }
        }
        Ok(Keys { enc: EncodingKey::from_rsa_pem(&pem).map_err(bad(&private))?, dec: DecodingKey::from_rsa_pem(&pub_pem).map_err(bad(&public))? })
    }

    /// A token of `kind` for `p` in session `sid`, with the id `jti`, living `ttl_secs`.
    pub fn issue(&self, p: &Principal, kind: TokenKind, ttl_secs: u64, sid: &str, jti: &str) -> String {
        let now = unix_now();
        let claims = Claims {
            sub: p.user_id.to_string(),
            role: p.role.as_str().into(),
            tenant: p.tenant.map(|t| t.0),
            perms: crate::access::names(&p.permissions).into_iter().map(String::from).collect(),
            iat: now,
            exp: now + ttl_secs,
            typ: kind,
            ver: p.token_version,
            sid: sid.into(),
            jti: jti.into(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &self.enc).expect("RS256 signing with a loaded key")
    }

    /// Checks signature, algorithm (RS256 only), expiry and kind.
    pub fn verify(&self, token: &str, kind: TokenKind) -> Option<Claims> {
        let mut v = Validation::new(Algorithm::RS256);
        v.leeway = 5;
        v.set_required_spec_claims(&["exp", "sub"]);
        let data = jsonwebtoken::decode::<Claims>(token, &self.dec, &v).ok()?;
        (data.claims.typ == kind).then_some(data.claims)
    }
}

/// Writes the private key with owner-only permissions from the first byte (no window where
/// another user could read it), through a temporary file renamed into place.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("pem.tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// argon2id with the crate's defaults (19 MiB, 2 passes), a fresh salt per hash.
pub fn hash_password(pw: &str) -> String {
    let salt = SaltString::generate(&mut rand_core::OsRng);
    Argon2::default().hash_password(pw.as_bytes(), &salt).expect("argon2 with default parameters").to_string()
}

pub fn verify_password(pw: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(pw.as_bytes(), &h).is_ok())
}

/// Spends the time of one verification, so that an unknown email answers as slowly as a
/// wrong password (no account discovery by timing).
pub fn burn_verification() {
    static DUMMY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| hash_password("not-a-real-password"));
    let _ = verify_password("wrong", &DUMMY);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Role;

    #[test]
    fn keys_persist_with_owner_only_permissions_and_tokens_verify() {
        let dir = std::env::temp_dir().join(format!("sb-keys-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let k = Keys::load_or_create(&dir).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(PRIVATE_KEY_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let p = Principal {
            user_id: 7,
            email: "a@b.c".into(),
            tenant: Some(crate::store::TenantId(3)),
            role: Role::TenantAdmin,
            permissions: Default::default(),
            tenant_permissions: Default::default(),
            token_version: 2,
            enabled: true,
        };
        let t = k.issue(&p, TokenKind::Access, 60, "s-1", "t-1");
        let again = Keys::load_or_create(&dir).unwrap();
        let c = again.verify(&t, TokenKind::Access).expect("the reloaded key verifies");
        assert_eq!((c.sub.as_str(), c.tenant, c.ver, c.sid.as_str(), c.jti.as_str()), ("7", Some(3), 2, "s-1", "t-1"));
        assert!(again.verify(&t, TokenKind::Refresh).is_none(), "an access token is not a refresh token");
        let mut forged = t.clone();
        forged.pop();
        forged.push(if t.ends_with('A') { 'B' } else { 'A' });
        assert!(again.verify(&forged, TokenKind::Access).is_none());
        let stale = Claims { exp: unix_now() - 100, iat: unix_now() - 1000, ..c.clone() };
        let expired = jsonwebtoken::encode(&Header::new(Algorithm::RS256), &stale, &k.enc).unwrap();
        assert!(again.verify(&expired, TokenKind::Access).is_none(), "expired");
        // HS256 with the public key as secret (the classic confusion attack) is refused.
        let hs = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &c, &EncodingKey::from_secret(b"x")).unwrap();
        assert!(again.verify(&hs, TokenKind::Access).is_none());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn argon2_hashes_verify_only_their_password() {
        let h = hash_password("Correct-Horse-1");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("Correct-Horse-1", &h));
        assert!(!verify_password("correct-horse-1", &h));
        assert!(!verify_password("x", "not a hash"));
        assert_ne!(h, hash_password("Correct-Horse-1"), "salted");
    }
}
