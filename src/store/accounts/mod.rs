//! Users, their credentials and login state, permissions and slot allocations.
//!
//! Passwords arrive here already hashed (argon2, by the API's auth module). Failed password
//! proofs are counted per account and client address, and sessions (refresh token families)
//! are rows, so both survive a restart.
//!
//! Here: users (rows, permissions, slot allocations, create/change/delete) and the
//! principal a request acts as; signing in and sessions in `sign_in`, a user's own view in
//! `own`.

mod own;
mod sign_in;

pub use own::*;
pub use sign_in::*;

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
}

impl Store {
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
}
