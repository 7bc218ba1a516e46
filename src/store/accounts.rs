//! Users, their credentials and login state, permissions and slot allocations.
//!
//! Passwords arrive here already hashed (argon2, by the API's auth module). Failed password
//! proofs are counted per account and client address, and sessions (refresh token families)
//! are rows, so both survive a restart.

use std::collections::BTreeMap;

use rusqlite::types::Value as Sql;
use rusqlite::{params_from_iter, Connection, OptionalExtension};
use serde::Serialize;

use super::billing::Slot;
use super::resource::{ListQuery, Page, Within, MAX_PER_PAGE};
use super::{Result, Store, StoreError, TenantId};
use crate::access::{self, Role, Tokens};

#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: i64,
    pub tenant_id: Option<i64>,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub permissions: Vec<&'static str>,
    pub fax_email: String,
    pub enabled: bool,
    pub password_changed_at: String,
    pub allocations: BTreeMap<&'static str, i64>,
    pub created_at: String,
    pub updated_at: String,
}

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

/// An extension assigned to a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnExtension {
    pub id: i64,
    pub number: String,
}

/// The user behind a token, read fresh on every request so that a disabled user, a revoked
/// token or a changed permission takes effect at once.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: i64,
    pub email: String,
    pub tenant: Option<TenantId>,
    pub role: Role,
    /// The user's own grants, already limited to the tenant's.
    pub permissions: Tokens,
    /// What the tenant holds (tenant admins act with these).
    pub tenant_permissions: Tokens,
    pub token_version: i64,
    pub enabled: bool,
}

pub struct NewUser {
    pub tenant: Option<TenantId>,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub password_hash: String,
    pub permissions: Tokens,
    pub fax_email: String,
}

#[derive(Default)]
pub struct UserChanges {
    pub email: Option<String>,
    pub name: Option<String>,
    pub role: Option<Role>,
    pub permissions: Option<Tokens>,
    pub fax_email: Option<String>,
    pub enabled: Option<bool>,
    pub allocations: Option<BTreeMap<Slot, i64>>,
}

fn tokens_of(json: &str) -> Tokens {
    let names: Vec<String> = serde_json::from_str(json).unwrap_or_default();
    names.iter().filter_map(|n| access::Token::parse(n)).collect()
}

fn tokens_json(t: &Tokens) -> String {
    serde_json::to_string(&access::names(t)).expect("names serialise")
}

const USER_COLS: &str = "id, tenant_id, email, name, role, permissions, fax_email, enabled, password_changed_at, created_at, updated_at";

fn user_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    let perms: String = r.get(5)?;
    Ok(User {
        id: r.get(0)?,
        tenant_id: r.get(1)?,
        email: r.get(2)?,
        name: r.get(3)?,
        role: Role::parse(&r.get::<_, String>(4)?).unwrap_or(Role::EndUser),
        permissions: access::names(&tokens_of(&perms)),
        fax_email: r.get(6)?,
        enabled: r.get::<_, i64>(7)? != 0,
        password_changed_at: r.get(8)?,
        allocations: BTreeMap::new(),
        created_at: r.get(9)?,
        updated_at: r.get(10)?,
    })
}

