//! Signing in: proving a password through every limit (address budget, account lock,
//! argon2 slots), refreshing tokens, changing an expired password.

use std::time::Instant;

use serde::Deserialize;

use super::{audit, new_id, new_session, parse_time, secs_from_now, stamp, tokens_reply};
use crate::api::auth::{self, TokenKind};
use crate::api::error::{ApiError, ApiResult};
use crate::api::router::{Api, Reply, Req};
use crate::api::throttle;
use crate::store::accounts::{Attempt, Credentials, Rotation};
use crate::store::TenantId;

// ---- auth --------------------------------------------------------------------------------

pub const LOGIN_DOC: &[(&str, &str, bool)] = &[("email", "string", true), ("password", "string", true)];
pub const REFRESH_DOC: &[(&str, &str, bool)] = &[("refresh_token", "string", true)];
pub const CHANGE_PASSWORD_DOC: &[(&str, &str, bool)] =
    &[("email", "string", true), ("current_password", "string", true), ("new_password", "string", true)];
pub const PASSWORD_DOC: &[(&str, &str, bool)] = &[("current_password", "string", true), ("new_password", "string", true)];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Login {
    email: String,
    password: String,
}

/// The outcome of [`prove_password`] when it was checked.
pub(super) enum Proof {
    Right(Credentials),
    Wrong,
}

/// Proves `password` for the account `email` from the request's address, through every
/// limit in turn (docs/security.md): the address's budget of failures (429), the account's
/// lock for this address, counted before the check so that parallel guesses cannot outrun
/// it (423), and the bound on argon2 checks at once (503). An unknown account goes the same
/// way, a dummy verification included, so that neither the answers nor their cost tell
/// which accounts exist; a lock earned from one address does not lock out another.
pub(super) fn prove_password(api: &Api, req: &Req, email: &str, password: &str) -> ApiResult<Proof> {
    let policy = &api.cfg.password_policy;
    let guard = &api.sign_in;
    // The email as typed is the lock's key (the store compares it as it compares users'
    // emails); it is client text, so it is capped.
    let email: String = email.trim().chars().take(320).collect();
    let addr = throttle::address_key(req.peer);
    guard.addresses.take(&addr, Instant::now()).map_err(|wait| ApiError::TooManyAttempts(wait.as_secs_f64().ceil() as u64))?;
    let give_back = || guard.addresses.give_back(&addr, Instant::now());
    let now = jiff::Timestamp::now();
    let lock_end = stamp(now + jiff::SignedDuration::from_mins(policy.lockout_minutes as i64));
    let threshold = policy.lockout_threshold as i64;
    let number = match api.store.reserve_attempt(&email, &addr, threshold, &stamp(now), &lock_end) {
        Ok(Attempt::Counted(n)) => n,
        Ok(Attempt::Locked(until)) => {
            audit_attempt(api, &email, &addr, "locked: not checked");
            return Err(ApiError::Locked(until));
        }
        Err(e) => {
            give_back();
            return Err(e.into());
        }
    };
    let checked = guard.checks.run(|| -> ApiResult<(Option<Credentials>, bool)> {
        Ok(match api.store.credentials(&email)? {
            Some(c) => {
                let right = auth::verify_password(password, &c.password_hash);
                (Some(c), right)
            }
            None => {
                auth::burn_verification();
                (None, false)
            }
        })
    });
    let (found, right) = match checked {
        Ok(Ok(v)) => v,
        // Never checked: the attempt is not held against anyone.
        unchecked => {
            if let Err(e) = api.store.attempt_returned(&email, &addr) {
                tracing::error!(error = %e, "giving back a sign-in attempt that was not checked");
            }
            give_back();
            return Err(match unchecked {
                Ok(Err(e)) => e,
                _ => ApiError::Busy(1),
            });
        }
    };
    match found {
        Some(c) if right => {
            api.store.attempt_succeeded(&email, &addr, number)?;
            give_back();
            Ok(Proof::Right(c))
        }
        _ => {
            let locked = api.store.attempt_failed(&email, &addr, threshold, &lock_end)?;
            let what = if found.is_some() { "wrong password" } else { "unknown email" };
            audit_attempt(api, &email, &addr, &if locked.is_some() { format!("{what}; locked") } else { what.to_string() });
            match locked {
                Some(until) => Err(ApiError::Locked(until)),
                None => Ok(Proof::Wrong),
            }
        }
    }
}

