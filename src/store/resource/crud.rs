//! The generic CRUD engine: list (paged, searched, filtered), get, create, update and
//! delete of any described resource, tenant-scoped by [`Within`], with child lists, slot
//! allocations and referrers checked.

use rusqlite::types::Value as Sql;
use rusqlite::{params_from_iter, Connection, OptionalExtension};
use serde_json::{json, Map, Value};

use crate::pbx::destination::Destination;
use crate::store::{Result, Store, StoreError, TenantId};

use super::checks::{check_body, check_dialable, check_refs, clear_sole};
use super::values::value_out;
use super::*;

// ---- the operations ---------------------------------------------------------------------

/// Tables whose tenant-wide rows (made by an admin, no owner) every user of the tenant may
/// read beside their own, and use, but not change: the tenant's cover pages, which the
/// guides have end users choose on Send Fax.
const SHARED_WITH_USERS: &[&str] = &["fax_cover_pages"];

/// Tables whose rows are also read by the user they are assigned to (`user_id`), though an
/// admin made them: a user's own extension, which their pages list and their follow-me
/// picks; they change it through My Account, not here.
const ASSIGNED_TO_USERS: &[&str] = &["extensions"];

/// What a scope is for: reading (a list, one row) lets a user see the rows shared with them
/// or assigned to them; writing only the rows they made.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reach {
    Read,
    Write,
}

/// The rows `owner` may reach.
fn scope_sql(r: &Resource, within: Within, owner: Option<i64>, args: &mut Vec<Sql>, reach: Reach) -> String {
    let mut w = String::from("1=1");
    if let (Within::Tenant(t), Scope::Tenant | Scope::Assignable) = (within, r.scope) {
        args.push(Sql::Integer(t.0));
        w.push_str(&format!(" AND tenant_id = ?{}", args.len()));
    }
    if let (Some(u), true) = (owner, r.has_owner()) {
        args.push(Sql::Integer(u));
        let n = args.len();
        if reach == Reach::Read && SHARED_WITH_USERS.contains(&r.table) {
            w.push_str(&format!(" AND (owner_user_id = ?{n} OR owner_user_id IS NULL)"));
        } else if reach == Reach::Read && ASSIGNED_TO_USERS.contains(&r.table) {
            w.push_str(&format!(" AND (owner_user_id = ?{n} OR user_id = ?{n})"));
        } else {
            w.push_str(&format!(" AND owner_user_id = ?{n}"));
        }
    }
    w
}

fn row_json(r: &Resource, row: &rusqlite::Row<'_>) -> rusqlite::Result<Map<String, Value>> {
    let mut o = Map::new();
    let mut i = 0;
    let mut next = || {
        i += 1;
        i - 1
    };
    o.insert("id".into(), json!(row.get::<_, i64>(next())?));
    if r.scope == Scope::Tenant {
        o.insert("tenant_id".into(), json!(row.get::<_, i64>(next())?));
        o.insert("owner_user_id".into(), json!(row.get::<_, Option<i64>>(next())?));
    }
    for f in r.fields {
        let (k, v) = value_out(f, row.get::<_, Sql>(next())?);
        o.insert(k, v);
    }
    o.insert("created_at".into(), json!(row.get::<_, String>(next())?));
    o.insert("updated_at".into(), json!(row.get::<_, String>(next())?));
    Ok(o)
}

