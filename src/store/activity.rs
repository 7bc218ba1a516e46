//! The activity log: who did what to which object, when. Append-only.

use rusqlite::params_from_iter;
use rusqlite::types::Value as Sql;
use serde::Serialize;

use super::resource::{Page, Within, MAX_PER_PAGE};
use super::{Result, Store, StoreError, TenantId};

#[derive(Debug, Clone, Default)]
pub struct Entry<'a> {
    pub user_id: Option<i64>,
    pub user_email: &'a str,
    pub tenant: Option<TenantId>,
    /// `create`, `update`, `delete`, `login`, `login_failed`, `subscribe`, …
    pub action: &'a str,
    /// `extensions/12`
    pub object: String,
    pub detail: String,
}

#[derive(Debug, Serialize)]
pub struct Row {
    pub id: i64,
    pub at: String,
    pub user_id: Option<i64>,
    pub user_email: String,
    pub tenant_id: Option<i64>,
    pub action: String,
    pub object: String,
    pub detail: String,
}

#[derive(Debug, Default)]
pub struct Filter {
    /// Inclusive lower bound, RFC 3339 or a date.
    pub from: Option<String>,
    /// Exclusive upper bound.
    pub to: Option<String>,
    pub user_id: Option<i64>,
    pub tenant_id: Option<i64>,
    pub action: Option<String>,
    pub page: u32,
    pub per_page: u32,
}

impl Store {
    pub fn log(&self, e: &Entry<'_>) -> Result<()> {
        self.conn()?
            .prepare_cached(
                "INSERT INTO activity_log (at, user_id, user_email, tenant_id, action, object, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute((super::now(), e.user_id, e.user_email, e.tenant.map(|t| t.0), e.action, &e.object, &e.detail))?;
        Ok(())
    }

    pub fn activity(&self, within: Within, f: &Filter) -> Result<Page> {
        let c = self.conn()?;
        let mut args: Vec<Sql> = Vec::new();
        let mut w = String::from("1=1");
        let mut cond = |sql: &str, v: Sql| {
            args.push(v);
            w.push_str(&format!(" AND {sql} ?{}", args.len()));
        };
        if let Within::Tenant(t) = within {
            cond("tenant_id =", Sql::Integer(t.0));
        }
        for (bound, op) in [(&f.from, "at >="), (&f.to, "at <")] {
            if let Some(v) = bound {
                let ok = v.parse::<jiff::Timestamp>().is_ok() || v.parse::<jiff::civil::Date>().is_ok();
                if !ok {
                    return Err(StoreError::invalid(if op == "at >=" { "from" } else { "to" }, "must be a date (YYYY-MM-DD) or an RFC 3339 time"));
                }
                cond(op, Sql::Text(v.clone()));
            }
        }
        if let Some(u) = f.user_id {
            cond("user_id =", Sql::Integer(u));
        }
        if let Some(t) = f.tenant_id {
            cond("tenant_id =", Sql::Integer(t));
        }
        if let Some(a) = &f.action {
            cond("action =", Sql::Text(a.clone()));
        }
        let total: i64 = c.query_row(&format!("SELECT COUNT(*) FROM activity_log WHERE {w}"), params_from_iter(args.iter()), |r| r.get(0))?;
        let per_page = f.per_page.clamp(1, MAX_PER_PAGE);
        let page = f.page.max(1);
        args.push(Sql::Integer(per_page as i64));
        args.push(Sql::Integer((page as i64 - 1) * per_page as i64));
        let sql = format!(
            "SELECT id, at, user_id, user_email, tenant_id, action, object, detail FROM activity_log WHERE {w} ORDER BY id DESC LIMIT ?{} OFFSET ?{}",
            args.len() - 1,
            args.len()
        );
        let items = c
            .prepare(&sql)?
            .query_map(params_from_iter(args.iter()), |r| {
                Ok(Row {
                    id: r.get(0)?,
                    at: r.get(1)?,
                    user_id: r.get(2)?,
                    user_email: r.get(3)?,
                    tenant_id: r.get(4)?,
                    action: r.get(5)?,
                    object: r.get(6)?,
                    detail: r.get(7)?,
                })
            })?
            .map(|r| r.map(|r| serde_json::to_value(r).expect("row serialises")))
            .collect::<rusqlite::Result<_>>()?;
        Ok(Page { items, total, page, per_page })
    }
}
