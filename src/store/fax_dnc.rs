//! The do-not-contact list's SQL: per tenant, whole numbers and prefixes no fax may be sent
//! to. Checked when a fax is queued and again when it is dialed (a number listed meanwhile
//! is never dialed).

use super::{now, Result, Store, StoreError, TenantId};

/// One entry as it is given: a number in E.164, or (`prefix`) `+` and 1 to 15 digits.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub number: String,
    #[serde(default)]
    pub prefix: bool,
    #[serde(default)]
    pub note: String,
}

/// How an import went, row by row.
#[derive(Debug, Default, serde::Serialize)]
pub struct Imported {
    pub added: usize,
    /// Rows already on the list.
    pub duplicates: usize,
    /// Rows refused: the row's number (1 is the first after any header) and why.
    pub refused: Vec<(usize, String)>,
}

impl Entry {
    /// The entry as kept: the number in E.164 (or the prefix as `+digits`), the note a line.
    pub fn checked(&self) -> std::result::Result<Entry, (String, String)> {
        let number = if self.prefix {
            let d = self.number.trim();
            let digits = d.strip_prefix('+').unwrap_or(d);
            if digits.is_empty() || digits.len() > 15 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(("number".into(), "a prefix is + and 1 to 15 digits, e.g. +1900".into()));
            }
            format!("+{digits}")
        } else {
            crate::pbx::dial::e164(&self.number).map_err(|e| ("number".to_string(), e))?
        };
        let note = super::validate::line(self.note.trim(), 200).map_err(|e| ("note".to_string(), e))?;
        Ok(Entry { number, prefix: self.prefix, note })
    }
}

fn entry_json(r: &rusqlite::Row<'_>) -> rusqlite::Result<serde_json::Value> {
    Ok(serde_json::json!({
        "id": r.get::<_, i64>(0)?, "number": r.get::<_, String>(1)?, "prefix": r.get::<_, bool>(2)?,
        "note": r.get::<_, String>(3)?, "created_at": r.get::<_, String>(4)?,
    }))
}

impl Store {
    /// Adds an entry; the entry as kept. A number already listed is refused, naming it.
    pub fn add_dnc(&self, tenant: TenantId, e: &Entry) -> Result<serde_json::Value> {
        let e = e.checked().map_err(|(f, m)| StoreError::invalid(&f, m))?;
        let id = self.write(|tx| {
            let n = tx
                .prepare_cached("INSERT OR IGNORE INTO fax_dnc (tenant_id, number, prefix, note, created_at) VALUES (?1, ?2, ?3, ?4, ?5)")?
                .execute(rusqlite::params![tenant.0, e.number, e.prefix, e.note, now()])?;
            if n == 0 {
                return Err(StoreError::invalid("number", format!("{} is already on the do-not-contact list", e.number)));
            }
            Ok(tx.last_insert_rowid())
        })?;
        let c = self.conn()?;
        let row = c.prepare_cached("SELECT id, number, prefix, note, created_at FROM fax_dnc WHERE id = ?1")?.query_row([id], entry_json)?;
        Ok(row)
    }

    /// Adds every good row, in one transaction; what happened to each.
    pub fn import_dnc(&self, tenant: TenantId, rows: &[Entry]) -> Result<Imported> {
        self.write(|tx| {
            let mut out = Imported::default();
            let mut add =
                tx.prepare_cached("INSERT OR IGNORE INTO fax_dnc (tenant_id, number, prefix, note, created_at) VALUES (?1, ?2, ?3, ?4, ?5)")?;
            let at = now();
            for (i, row) in rows.iter().enumerate() {
                match row.checked() {
                    Err((_, why)) => out.refused.push((i + 1, why)),
                    Ok(e) => match add.execute(rusqlite::params![tenant.0, e.number, e.prefix, e.note, at])? {
                        0 => out.duplicates += 1,
                        _ => out.added += 1,
                    },
                }
            }
            Ok(out)
        })
    }