fn load_allocations(c: &Connection, users: &mut [User]) -> Result<()> {
    let mut st = c.prepare_cached("SELECT slot, amount FROM user_allocations WHERE user_id = ?1")?;
    for u in users {
        let rows = st.query_map([u.id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        for row in rows {
            let (slot, amount) = row?;
            if let Some(s) = Slot::parse(&slot) {
                u.allocations.insert(s.name(), amount);
            }
        }
    }
    Ok(())
}

/// How many `slot` objects the user may create (0 when nothing was allocated).
pub fn allocation(c: &Connection, user: i64, slot: Slot) -> Result<i64> {
    Ok(c.query_row("SELECT amount FROM user_allocations WHERE user_id = ?1 AND slot = ?2", (user, slot.name()), |r| r.get(0))
        .optional()?
        .unwrap_or(0))
}

pub fn tenant_permissions(c: &Connection, tenant: TenantId) -> Result<Tokens> {
    let json: Option<String> = c.query_row("SELECT permissions FROM tenants WHERE id = ?1", [tenant.0], |r| r.get(0)).optional()?;
    Ok(tokens_of(&json.ok_or(StoreError::NotFound)?))
}

fn check_user_permissions(c: &Connection, tenant: Option<TenantId>, perms: &Tokens) -> Result<()> {
    let Some(t) = tenant else { return Ok(()) };
    let held = tenant_permissions(c, t)?;
    if let Some(missing) = perms.iter().find(|p| !held.contains(p)) {
        return Err(StoreError::invalid("permissions", format!("the tenant does not hold {:?}", missing.as_str())));
    }
    Ok(())
}

/// Allocations may not promise more than the package leaves: the sum over the tenant's
/// users stays within the package limit.
fn set_allocations(c: &Connection, tenant: TenantId, user: i64, alloc: &BTreeMap<Slot, i64>) -> Result<()> {
    for (slot, amount) in alloc {
        if *amount < 0 {
            return Err(StoreError::invalid(&format!("allocations.{}", slot.name()), "must not be negative"));
        }
        if let Some((package, limit)) = super::billing::package_limit(c, tenant, *slot)? {
            let others: i64 = c.query_row(
                "SELECT COALESCE(SUM(a.amount), 0) FROM user_allocations a JOIN users u ON u.id = a.user_id
                 WHERE u.tenant_id = ?1 AND a.slot = ?2 AND a.user_id <> ?3",
                (tenant.0, slot.name(), user),
                |r| r.get(0),
            )?;
            if others + amount > limit {
                return Err(StoreError::Limit {
                    limit: slot.name().into(),
                    message: format!(
                        "{} allocation {amount} is more than package {package:?} leaves unallocated ({} of {limit})",
                        slot.title(),
                        (limit - others).max(0)
                    ),
                });
            }
        }
        c.execute(
            "INSERT INTO user_allocations (user_id, slot, amount) VALUES (?1, ?2, ?3) ON CONFLICT (user_id, slot) DO UPDATE SET amount = excluded.amount",
            (user, slot.name(), amount),
        )?;
    }
    Ok(())
}

fn get_user(c: &Connection, within: Within, id: i64) -> Result<User> {
    let mut u = match within {
        Within::Tenant(t) => c.query_row(&format!("SELECT {USER_COLS} FROM users WHERE id = ?1 AND tenant_id = ?2"), (id, t.0), user_row),
        Within::Everything => c.query_row(&format!("SELECT {USER_COLS} FROM users WHERE id = ?1"), [id], user_row),
    }
    .optional()?
    .ok_or(StoreError::NotFound)?;
    load_allocations(c, std::slice::from_mut(&mut u))?;
    Ok(u)
}

impl Store {
    pub fn create_user(&self, new: &NewUser, allocations: &BTreeMap<Slot, i64>) -> Result<User> {
        self.write(|tx| {
            if (new.role == Role::SuperAdmin) != new.tenant.is_none() {
                return Err(StoreError::invalid("tenant_id", "super admins have no tenant; every other role needs one"));
            }
            check_user_permissions(tx, new.tenant, &new.permissions)?;
            let now = super::now();
            tx.execute(
                "INSERT INTO users (tenant_id, email, name, role, password_hash, password_changed_at, permissions, fax_email, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?6, ?6)",
                (
                    new.tenant.map(|t| t.0),
                    &new.email,
                    &new.name,
                    new.role.as_str(),
                    &new.password_hash,
                    &now,
                    tokens_json(&new.permissions),
                    &new.fax_email,
                ),
            )
            .map_err(|e| super::resource::constraint(e, "user"))?;
            let id = tx.last_insert_rowid();
            if let Some(t) = new.tenant {
                set_allocations(tx, t, id, allocations)?;
            }
            get_user(tx, Within::Everything, id)
        })
    }

    pub fn user(&self, within: Within, id: i64) -> Result<User> {
        get_user(&*self.conn()?, within, id)
    }

    pub fn users(&self, within: Within, q: &ListQuery) -> Result<Page> {
        let c = self.conn()?;
        let mut w = super::Where::new();
        if let Within::Tenant(t) = within {
            w.and("tenant_id =", Sql::Integer(t.0));
        }
        for (k, v) in &q.filters {
            match k.as_str() {
                "role" => w.and("role =", Sql::Text(v.clone())),
                "tenant_id" => w.and("tenant_id =", Sql::Integer(v.parse().map_err(|_| StoreError::invalid("tenant_id", "must be a whole number"))?)),
                _ => return Err(StoreError::invalid(k, "not a filter of this list")),
            }
        }
        if let Some(text) = q.q.as_deref().filter(|s| !s.is_empty()) {
            w.and_raw(|n| format!("email LIKE ?{n} ESCAPE '\\' OR name LIKE ?{n} ESCAPE '\\'"), vec![Sql::Text(super::like_pattern(text))]);
        }
        w.page(&c, "users", USER_COLS, "email", q.page, q.per_page.clamp(1, MAX_PER_PAGE), |r| {
            let mut u = user_row(r)?;
            load_allocations(&c, std::slice::from_mut(&mut u)).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
            Ok(serde_json::to_value(u).expect("user serialises"))
        })
    }

    pub fn update_user(&self, within: Within, id: i64, ch: &UserChanges) -> Result<User> {
        self.write(|tx| {
            let before = get_user(tx, within, id)?;
            let tenant = before.tenant_id.map(TenantId);
            if let Some(role) = ch.role {
                if (role == Role::SuperAdmin) != tenant.is_none() {
                    return Err(StoreError::invalid("role", "a tenant's user cannot become a super admin, nor the other way round"));
                }
            }
            let mut sets: Vec<String> = Vec::new();
            let mut args: Vec<Sql> = Vec::new();
            let mut set = |col: &str, v: Sql| {
                args.push(v);
                sets.push(format!("{col} = ?{}", args.len()));
            };
            if let Some(v) = &ch.email {
                set("email", Sql::Text(v.clone()));
            }
            if let Some(v) = &ch.name {
                set("name", Sql::Text(v.clone()));
            }
            if let Some(v) = ch.role {
                set("role", Sql::Text(v.as_str().into()));
            }
            if let Some(p) = &ch.permissions {
                let before_tokens: Tokens = before.permissions.iter().filter_map(|n| access::Token::parse(n)).collect();
                let p = access::cascade(&before_tokens, p);
                check_user_permissions(tx, tenant, &p)?;
                set("permissions", Sql::Text(tokens_json(&p)));
            }
            if let Some(v) = &ch.fax_email {
                set("fax_email", Sql::Text(v.clone()));
            }
            if let Some(v) = ch.enabled {
                set("enabled", Sql::Integer(v as i64));
            }
            set("updated_at", Sql::Text(super::now()));
            // Disabling a user ends the sessions they hold.
            if ch.enabled == Some(false) {
                sets.push("token_version = token_version + 1".into());
            }
            args.push(Sql::Integer(id));
            tx.execute(&format!("UPDATE users SET {} WHERE id = ?{}", sets.join(", "), args.len()), params_from_iter(args.iter()))
                .map_err(|e| super::resource::constraint(e, "user"))?;
            if let (Some(a), Some(t)) = (&ch.allocations, tenant) {
                set_allocations(tx, t, id, a)?;
            }
            get_user(tx, Within::Everything, id)
        })
    }

    pub fn delete_user(&self, within: Within, id: i64) -> Result<User> {
        self.write(|tx| {
            let u = get_user(tx, within, id)?;
            if u.role == Role::SuperAdmin {
                let supers: i64 = tx.query_row("SELECT COUNT(*) FROM users WHERE role = 'super_admin' AND enabled = 1", [], |r| r.get(0))?;
                if supers <= 1 {
                    return Err(StoreError::Conflict { field: None, message: "the last super admin cannot be deleted".into() });
                }
            }
            tx.execute("DELETE FROM users WHERE id = ?1", [id]).map_err(|e| super::resource::constraint(e, "user"))?;
            Ok(u)
        })
    }

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
        let now = super::now();
        self.conn()?.execute(
            "UPDATE users SET password_hash = ?2, password_changed_at = ?3, updated_at = ?3, token_version = token_version + 1 WHERE id = ?1",
            (user, hash, &now),
        )?;
        Ok(())
    }

    /// Records a sign-in: a new family whose one usable refresh token is `refresh_id`.
    /// Families past their expiry are deleted on the way (their tokens have expired too).
    pub fn create_session(&self, id: &str, user: i64, refresh_id: &str, expires: &str) -> Result<()> {
        let now = super::now();
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
        let now = super::now();
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
            .query_row((id, user, super::now()), |r| r.get(0))?)
    }

    pub fn principal(&self, user: i64) -> Result<Option<Principal>> {
        let c = self.conn()?;
        let row = c
            .prepare_cached(
                "SELECT u.id, u.email, u.tenant_id, u.role, u.permissions, COALESCE(t.permissions, '[]'), u.token_version,
                        u.enabled AND COALESCE(t.enabled, 1)
                 FROM users u LEFT JOIN tenants t ON t.id = u.tenant_id WHERE u.id = ?1",
            )?
            .query_row([user], |r| {
                let own = tokens_of(&r.get::<_, String>(4)?);
                let tenant = tokens_of(&r.get::<_, String>(5)?);
                Ok(Principal {
                    user_id: r.get(0)?,
                    email: r.get(1)?,
                    tenant: r.get::<_, Option<i64>>(2)?.map(TenantId),
                    role: Role::parse(&r.get::<_, String>(3)?).unwrap_or(Role::EndUser),
                    permissions: own.intersection(&tenant).copied().collect(),
                    tenant_permissions: tenant,
                    token_version: r.get(6)?,
                    enabled: r.get::<_, i64>(7)? != 0,
                })
            })
            .optional()?;
        Ok(row)
    }

    pub fn token_version(&self, user: i64) -> Result<i64> {
        Ok(self.conn()?.query_row("SELECT token_version FROM users WHERE id = ?1", [user], |r| r.get(0))?)
    }

    pub fn tenant_permissions(&self, tenant: TenantId) -> Result<Tokens> {
        tenant_permissions(&*self.conn()?, tenant)
    }

    /// After a tenant loses tokens, its users lose them too.
    pub fn prune_user_permissions(&self, tenant: TenantId) -> Result<usize> {
        self.write(|tx| {
            let held = tenant_permissions(tx, tenant)?;
            let users: Vec<(i64, String)> = tx
                .prepare("SELECT id, permissions FROM users WHERE tenant_id = ?1")?
                .query_map([tenant.0], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            let mut changed = 0;
            for (id, json) in users {
                let own = tokens_of(&json);
                let kept: Tokens = own.intersection(&held).copied().collect();
                if kept != own {
                    tx.execute("UPDATE users SET permissions = ?2 WHERE id = ?1", (id, tokens_json(&kept)))?;
                    changed += 1;
                }
            }
            Ok(changed)
        })
    }

    pub fn user_count(&self) -> Result<i64> {
        Ok(self.conn()?.query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0))?)
    }

    /// The extensions assigned to a user (My Account), by number.
    pub fn extensions_of_user(&self, tenant: TenantId, user: i64) -> Result<Vec<OwnExtension>> {
        let c = self.conn()?;
        let rows = c
            .prepare_cached("SELECT id, number FROM extensions WHERE tenant_id = ?1 AND user_id = ?2 ORDER BY number")?
            .query_map((tenant.0, user), |r| Ok(OwnExtension { id: r.get(0)?, number: r.get(1)? }))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// The call queues an agent belongs to.
    pub fn queues_of_agent(&self, tenant: TenantId, user: i64) -> Result<Vec<i64>> {
        let c = self.conn()?;
        let ids = c
            .prepare_cached(
                "SELECT DISTINCT q.id FROM call_queues q JOIN call_queue_agents a ON a.parent_id = q.id WHERE q.tenant_id = ?1 AND a.user_id = ?2 ORDER BY q.id",
            )?
            .query_map((tenant.0, user), |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(ids)
    }

    /// Announcements for a role in a tenant (system-wide ones included), current at `now`.
    pub fn announcements_for(&self, tenant: Option<TenantId>, role: Role, now: &str) -> Result<Vec<serde_json::Value>> {
        let c = self.conn()?;
        let rows: Vec<(i64, String, String, String)> = c
            .prepare_cached(
                "SELECT id, title, body, roles FROM announcements
                 WHERE (tenant_id IS NULL OR tenant_id = ?1) AND (starts_at IS NULL OR starts_at <= ?2) AND (ends_at IS NULL OR ends_at > ?2)
                 ORDER BY id DESC LIMIT 50",
            )?
            .query_map((tenant.map(|t| t.0), now), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows
            .into_iter()
            .filter(|(_, _, _, roles)| {
                let roles: Vec<String> = serde_json::from_str(roles).unwrap_or_default();
                roles.is_empty() || roles.iter().any(|r| r == role.as_str())
            })
            .map(|(id, title, body, _)| serde_json::json!({ "id": id, "title": title, "body": body }))
            .collect())
    }

    /// The tenant's DIDs with the destination each is routed to (null when not routed).
    pub fn dids_with_routes(&self, tenant: TenantId) -> Result<Vec<serde_json::Value>> {
        let c = self.conn()?;
        let rows = c
            .prepare_cached(
                "SELECT d.id, d.number, d.description, r.id, r.destination FROM dids d LEFT JOIN inbound_routes r ON r.did_id = d.id AND r.tenant_id = d.tenant_id
                 WHERE d.tenant_id = ?1 ORDER BY d.number",
            )?
            .query_map([tenant.0], |r| {
                let dest: Option<String> = r.get(4)?;
                Ok(serde_json::json!({
                    "id": r.get::<_, i64>(0)?, "number": r.get::<_, String>(1)?, "description": r.get::<_, String>(2)?,
                    "inbound_route_id": r.get::<_, Option<i64>>(3)?,
                    "destination": dest.and_then(|d| serde_json::from_str::<serde_json::Value>(&d).ok()),
                }))
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }
}