fn load_children(c: &Connection, r: &Resource, items: &mut [Map<String, Value>]) -> Result<()> {
    if r.children.is_empty() || items.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = items.iter().map(|o| o["id"].as_i64().unwrap_or(0)).collect();
    let marks = vec!["?"; ids.len()].join(",");
    for ch in r.children {
        let cols: Vec<&str> = ch.fields.iter().map(|f| f.name).collect();
        let sql = format!("SELECT parent_id, {} FROM {} WHERE parent_id IN ({marks}) ORDER BY parent_id, position", cols.join(", "), ch.table);
        let mut st = c.prepare_cached(&sql)?;
        let mut by_parent: std::collections::HashMap<i64, Vec<Value>> = std::collections::HashMap::new();
        let mut rows = st.query(params_from_iter(ids.iter()))?;
        while let Some(row) = rows.next()? {
            let mut o = Map::new();
            for (i, f) in ch.fields.iter().enumerate() {
                let (k, v) = value_out(f, row.get::<_, Sql>(i + 1)?);
                o.insert(k, v);
            }
            by_parent.entry(row.get(0)?).or_default().push(Value::Object(o));
        }
        for item in items.iter_mut() {
            let id = item["id"].as_i64().unwrap_or(0);
            item.insert(ch.key.into(), Value::Array(by_parent.remove(&id).unwrap_or_default()));
        }
    }
    Ok(())
}

fn get_in(c: &Connection, r: &Resource, within: Within, owner: Option<i64>, id: i64, reach: Reach) -> Result<Map<String, Value>> {
    let mut args = vec![Sql::Integer(id)];
    let w = scope_sql(r, within, owner, &mut args, reach);
    let sql = format!("SELECT {} FROM {} WHERE id = ?1 AND {w}", r.columns(), r.table);
    let row = c.prepare_cached(&sql)?.query_row(params_from_iter(args.iter()), |row| row_json(r, row)).optional()?;
    let mut items = vec![row.ok_or(StoreError::NotFound)?];
    load_children(c, r, &mut items)?;
    Ok(items.pop().expect("one item"))
}

