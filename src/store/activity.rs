//! The activity log: who did what to which object, when. Append-only.

use rusqlite::types::Value as Sql;
use serde::Serialize;

use super::resource::{Page, Within, MAX_PER_PAGE};
use super::{Result, Store, TenantId, Where};

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
    /// `devices/12`
    pub object: Option<String>,
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
        let mut w = Where::new();
        if let Within::Tenant(t) = within {
            w.and("tenant_id =", Sql::Integer(t.0));
        }
        w.time_bound("from", "at >=", f.from.as_ref())?;
        w.time_bound("to", "at <", f.to.as_ref())?;
        if let Some(u) = f.user_id {
            w.and("user_id =", Sql::Integer(u));
        }
        if let Some(t) = f.tenant_id {
            w.and("tenant_id =", Sql::Integer(t));
        }
        if let Some(a) = &f.action {
            w.and("action =", Sql::Text(a.clone()));
        }
        if let Some(o) = &f.object {
            w.and("object =", Sql::Text(o.clone()));
        }
        w.page(
            &c,
            "activity_log",
            "id, at, user_id, user_email, tenant_id, action, object, detail",
            "id DESC",
            f.page,
            f.per_page.clamp(1, MAX_PER_PAGE),
            |r| {
                let row = Row {
                    id: r.get(0)?,
                    at: r.get(1)?,
                    user_id: r.get(2)?,
                    user_email: r.get(3)?,
                    tenant_id: r.get(4)?,
                    action: r.get(5)?,
                    object: r.get(6)?,
                    detail: r.get(7)?,
                };
                Ok(serde_json::to_value(row).expect("row serialises"))
            },
        )
    }
}
