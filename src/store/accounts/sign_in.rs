//! Signing in, as the store keeps it: the credentials a login checks, failed proofs counted
//! per account and client address (so a lock survives a restart and parallel guesses are
//! counted before they are checked), password changes, and sessions (refresh token families).

use rusqlite::OptionalExtension;

use crate::access::Role;
use crate::store::{Result, Store};

/// What login needs to see about a user.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub id: i64,
    pub tenant_id: Option<i64>,
    pub role: Role,
    pub password_hash: String,
    pub password_changed_at: String,
    pub enabled: bool,
}

/// The answer to [`Store::reserve_attempt`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// Go on and check the password: the attempt is already counted as a failure, under
    /// this number (1 for the first since the last success).
    Counted(i64),
    /// Refused unchecked: the account is locked for this address until then (or enough
    /// attempts are already being checked to lock it).
    Locked(String),
}

/// The answer to [`Store::rotate_session`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation {
    /// The presented refresh token was the family's newest: the next one is recorded.
    Rotated,
    /// A spent refresh token came back: the family is revoked now.
    Reused,
    /// No such live family (expired, revoked before, another user's).
    Gone,
}

impl Store {
    pub fn credentials(&self, email: &str) -> Result<Option<Credentials>> {
        let c = self.conn()?;
        let row = c
            .prepare_cached("SELECT id, tenant_id, role, password_hash, password_changed_at, enabled FROM users WHERE email = ?1")?
            .query_row([email], |r| {
                Ok(Credentials {
                    id: r.get(0)?,
                    tenant_id: r.get(1)?,
                    role: Role::parse(&r.get::<_, String>(2)?).unwrap_or(Role::EndUser),
                    password_hash: r.get(3)?,
                    password_changed_at: r.get(4)?,
                    enabled: r.get::<_, i64>(5)? != 0,
                })
            })
            .optional()?;
        Ok(row)
    }

