//! What a signed-in user sees of their own: extensions assigned to them, queues they are an
//! agent of, announcements for their role, and their tenant's numbers with the routes they take.

use crate::access::Role;
use crate::store::{Result, Store, TenantId};

/// An extension assigned to a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnExtension {
    pub id: i64,
    pub number: String,
}

impl Store {
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

    /// The tenant's DIDs with the destination each is routed to (null when not routed), that
    /// destination in words (`destination_name`), and whether a call to it goes anywhere
    /// (`active`: routed, to something that still exists).
    pub fn dids_with_routes(&self, tenant: TenantId) -> Result<Vec<serde_json::Value>> {
        self.dids_routed(tenant, None)
    }

    /// One of the tenant's DIDs as [`Store::dids_with_routes`] gives it.
    pub fn did_with_route(&self, tenant: TenantId, id: i64) -> Result<serde_json::Value> {
        self.dids_routed(tenant, Some(id))?.pop().ok_or(crate::store::StoreError::NotFound)
    }

    fn dids_routed(&self, tenant: TenantId, only: Option<i64>) -> Result<Vec<serde_json::Value>> {
        let c = self.conn()?;
        // id, number, description, inbound route, its destination
        type Row = (i64, String, String, Option<i64>, Option<String>);
        let rows: Vec<Row> = c
            .prepare_cached(
                "SELECT d.id, d.number, d.description, r.id, r.destination FROM dids d LEFT JOIN inbound_routes r ON r.did_id = d.id AND r.tenant_id = d.tenant_id
                 WHERE d.tenant_id = ?1 AND (?2 IS NULL OR d.id = ?2) ORDER BY d.number",
            )?
            .query_map((tenant.0, only), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut out = Vec::with_capacity(rows.len());
        for (id, number, description, route, dest) in rows {
            let parsed = dest.as_deref().and_then(|d| serde_json::from_str::<crate::pbx::destination::Destination>(d).ok());
            let name = match &parsed {
                Some(d) => destination_label(&c, tenant, d)?,
                None => None,
            };
            out.push(serde_json::json!({
                "id": id, "number": number, "description": description, "inbound_route_id": route,
                "destination": dest.and_then(|d| serde_json::from_str::<serde_json::Value>(&d).ok()),
                "active": name.is_some(),
                "destination_name": name.unwrap_or_else(|| if parsed.is_some() { "(deleted)".into() } else { "not routed".into() }),
            }));
        }
        Ok(out)
    }
}

/// A destination in words ("Fax line 1900 (Front office)", "Ring group Sales (2000)"), or
/// None when what it points at no longer exists.
fn destination_label(c: &rusqlite::Connection, tenant: TenantId, d: &crate::pbx::destination::Destination) -> Result<Option<String>> {
    use crate::pbx::destination::Destination as D;
    let Some((_, id)) = d.target() else {
        return Ok(Some(match d {
            D::External { number } => format!("External number {number}"),
            D::Hangup { cause: Some(cause) } => format!("Hang up ({cause})"),
            _ => "Hang up".into(),
        }));
    };
    let (kind, sql) = match d {
        D::Extension { .. } => ("Extension", "SELECT number, display_name FROM extensions WHERE id = ?1 AND tenant_id = ?2"),
        D::Fax { .. } => ("Fax line", "SELECT number, display_name FROM extensions WHERE id = ?1 AND tenant_id = ?2"),
        D::Voicemail { .. } => ("Voicemail", "SELECT number, name FROM voicemail_boxes WHERE id = ?1 AND tenant_id = ?2"),
        D::CallFlow { .. } => ("Call flow", "SELECT name, '' FROM call_flows WHERE id = ?1 AND tenant_id = ?2"),
        D::TimeCondition { .. } => ("Time condition", "SELECT name, '' FROM time_conditions WHERE id = ?1 AND tenant_id = ?2"),
        D::RingGroup { .. } => ("Ring group", "SELECT name, number FROM ring_groups WHERE id = ?1 AND tenant_id = ?2"),
        D::Ivr { .. } => ("IVR", "SELECT name, number FROM ivr_menus WHERE id = ?1 AND tenant_id = ?2"),
        D::Queue { .. } => ("Queue", "SELECT name, number FROM call_queues WHERE id = ?1 AND tenant_id = ?2"),
        D::Conference { .. } => ("Conference", "SELECT name, number FROM conferences WHERE id = ?1 AND tenant_id = ?2"),
        D::External { .. } | D::Hangup { .. } => unreachable!("no target: answered above"),
    };
    let row: Option<(String, String)> =
        rusqlite::OptionalExtension::optional(c.prepare_cached(sql)?.query_row((id, tenant.0), |r| Ok((r.get(0)?, r.get(1)?))))?;
    Ok(row.map(|(a, b)| if b.is_empty() { format!("{kind} {a}") } else { format!("{kind} {a} ({b})") }))
}