fn write_children(c: &Connection, id: i64, children: &[(&'static Child, Vec<Vec<Sql>>)]) -> Result<()> {
    for (ch, rows) in children {
        c.execute(&format!("DELETE FROM {} WHERE parent_id = ?1", ch.table), [id])?;
        let cols: Vec<&str> = ch.fields.iter().map(|f| f.name).collect();
        let marks: Vec<String> = (0..cols.len()).map(|i| format!("?{}", i + 3)).collect();
        let sql = format!("INSERT INTO {} (parent_id, position, {}) VALUES (?1, ?2, {})", ch.table, cols.join(", "), marks.join(", "));
        let mut st = c.prepare_cached(&sql)?;
        for (pos, row) in rows.iter().enumerate() {
            let mut args = vec![Sql::Integer(id), Sql::Integer(pos as i64)];
            args.extend(row.iter().cloned());
            st.execute(params_from_iter(args.iter())).map_err(|e| constraint(e, ch.key.trim_end_matches('s')))?;
        }
    }
    Ok(())
}

fn check_child_refs(c: &Connection, tenant: Option<TenantId>, children: &[(&'static Child, Vec<Vec<Sql>>)]) -> Result<()> {
    for (ch, rows) in children {
        for (i, row) in rows.iter().enumerate() {
            let pairs: Vec<(&'static Field, Sql)> = ch.fields.iter().zip(row.iter().cloned()).collect();
            check_refs(c, tenant, &pairs, &|f| format!("{}[{i}].{}", ch.key, f.name))?;
        }
    }
    Ok(())
}

/// Objects whose destination fields point at `table`/`id` (which then must not be deleted).
fn referrers(c: &Connection, tenant: TenantId, table: &str, id: i64) -> Result<Option<String>> {
    let types = Destination::types_for_table(table);
    if types.is_empty() {
        return Ok(None);
    }
    let marks = types.iter().map(|t| format!("'{t}'")).collect::<Vec<_>>().join(",");
    for r in crate::store::resources::ALL.iter().filter(|r| r.scope == Scope::Tenant) {
        for f in r.fields.iter().filter(|f| f.kind == Kind::Destination) {
            let sql = format!(
                "SELECT id FROM {} WHERE tenant_id = ?1 AND json_extract({col}, '$.type') IN ({marks}) AND json_extract({col}, '$.id') = ?2 LIMIT 1",
                r.table,
                col = f.name
            );
            if let Some(rid) = c.query_row(&sql, (tenant.0, id), |row| row.get::<_, i64>(0)).optional()? {
                return Ok(Some(format!("{} {rid} ({})", r.title, f.name)));
            }
        }
        for ch in r.children {
            for f in ch.fields.iter().filter(|f| f.kind == Kind::Destination) {
                let sql = format!(
                    "SELECT p.id FROM {ct} c JOIN {pt} p ON p.id = c.parent_id WHERE p.tenant_id = ?1 \
                     AND json_extract(c.{col}, '$.type') IN ({marks}) AND json_extract(c.{col}, '$.id') = ?2 LIMIT 1",
                    ct = ch.table,
                    pt = r.table,
                    col = f.name
                );
                if let Some(rid) = c.query_row(&sql, (tenant.0, id), |row| row.get::<_, i64>(0)).optional()? {
                    return Ok(Some(format!("{} {rid} ({})", r.title, ch.key)));
                }
            }
        }
    }
    Ok(None)
}

fn tenant_of_row(c: &Connection, r: &Resource, id: i64) -> Result<Option<TenantId>> {
    if r.scope == Scope::Global {
        return Ok(None);
    }
    let t: Option<Option<i64>> = c.query_row(&format!("SELECT tenant_id FROM {} WHERE id = ?1", r.table), [id], |row| row.get(0)).optional()?;
    Ok(t.ok_or(StoreError::NotFound)?.map(TenantId))
}

fn check_slot(c: &Connection, r: &Resource, tenant: TenantId, actor: &Actor) -> Result<()> {
    let Some(slot) = r.slot else { return Ok(()) };
    debug_assert_eq!(slot.table(), r.table, "a slot counts the rows of its own table");
    if actor.enforce_packages {
        if let Some((package, limit)) = crate::store::billing::package_limit(c, tenant, slot)? {
            let used = crate::store::billing::slot_used(c, tenant, slot, None)?;
            if used >= limit {
                return Err(StoreError::Limit {
                    limit: slot.name().into(),
                    message: format!("{} limit reached: package {package:?} allows {limit}, {used} in use", slot.title()),
                });
            }
        }
    }
    if !actor.admin {
        let allowed = crate::store::accounts::allocation(c, actor.user_id, slot)?;
        let used = crate::store::billing::slot_used(c, tenant, slot, Some(actor.user_id))?;
        if used >= allowed {
            return Err(StoreError::Limit {
                limit: slot.name().into(),
                message: format!("{} allocation reached: your administrator allows you {allowed}, {used} in use", slot.title()),
            });
        }
    }
    Ok(())
}

impl Store {
    pub fn list(&self, r: &Resource, within: Within, owner: Option<i64>, q: &ListQuery) -> Result<Page> {
        let c = self.conn()?;
        let mut args = Vec::new();
        let mut w = scope_sql(r, within, owner, &mut args, Reach::Read);
        for (k, v) in &q.filters {
            let f = r.field(k).filter(|f| f.filter).ok_or_else(|| StoreError::invalid(k, "not a filter of this list"))?;
            let value = match f.kind {
                Kind::Bool => match v.as_str() {
                    "true" | "1" => Sql::Integer(1),
                    "false" | "0" => Sql::Integer(0),
                    _ => return Err(StoreError::invalid(k, "must be true or false")),
                },
                Kind::Int(..) | Kind::Capacity(_) | Kind::Ref(_) | Kind::GlobalRef(_) | Kind::UserRef | Kind::TenantRef | Kind::Money => {
                    Sql::Integer(v.parse().map_err(|_| StoreError::invalid(k, "must be a whole number"))?)
                }
                _ => Sql::Text(v.clone()),
            };
            args.push(value);
            w.push_str(&format!(" AND {} = ?{}", f.name, args.len()));
        }
        if let Some(text) = q.q.as_deref().filter(|s| !s.is_empty() && !r.search.is_empty()) {
            // LIKE with the wildcards of the search text escaped: a search is a substring.
            args.push(Sql::Text(crate::store::like_pattern(text)));
            let n = args.len();
            let ors: Vec<String> = r.search.iter().map(|col| format!("{col} LIKE ?{n} ESCAPE '\\'")).collect();
            w.push_str(&format!(" AND ({})", ors.join(" OR ")));
        }
        let total: i64 =
            c.prepare_cached(&format!("SELECT COUNT(*) FROM {} WHERE {w}", r.table))?.query_row(params_from_iter(args.iter()), |row| row.get(0))?;
        let per_page = q.per_page.clamp(1, MAX_PER_PAGE);
        let page = q.page.max(1);
        args.push(Sql::Integer(per_page as i64));
        args.push(Sql::Integer((page as i64 - 1) * per_page as i64));
        let sql = format!("SELECT {} FROM {} WHERE {w} ORDER BY {} LIMIT ?{} OFFSET ?{}", r.columns(), r.table, r.order, args.len() - 1, args.len());
        let mut st = c.prepare_cached(&sql)?;
        let mut items: Vec<Map<String, Value>> =
            st.query_map(params_from_iter(args.iter()), |row| row_json(r, row))?.collect::<rusqlite::Result<_>>()?;
        load_children(&c, r, &mut items)?;
        Ok(Page { items: items.into_iter().map(Value::Object).collect(), total, page, per_page })
    }

    pub fn get(&self, r: &Resource, within: Within, owner: Option<i64>, id: i64) -> Result<Value> {
        Ok(Value::Object(get_in(&*self.conn()?, r, within, owner, id, Reach::Read)?))
    }

    /// Each column's default as the table declares it (SQL text: `1`, `'flag'`), for the
    /// forms that start a new row where an insert without the field would.
    pub fn column_defaults(&self, table: &str) -> Result<std::collections::HashMap<String, String>> {
        let c = self.conn()?;
        let mut st = c.prepare("SELECT name, dflt_value FROM pragma_table_info(?1) WHERE dflt_value IS NOT NULL")?;
        let rows = st.query_map([table], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// The tenant a row belongs to (None for global rows); NotFound when there is no row.
    pub fn tenant_of(&self, r: &Resource, id: i64) -> Result<Option<TenantId>> {
        tenant_of_row(&*self.conn()?, r, id)
    }

    /// Creates a row. `tenant` is required for tenant-owned resources and ignored otherwise.
    pub fn create(&self, r: &Resource, tenant: Option<TenantId>, actor: &Actor, body: &Map<String, Value>) -> Result<Value> {
        let checked = check_body(r, body, true)?;
        self.write(|tx| {
            let ref_tenant = match r.scope {
                Scope::Tenant => Some(tenant.ok_or_else(|| StoreError::invalid("tenant_id", "required"))?),
                Scope::Global => None,
                Scope::Assignable => checked.values.iter().find(|(f, _)| f.kind == Kind::TenantRef).and_then(|(_, v)| match v {
                    Sql::Integer(t) => Some(TenantId(*t)),
                    _ => None,
                }),
            };
            check_refs(tx, ref_tenant, &checked.values, &|f| f.name.to_string())?;
            check_child_refs(tx, ref_tenant, &checked.children)?;
            let mut cols: Vec<&str> = Vec::new();
            let mut args: Vec<Sql> = Vec::new();
            if let (Scope::Tenant, Some(t)) = (r.scope, ref_tenant) {
                check_dialable(tx, r, t, None, &checked.values)?;
                check_slot(tx, r, t, actor)?;
                clear_sole(tx, r, t, None, (!actor.admin).then_some(actor.user_id), &checked.values)?;
                cols.extend(["tenant_id", "owner_user_id"]);
                args.extend([Sql::Integer(t.0), if actor.admin { Sql::Null } else { Sql::Integer(actor.user_id) }]);
            }
            for (f, v) in &checked.values {
                cols.push(f.name);
                args.push(v.clone());
            }
            let now = crate::store::now();
            cols.extend(["created_at", "updated_at"]);
            args.extend([Sql::Text(now.clone()), Sql::Text(now)]);
            let marks: Vec<String> = (1..=cols.len()).map(|i| format!("?{i}")).collect();
            tx.execute(&format!("INSERT INTO {} ({}) VALUES ({})", r.table, cols.join(", "), marks.join(", ")), params_from_iter(args.iter()))
                .map_err(|e| constraint(e, r.title))?;
            let id = tx.last_insert_rowid();
            write_children(tx, id, &checked.children)?;
            Ok(Value::Object(get_in(tx, r, Within::Everything, None, id, Reach::Write)?))
        })
    }

    /// Changes the fields named in `body`; child lists named are replaced whole.
    pub fn update(&self, r: &Resource, within: Within, owner: Option<i64>, id: i64, body: &Map<String, Value>) -> Result<Value> {
        let checked = check_body(r, body, false)?;
        self.write(|tx| {
            get_in(tx, r, within, owner, id, Reach::Write)?;
            let row_tenant = tenant_of_row(tx, r, id)?;
            // A reassigned DID or announcement is checked against its new tenant.
            let ref_tenant = checked
                .values
                .iter()
                .find(|(f, _)| f.kind == Kind::TenantRef)
                .map(|(_, v)| if let Sql::Integer(t) = v { Some(TenantId(*t)) } else { None })
                .unwrap_or(row_tenant);
            check_refs(tx, ref_tenant, &checked.values, &|f| f.name.to_string())?;
            check_child_refs(tx, ref_tenant, &checked.children)?;
            if let (Scope::Tenant, Some(t)) = (r.scope, row_tenant) {
                check_dialable(tx, r, t, Some(id), &checked.values)?;
                if checked.values.iter().any(|(f, _)| f.sole) {
                    let owner: Option<i64> = tx.query_row(&format!("SELECT owner_user_id FROM {} WHERE id = ?1", r.table), [id], |row| row.get(0))?;
                    clear_sole(tx, r, t, Some(id), owner, &checked.values)?;
                }
            }
            let mut sets: Vec<String> = Vec::new();
            let mut args: Vec<Sql> = Vec::new();
            for (f, v) in &checked.values {
                args.push(v.clone());
                sets.push(format!("{} = ?{}", f.name, args.len()));
            }
            args.push(Sql::Text(crate::store::now()));
            sets.push(format!("updated_at = ?{}", args.len()));
            args.push(Sql::Integer(id));
            tx.execute(&format!("UPDATE {} SET {} WHERE id = ?{}", r.table, sets.join(", "), args.len()), params_from_iter(args.iter()))
                .map_err(|e| constraint(e, r.title))?;
            write_children(tx, id, &checked.children)?;
            Ok(Value::Object(get_in(tx, r, Within::Everything, None, id, Reach::Write)?))
        })
    }

    /// Deletes a row, refusing while a destination elsewhere still points at it.
    pub fn delete(&self, r: &Resource, within: Within, owner: Option<i64>, id: i64) -> Result<Value> {
        self.write(|tx| {
            let before = get_in(tx, r, within, owner, id, Reach::Write)?;
            if let Some(t) = tenant_of_row(tx, r, id)? {
                if let Some(by) = referrers(tx, t, r.table, id)? {
                    return Err(StoreError::Conflict {
                        field: None,
                        message: format!("this {} is the destination of {by}; change that first", r.title),
                    });
                }
            }
            tx.execute(&format!("DELETE FROM {} WHERE id = ?1", r.table), [id]).map_err(|e| constraint(e, r.title))?;
            Ok(Value::Object(before))
        })
    }
}