    /// The list, numbers in order (`search`: entries whose number or note holds it).
    pub fn dnc(&self, tenant: TenantId, search: Option<&str>, page: u32, per_page: u32) -> Result<super::Page> {
        let c = self.conn()?;
        let mut w = super::Where::new();
        w.and("tenant_id =", rusqlite::types::Value::Integer(tenant.0));
        if let Some(q) = search.map(str::trim).filter(|q| !q.is_empty()) {
            let like = format!("%{}%", q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
            w.and_raw(|n| format!("number LIKE ?{n} ESCAPE '\\' OR note LIKE ?{n} ESCAPE '\\'"), vec![rusqlite::types::Value::Text(like)]);
        }
        w.page(&c, "fax_dnc", "id, number, prefix, note, created_at", "number, prefix", page, per_page.clamp(1, 1000), entry_json)
    }

    pub fn delete_dnc(&self, tenant: TenantId, id: i64) -> Result<()> {
        self.write(|tx| match tx.execute("DELETE FROM fax_dnc WHERE id = ?1 AND tenant_id = ?2", (id, tenant.0))? {
            0 => Err(StoreError::NotFound),
            _ => Ok(()),
        })
    }

    /// The entry that keeps a fax from `number` if any: the number itself, or a prefix it
    /// begins with. A number dialed without `+` is also read as `+` and its digits (the list
    /// holds E.164).
    pub fn dnc_listing(&self, tenant: TenantId, number: &str) -> Result<Option<String>> {
        let c = self.conn()?;
        let hit = listing(&c, tenant, number)?;
        Ok(hit.map(|(n, prefix)| if prefix { format!("numbers beginning {n}") } else { n }))
    }
}

/// The entry `number` is listed under, and whether it is a prefix. Point lookups on the
/// list's unique index: the number as given and with `+`, then each of its beginnings as a
/// prefix (at most 32), the whole number before any prefix.
pub(super) fn listing(c: &rusqlite::Connection, tenant: TenantId, number: &str) -> Result<Option<(String, bool)>> {
    let plus = if number.starts_with('+') { number.to_string() } else { format!("+{number}") };
    let mut find = c.prepare_cached("SELECT 1 FROM fax_dnc WHERE tenant_id = ?1 AND number = ?2 AND prefix = ?3")?;
    for exact in [number, plus.as_str()] {
        if find.exists(rusqlite::params![tenant.0, exact, false])? {
            return Ok(Some((exact.to_string(), false)));
        }
    }
    for whole in [number, plus.as_str()] {
        for end in (1..=whole.len().min(32)).filter(|&e| whole.is_char_boundary(e)) {
            let begins = &whole[..end];
            if find.exists(rusqlite::params![tenant.0, begins, true])? {
                return Ok(Some((begins.to_string(), true)));
            }
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_prefixes_are_checked_and_matched() {
        let (st, _dir) = crate::store::temp_store();
        let t = TenantId(crate::store::seed::single_tenant(&st).unwrap().unwrap());
        let e = |n: &str, prefix: bool| Entry { number: n.into(), prefix, note: String::new() };
        assert_eq!(st.add_dnc(t, &e("+1 (212) 555-0199", false)).unwrap()["number"], "+12125550199");
        assert!(st.add_dnc(t, &e("+12125550199", false)).is_err(), "listed once");
        st.add_dnc(t, &e("1900", true)).unwrap();
        assert!(st.add_dnc(t, &e("12x", true)).is_err());
        assert!(st.add_dnc(t, &e("555", false)).is_err());
        assert_eq!(st.dnc_listing(t, "+12125550199").unwrap().as_deref(), Some("+12125550199"));
        assert_eq!(st.dnc_listing(t, "+19005550000").unwrap().as_deref(), Some("numbers beginning +1900"));
        assert_eq!(st.dnc_listing(t, "+12125550198").unwrap(), None);
        assert_eq!(st.dnc_listing(t, "12125550199").unwrap().as_deref(), Some("+12125550199"), "dialed without +");
        assert_eq!(st.dnc_listing(t, "+1900").unwrap().as_deref(), Some("numbers beginning +1900"));
        // Another tenant's list is its own.
        assert_eq!(st.dnc_listing(TenantId(t.0 + 1), "+12125550199").unwrap(), None);
        let report = st.import_dnc(t, &[e("+442079460000", false), e("bad", false), e("+12125550199", false), e("+44", true)]).unwrap();
        assert_eq!((report.added, report.duplicates, report.refused.len()), (2, 1, 1));
        assert_eq!(report.refused[0].0, 2);
        assert_eq!(st.dnc(t, None, 1, 100).unwrap().total, 4);
        assert_eq!(st.dnc(t, Some("4420"), 1, 100).unwrap().total, 1);
    }
}