    /// Counts an attempt to prove the password of `email` from `address` before it is
    /// checked, in one write transaction: of any number of parallel attempts, at most
    /// `threshold` get [`Attempt::Counted`] before the account locks for that address.
    /// `threshold` 0 never locks (nothing is counted). `now` and `expires` (the lockout
    /// period from now) are RFC 3339 times as stored. The email is the one typed, known to
    /// the store or not: an unknown account is counted and locked alike.
    pub fn reserve_attempt(&self, email: &str, address: &str, threshold: i64, now: &str, expires: &str) -> Result<Attempt> {
        self.write(|tx| {
            // Forgotten rows go first (cheap: the expiry index); what is left is current.
            tx.prepare_cached("DELETE FROM login_attempts WHERE expires_at <= ?1")?.execute([now])?;
            if threshold <= 0 {
                return Ok(Attempt::Counted(0));
            }
            let row: Option<(i64, Option<String>)> = tx
                .prepare_cached("SELECT failures, locked_until FROM login_attempts WHERE email = ?1 AND address = ?2")?
                .query_row((email, address), |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            match row {
                Some((_, Some(until))) => Ok(Attempt::Locked(until)),
                // Enough attempts are out being checked to lock the account if they fail.
                Some((failures, None)) if failures >= threshold => Ok(Attempt::Locked(expires.to_string())),
                _ => {
                    let n = tx
                        .prepare_cached(
                            "INSERT INTO login_attempts (email, address, failures, expires_at) VALUES (?1, ?2, 1, ?3)
                             ON CONFLICT (email, address) DO UPDATE SET failures = failures + 1, expires_at = excluded.expires_at
                             RETURNING failures",
                        )?
                        .query_row((email, address, expires), |r| r.get(0))?;
                    Ok(Attempt::Counted(n))
                }
            }
        })
    }

    /// The counted attempt `number` proved the password: it and every failure counted
    /// before it are cleared, and any lock lifted; attempts counted after it (still being
    /// checked) stay counted.
    pub fn attempt_succeeded(&self, email: &str, address: &str, number: i64) -> Result<()> {
        self.conn()?
            .prepare_cached("UPDATE login_attempts SET failures = MAX(0, failures - ?3), locked_until = NULL WHERE email = ?1 AND address = ?2")?
            .execute((email, address, number))?;
        Ok(())
    }

    /// A counted attempt was never checked (the server was too busy): it is given back.
    pub fn attempt_returned(&self, email: &str, address: &str) -> Result<()> {
        self.conn()?
            .prepare_cached("UPDATE login_attempts SET failures = MAX(0, failures - 1) WHERE email = ?1 AND address = ?2")?
            .execute((email, address))?;
        Ok(())
    }

    /// A counted attempt failed. When `threshold` failures are counted the account locks
    /// for this address until `lock_until`. The end of the lock that holds now, if any (set
    /// by this failure, or by a parallel one a moment before).
    pub fn attempt_failed(&self, email: &str, address: &str, threshold: i64, lock_until: &str) -> Result<Option<String>> {
        if threshold <= 0 {
            return Ok(None);
        }
        self.write(|tx| {
            tx.prepare_cached(
                "UPDATE login_attempts SET locked_until = ?4, expires_at = ?4, failures = 0
                 WHERE email = ?1 AND address = ?2 AND failures >= ?3 AND locked_until IS NULL",
            )?
            .execute((email, address, threshold, lock_until))?;
            Ok(tx
                .prepare_cached("SELECT locked_until FROM login_attempts WHERE email = ?1 AND address = ?2")?
                .query_row((email, address), |r| r.get(0))
                .optional()?
                .flatten())
        })
    }

    /// Sets a new password hash and revokes every token issued before.
    pub fn set_password(&self, user: i64, hash: &str) -> Result<()> {
        let now = crate::store::now();
        self.conn()?.execute(
            "UPDATE users SET password_hash = ?2, password_changed_at = ?3, updated_at = ?3, token_version = token_version + 1 WHERE id = ?1",
            (user, hash, &now),
        )?;
        Ok(())
    }

    /// Records a sign-in: a new family whose one usable refresh token is `refresh_id`.
    /// Families past their expiry are deleted on the way (their tokens have expired too).
    pub fn create_session(&self, id: &str, user: i64, refresh_id: &str, expires: &str) -> Result<()> {
        let now = crate::store::now();
        self.write(|tx| {
            tx.prepare_cached("DELETE FROM sessions WHERE expires_at <= ?1")?.execute([&now])?;
            tx.prepare_cached("INSERT INTO sessions (id, user_id, refresh_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)")?
                .execute((id, user, refresh_id, &now, expires))?;
            Ok(())
        })
    }

    /// Spends the refresh token `presented` of family `id`: when it is the family's newest,
    /// `next` becomes the one usable token (until `expires`); when it was spent before, the
    /// family is revoked. One transaction: of two uses of the same token, one rotates and
    /// the other is a reuse.
    pub fn rotate_session(&self, id: &str, user: i64, presented: &str, next: &str, expires: &str) -> Result<Rotation> {
        let now = crate::store::now();
        self.write(|tx| {
            let row: Option<(String, Option<String>)> = tx
                .prepare_cached("SELECT refresh_id, revoked_at FROM sessions WHERE id = ?1 AND user_id = ?2 AND expires_at > ?3")?
                .query_row((id, user, &now), |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            match row {
                None | Some((_, Some(_))) => Ok(Rotation::Gone),
                Some((current, None)) if current != presented => {
                    tx.prepare_cached("UPDATE sessions SET revoked_at = ?2 WHERE id = ?1")?.execute((id, &now))?;
                    Ok(Rotation::Reused)
                }
                Some(_) => {
                    tx.prepare_cached("UPDATE sessions SET refresh_id = ?2, expires_at = ?3 WHERE id = ?1")?.execute((id, next, expires))?;
                    Ok(Rotation::Rotated)
                }
            }
        })
    }

    /// Whether family `id` of `user` is live (not revoked, not expired).
    pub fn session_live(&self, id: &str, user: i64) -> Result<bool> {
        Ok(self
            .conn()?
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM sessions WHERE id = ?1 AND user_id = ?2 AND revoked_at IS NULL AND expires_at > ?3)")?
            .query_row((id, user, crate::store::now()), |r| r.get(0))?)
    }
}