/// A failed or refused password proof in the activity log: under the user (and their
/// tenant) when the account exists, under the email as typed when not.
fn audit_attempt(api: &Api, email: &str, addr: &str, what: &str) {
    let (tenant, object) = match api.store.credentials(email) {
        Ok(Some(c)) => (c.tenant_id.map(TenantId), format!("users/{}", c.id)),
        _ => (None, format!("email:{}", email.chars().take(100).collect::<String>())),
    };
    audit(api, None, tenant, "login_failed", object, format!("{what}; address {addr}"));
}

/// Checks email and password ([`prove_password`]), then that the account is enabled and
/// its password not expired; the user's id. Unknown email and wrong password answer alike.
fn check_credentials(api: &Api, req: &Req, email: &str, password: &str, allow_expired: bool) -> ApiResult<i64> {
    let policy = &api.cfg.password_policy;
    let c = match prove_password(api, req, email, password)? {
        Proof::Right(c) => c,
        Proof::Wrong => return Err(ApiError::Unauthorized("wrong email or password")),
    };
    if !c.enabled {
        return Err(ApiError::forbidden("this account is disabled"));
    }
    if policy.max_age_days > 0 && !allow_expired {
        let now = jiff::Timestamp::now();
        let changed = parse_time(&c.password_changed_at).unwrap_or(now);
        if now.duration_since(changed) > jiff::SignedDuration::from_hours(24 * policy.max_age_days as i64) {
            return Err(ApiError::PasswordExpired);
        }
    }
    Ok(c.id)
}

pub fn login(api: &Api, req: &Req) -> ApiResult<Reply> {
    let b: Login = req.parse()?;
    let id = check_credentials(api, req, &b.email, &b.password, false)?;
    let p = api.store.principal(id)?.ok_or(ApiError::Unauthorized("wrong email or password"))?;
    audit(api, Some(&p), None, "login", format!("users/{id}"), String::new());
    Reply::ok(new_session(api, &p)?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Refresh {
    refresh_token: String,
}

/// Rotates: the refresh token is spent and a new one comes with the access token. A spent
/// refresh token presented again means it was copied: the whole session is revoked, so
/// neither its holder nor the thief can go on with it.
pub fn refresh(api: &Api, req: &Req) -> ApiResult<Reply> {
    let b: Refresh = req.parse()?;
    let bad = || ApiError::Unauthorized("the refresh token is invalid, expired or revoked; sign in again");
    let claims = api.keys.verify(&b.refresh_token, TokenKind::Refresh).ok_or_else(bad)?;
    let id: i64 = claims.sub.parse().map_err(|_| bad())?;
    let p = api.store.principal(id)?.ok_or_else(bad)?;
    if !p.enabled || p.token_version != claims.ver {
        return Err(bad());
    }
    let next = new_id();
    match api.store.rotate_session(&claims.sid, id, &claims.jti, &next, &secs_from_now(api.cfg.refresh_token_secs))? {
        Rotation::Rotated => Reply::ok(tokens_reply(api, &p, &claims.sid, &next)),
        Rotation::Reused => {
            tracing::warn!(user = id, session = %claims.sid, "a spent refresh token was presented again: the session is revoked");
            audit(api, Some(&p), None, "session_revoked", format!("users/{id}"), "a spent refresh token was presented again".into());
            Err(bad())
        }
        Rotation::Gone => Err(bad()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeExpired {
    email: String,
    current_password: String,
    new_password: String,
}

pub(super) fn set_new_password(api: &Api, user: i64, current: &str, new: &str) -> ApiResult<()> {
    api.cfg.password_policy.check(new).map_err(|m| ApiError::invalid("new_password", m))?;
    if current == new {
        return Err(ApiError::invalid("new_password", "must differ from the current password"));
    }
    api.store.set_password(user, &hash_bounded(api, new)?)?;
    Ok(())
}

/// An argon2 hash, computed in one of the password check slots: hashing costs what
/// checking does.
pub(super) fn hash_bounded(api: &Api, pw: &str) -> ApiResult<String> {
    api.sign_in.checks.run(|| auth::hash_password(pw)).map_err(|_| ApiError::Busy(1))
}

pub fn change_expired_password(api: &Api, req: &Req) -> ApiResult<Reply> {
    let b: ChangeExpired = req.parse()?;
    let id = check_credentials(api, req, &b.email, &b.current_password, true)?;
    set_new_password(api, id, &b.current_password, &b.new_password)?;
    let p = api.store.principal(id)?.ok_or(ApiError::NotFound)?;
    audit(api, Some(&p), None, "password_change", format!("users/{id}"), String::new());
    Reply::ok(new_session(api, &p)?)
}
