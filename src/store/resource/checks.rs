//! Body checks: a whole body against its resource's description (read-only, required and
//! unknown fields, child lists), references to other rows of the same tenant, dialable
//! numbers unique across the tenant, and constraint errors named by field.

use rusqlite::types::Value as Sql;
use rusqlite::{Connection, OptionalExtension};
use serde_json::{Map, Value};

use crate::pbx::destination::Destination;
use crate::store::{validate, Result, StoreError, TenantId};

use super::values::value_in;
use super::*;

// ---- body checks ------------------------------------------------------------------------

/// A checked body: column values and child lists, ready to write.
pub(super) struct Checked {
    pub(super) values: Vec<(&'static Field, Sql)>,
    pub(super) children: Vec<(&'static Child, Vec<Vec<Sql>>)>,
}

pub(super) fn check_body(r: &Resource, body: &Map<String, Value>, creating: bool) -> Result<Checked> {
    let mut errors: Vec<(String, String)> = Vec::new();
    let mut values = Vec::new();
    let mut children = Vec::new();
    for (k, v) in body {
        if let Some(f) = r.field(k) {
            match value_in(f, v) {
                Ok(s) => values.push((f, s)),
                Err(m) => errors.push((k.clone(), m)),
            }
        } else if let Some(c) = r.children.iter().find(|c| c.key == k) {
            match child_rows(c, v) {
                Ok(rows) => children.push((c, rows)),
                Err((field, m)) => errors.push((field, m)),
            }
        } else if READ_ONLY.contains(&k.as_str()) || r.fields.iter().any(|f| f.kind == Kind::Secret && *k == format!("{}_set", f.name)) {
            // Echoed from a GET: ignored.
        } else {
            errors.push((k.clone(), "unknown field".into()));
        }
    }
    if creating {
        for f in r.fields {
            if !body.contains_key(f.name) {
                if matches!(f.kind, Kind::SipPassword | Kind::UrlSecret) {
                    values.push((f, Sql::Text(validate::generate_secret())));
                } else if f.required {
                    errors.push((f.name.into(), "required".into()));
                }
            }
        }
    }
    // A SIP password sent empty is generated too.
    for (f, v) in values.iter_mut() {
        if matches!(f.kind, Kind::SipPassword | Kind::UrlSecret) && matches!(v, Sql::Text(s) if s.is_empty()) {
            *v = Sql::Text(validate::generate_secret());
        }
    }
    if !errors.is_empty() {
        return Err(StoreError::Fields(errors));
    }
    Ok(Checked { values, children })
}

fn child_rows(c: &'static Child, v: &Value) -> std::result::Result<Vec<Vec<Sql>>, (String, String)> {
    let items = v.as_array().ok_or_else(|| (c.key.to_string(), "must be a list".to_string()))?;
    if items.len() > c.max {
        return Err((c.key.into(), format!("at most {} entries", c.max)));
    }
    let mut rows = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let o = item.as_object().ok_or_else(|| (format!("{}[{i}]", c.key), "must be an object".to_string()))?;
        if let Some(k) = o.keys().find(|k| !c.fields.iter().any(|f| f.name == k.as_str())) {
            return Err((format!("{}[{i}].{k}", c.key), "unknown field".into()));
        }
        let mut row = Vec::with_capacity(c.fields.len());
        for f in c.fields {
            let at = |m: String| (format!("{}[{i}].{}", c.key, f.name), m);
            match o.get(f.name) {
                Some(v) => row.push(value_in(f, v).map_err(at)?),
                None if f.required => return Err(at("required".into())),
                None => row.push(default_of(f)),
            }
        }
        rows.push(row);
    }
    Ok(rows)
}

fn default_of(f: &Field) -> Sql {
    match f.kind {
        Kind::Int(min, _) => Sql::Integer(min.max(0)),
        Kind::Money | Kind::Capacity(_) | Kind::Bool => Sql::Integer(0),
        _ if f.nullable => Sql::Null,
        _ => Sql::Text(String::new()),
    }
}

/// Every reference in the checked values points at a row that exists in `tenant`.
pub(super) fn check_refs(c: &Connection, tenant: Option<TenantId>, fields: &[(&'static Field, Sql)], at: &dyn Fn(&Field) -> String) -> Result<()> {
    for (f, v) in fields {
        let missing = |what: &str| StoreError::invalid(&at(f), format!("no such {what} in this tenant"));
        match (f.kind, v) {
            (_, Sql::Null) => {}
            (Kind::Ref(table), Sql::Integer(id)) => {
                if !row_exists(c, table, tenant, *id)? {
                    return Err(missing(table.trim_end_matches('s')));
                }
            }
            (Kind::GlobalRef(table), Sql::Integer(id)) => {
                if !row_exists(c, table, None, *id)? {
                    return Err(StoreError::invalid(&at(f), format!("no such {}", table.trim_end_matches('s'))));
                }
            }
            (Kind::UserRef, Sql::Integer(id)) => {
                if !row_exists(c, "users", tenant, *id)? {
                    return Err(missing("user"));
                }
            }
            (Kind::Sound, Sql::Text(s)) => {
                if let Some(id) = crate::store::sounds::sound_ref(s) {
                    if !row_exists(c, "sounds", tenant, id)? {
                        return Err(missing("recording"));
                    }
                }
            }
            (Kind::TenantRef, Sql::Integer(id)) => {
                let found: Option<i64> = c.query_row("SELECT id FROM tenants WHERE id = ?1", [id], |r| r.get(0)).optional()?;
                if found.is_none() {
                    return Err(StoreError::invalid(&at(f), "no such tenant"));
                }
            }
            (Kind::Destination, Sql::Text(s)) => {
                let d: Destination = serde_json::from_str(s).map_err(|e| StoreError::invalid(&at(f), e.to_string()))?;
                if let Some((table, id)) = d.target() {
                    let exists = match d {
                        Destination::Fax { .. } => tenant.is_some_and(|t| {
                            c.query_row("SELECT 1 FROM extensions WHERE id = ?1 AND tenant_id = ?2 AND type = 'fax'", (id, t.0), |_| Ok(()))
                                .optional()
                                .ok()
                                .flatten()
                                .is_some()
                        }),
                        _ => row_exists(c, table, tenant, id)?,
                    };
                    if !exists {
                        return Err(StoreError::invalid(&at(f), format!("destination {} {id} does not exist in this tenant", d_type(&d))));
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn d_type(d: &Destination) -> String {
    serde_json::to_value(d).ok().and_then(|v| v["type"].as_str().map(String::from)).unwrap_or_default()
}

fn row_exists(c: &Connection, table: &str, tenant: Option<TenantId>, id: i64) -> Result<bool> {
    let found = match tenant {
        Some(t) => c.query_row(&format!("SELECT 1 FROM {table} WHERE id = ?1 AND tenant_id = ?2"), (id, t.0), |_| Ok(())).optional()?,
        None => c.query_row(&format!("SELECT 1 FROM {table} WHERE id = ?1"), [id], |_| Ok(())).optional()?,
    };
    Ok(found.is_some())
}

/// Tables whose `number` shares one dial plan per tenant: dialing 2000 must mean one thing.
const DIALABLE: &[(&str, &str)] = &[
    ("extensions", "extension"),
    ("ring_groups", "ring group"),
    ("ivr_menus", "IVR menu"),
    ("call_queues", "call queue"),
    ("conferences", "conference"),
];

pub(super) fn check_dialable(c: &Connection, r: &Resource, tenant: TenantId, self_id: Option<i64>, values: &[(&'static Field, Sql)]) -> Result<()> {
    for (f, v) in values.iter().filter(|(f, _)| f.dialable) {
        let Sql::Text(number) = v else { continue };
        for (table, title) in DIALABLE {
            let hit: Option<i64> =
                c.query_row(&format!("SELECT id FROM {table} WHERE tenant_id = ?1 AND number = ?2"), (tenant.0, number), |r| r.get(0)).optional()?;
            if let Some(id) = hit {
                if *table != r.table || Some(id) != self_id {
                    return Err(StoreError::Conflict { field: Some(f.name.into()), message: format!("{number} is already used by {title} {id}") });
                }
            }
        }
    }
    Ok(())
}

/// A [`Field::sole`] flag set on this row is cleared on the others of the tenant with the
/// same owner (`owner`: the row's user, None for the tenant's own rows): a user's default
/// is theirs, and never clears the one an admin set for the tenant.
pub(super) fn clear_sole(
    c: &Connection,
    r: &Resource,
    tenant: TenantId,
    self_id: Option<i64>,
    owner: Option<i64>,
    values: &[(&'static Field, Sql)],
) -> Result<()> {
    for (f, v) in values.iter().filter(|(f, _)| f.sole) {
        if matches!(v, Sql::Integer(1)) {
            c.execute(
                &format!("UPDATE {} SET {} = 0 WHERE tenant_id = ?1 AND id IS NOT ?2 AND owner_user_id IS ?3", r.table, f.name),
                (tenant.0, self_id, owner),
            )?;
        }
    }
    Ok(())
}

/// Turns a constraint failure into the API's conflict (the column in SQLite's message names
/// the field).
pub(crate) fn constraint(e: rusqlite::Error, what: &str) -> StoreError {
    if let rusqlite::Error::SqliteFailure(err, Some(msg)) = &e {
        if err.code == rusqlite::ErrorCode::ConstraintViolation {
            if let Some(cols) = msg.strip_prefix("UNIQUE constraint failed: ") {
                let field = cols.rsplit(", ").next().and_then(|c| c.rsplit('.').next()).unwrap_or("").to_string();
                return StoreError::Conflict { message: format!("another {what} already has this {field}"), field: Some(field) };
            }
            if msg.contains("FOREIGN KEY") {
                return StoreError::Conflict { field: None, message: format!("this {what} is still in use") };
            }
            return StoreError::Conflict { field: None, message: format!("{what}: {msg}") };
        }
    }
    StoreError::Db(e)
}
