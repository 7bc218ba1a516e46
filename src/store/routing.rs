//! What a live call reads: typed configuration looked up by the keys a call carries (DID,
//! SIP domain, dialed number), always inside one tenant. Read at the moment the call needs
//! it, so a saved change applies to the next call.

use rusqlite::OptionalExtension;
use serde_json::Value;

use super::resource::Within;
use super::{resources as res, Resource, Result, Store, StoreError, TenantId};
pub use crate::pbx::config::{
    AgentPhones, CallBlock, CallFlow, CallQueue, Conference, Extension, FollowMe, FollowMeStep, Holiday, Ivr, IvrOption, Member, OutboundRoute,
    QueueAgent, Range, RingGroup, RouteTrunk, Tenant, TimeCondition, VoicemailBox,
};
use crate::pbx::destination::Destination;

/// The DID a trunk call arrived on, the tenant it belongs to and where it is routed.
#[derive(Debug, Clone)]
pub struct DidRoute {
    pub did_id: i64,
    pub number: String,
    pub tenant: TenantId,
    pub trunk_id: Option<i64>,
    /// None: the DID is assigned but not routed.
    pub destination: Option<Destination>,
}

fn typed<T: serde::de::DeserializeOwned>(v: Value) -> Result<T> {
    serde_json::from_value(v).map_err(|e| StoreError::Invalid { field: String::new(), message: format!("stored row does not parse: {e}") })
}

impl Store {
    fn typed<T: serde::de::DeserializeOwned>(&self, r: &Resource, tenant: TenantId, id: i64) -> Result<T> {
        typed(self.get(r, Within::Tenant(tenant), None, id)?)
    }

    /// The routing view of one tenant, by a unique column (`id`, `sip_domain`).
    fn tenant_where(&self, column: &str, key: &dyn rusqlite::ToSql) -> Result<Option<Tenant>> {
        let c = self.conn()?;
        let row = c
            .prepare_cached(&format!(
                "SELECT id, sip_domain, timezone, enabled,
                        (SELECT m.id FROM moh_classes m WHERE m.tenant_id = t.id AND m.name = 'default'),
                        max_concurrent_calls, credit_policy = 'prepaid', daily_limit, monthly_limit
                 FROM tenants t WHERE {column} = ?1"
            ))?
            .query_row([key], |r| {
                Ok(Tenant {
                    id: r.get(0)?,
                    sip_domain: r.get(1)?,
                    timezone: r.get(2)?,
                    enabled: r.get::<_, i64>(3)? != 0,
                    moh_class: r.get(4)?,
                    max_concurrent_calls: r.get(5)?,
                    prepaid: r.get(6)?,
                    daily_limit: r.get(7)?,
                    monthly_limit: r.get(8)?,
                })
            })
            .optional()?;
        Ok(row)
    }

    pub fn tenant_by_domain(&self, domain: &str) -> Result<Option<Tenant>> {
        self.tenant_where("sip_domain", &domain)
    }

    pub fn routing_tenant(&self, tenant: TenantId) -> Result<Tenant> {
        self.tenant_where("id", &tenant.0)?.ok_or(StoreError::NotFound)
    }

    pub fn did_route(&self, e164: &str) -> Result<Option<DidRoute>> {
        let c = self.conn()?;
        let row = c
            .prepare_cached(
                "SELECT d.id, d.number, d.tenant_id, d.trunk_id, r.destination FROM dids d
                 LEFT JOIN inbound_routes r ON r.did_id = d.id AND r.tenant_id = d.tenant_id
                 WHERE d.number = ?1 AND d.tenant_id IS NOT NULL",
            )?
            .query_row([e164], |r| {
                let dest: Option<String> = r.get(4)?;
                Ok(DidRoute {
                    did_id: r.get(0)?,
                    number: r.get(1)?,
                    tenant: TenantId(r.get(2)?),
                    trunk_id: r.get(3)?,
                    destination: dest.and_then(|d| serde_json::from_str(&d).ok()),
                })
            })
            .optional()?;
        Ok(row)
    }

    /// The id of the tenant's row of `table` whose `column` is `value` (a unique key).
    fn id_where(c: &rusqlite::Connection, table: &str, column: &str, tenant: TenantId, value: &str) -> Result<Option<i64>> {
        Ok(c.prepare_cached(&format!("SELECT id FROM {table} WHERE tenant_id = ?1 AND {column} = ?2"))?
            .query_row((tenant.0, value), |r| r.get(0))
            .optional()?)
    }

    pub fn extension_by_number(&self, tenant: TenantId, number: &str) -> Result<Option<Extension>> {
        let id = Self::id_where(&*self.conn()?, "extensions", "number", tenant, number)?;
        id.map(|id| self.extension(tenant, id)).transpose()
    }

    /// Any dialable object of the tenant with this number (extension, ring group, IVR,
    /// queue, conference), as the destination that reaches it.
    pub fn dialable(&self, tenant: TenantId, number: &str) -> Result<Option<Destination>> {
        let c = self.conn()?;
        for (table, make) in [
            ("extensions", (|id| Destination::Extension { id }) as fn(i64) -> Destination),
            ("ring_groups", |id| Destination::RingGroup { id }),
            ("ivr_menus", |id| Destination::Ivr { id }),
            ("call_queues", |id| Destination::Queue { id, priority: 0 }),
            ("conferences", |id| Destination::Conference { id }),
        ] {
            if let Some(id) = Self::id_where(&c, table, "number", tenant, number)? {
                return Ok(Some(make(id)));
            }
        }
        Ok(None)
    }

    /// The tenant's voice extensions with a name, for dial-by-name: (id, number, name).
    pub fn directory(&self, tenant: TenantId) -> Result<Vec<(i64, String, String)>> {
        let c = self.conn()?;
        let mut st = c.prepare_cached(
            "SELECT id, number, display_name FROM extensions WHERE tenant_id = ?1 AND type = 'voice' AND display_name != '' ORDER BY display_name, number",
        )?;
        let rows = st.query_map([tenant.0], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The extension's follow-me, when it has one switched on.
    pub fn follow_me(&self, tenant: TenantId, extension_id: i64) -> Result<Option<FollowMe>> {
        let id: Option<i64> = self
            .conn()?
            .prepare_cached("SELECT id FROM follow_me WHERE tenant_id = ?1 AND extension_id = ?2 AND enabled = 1")?
            .query_row((tenant.0, extension_id), |r| r.get(0))
            .optional()?;
        id.map(|id| self.typed(&res::FOLLOW_ME, tenant, id)).transpose()
    }

    /// Read on most calls, so straight from the table rather than through the API's reader.
    pub fn extension(&self, tenant: TenantId, id: i64) -> Result<Extension> {
        let c = self.conn()?;
        let row = c
            .prepare_cached(
                "SELECT id, number, display_name, type, voicemail_enabled, dnd, forward_always, forward_busy, forward_no_answer, record_calls, user_id
                 FROM extensions WHERE id = ?1 AND tenant_id = ?2",
            )?
            .query_row((id, tenant.0), |r| {
                Ok(Extension {
                    id: r.get(0)?,
                    number: r.get(1)?,
                    display_name: r.get(2)?,
                    kind: r.get(3)?,
                    voicemail_enabled: r.get::<_, i64>(4)? != 0,
                    dnd: r.get::<_, i64>(5)? != 0,
                    forward_always: r.get(6)?,
                    forward_busy: r.get(7)?,
                    forward_no_answer: r.get(8)?,
                    record_calls: r.get::<_, i64>(9)? != 0,
                    user_id: r.get(10)?,
                })
            })
            .optional()?;
        row.ok_or(StoreError::NotFound)
    }
    pub fn ring_group(&self, tenant: TenantId, id: i64) -> Result<RingGroup> {
        self.typed(&res::RING_GROUPS, tenant, id)
    }
    pub fn ivr(&self, tenant: TenantId, id: i64) -> Result<Ivr> {
        self.typed(&res::IVR_MENUS, tenant, id)
    }
    pub fn time_condition(&self, tenant: TenantId, id: i64) -> Result<TimeCondition> {
        self.typed(&res::TIME_CONDITIONS, tenant, id)
    }
    pub fn call_flow(&self, tenant: TenantId, id: i64) -> Result<CallFlow> {
        self.typed(&res::CALL_FLOWS, tenant, id)
    }
    pub fn voicemail_box(&self, tenant: TenantId, id: i64) -> Result<VoicemailBox> {
        self.typed(&res::VOICEMAIL_BOXES, tenant, id)
    }
    /// The greeting of the tenant's voicemail box `number` (empty: none of its own, or no
    /// such box: an extension's mailbox without one).
    pub fn voicemail_greeting(&self, tenant: TenantId, number: &str) -> Result<String> {
        let c = self.conn()?;
        let g = c
            .prepare_cached("SELECT greeting FROM voicemail_boxes WHERE tenant_id = ?1 AND number = ?2")?
            .query_row((tenant.0, number), |r| r.get::<_, String>(0))
            .optional()?;
        Ok(g.unwrap_or_default())
    }
    pub fn call_queue(&self, tenant: TenantId, id: i64) -> Result<CallQueue> {
        self.typed(&res::CALL_QUEUES, tenant, id)
    }
    pub fn conference(&self, tenant: TenantId, id: i64) -> Result<Conference> {
        self.typed(&res::CONFERENCES, tenant, id)
    }

    /// The tenant's outbound routes, by priority.
    pub fn outbound_routes(&self, tenant: TenantId) -> Result<Vec<OutboundRoute>> {
        let q = super::ListQuery { page: 1, per_page: super::resource::MAX_PER_PAGE, ..Default::default() };
        let mut routes: Vec<OutboundRoute> =
            self.list(&res::OUTBOUND_ROUTES, Within::Tenant(tenant), None, &q)?.items.into_iter().map(typed).collect::<Result<_>>()?;
        if routes.iter().any(|r| !r.trunks.is_empty()) {
            // The trunks switched off, with a cap, a caller ID or codecs of their own (few,
            // and global) in one read.
            let c = self.conn()?;
            type Own = (bool, i64, String, Vec<String>);
            let own: std::collections::HashMap<i64, Own> = c
                .prepare_cached(
                    "SELECT id, active, max_channels, caller_id, codecs FROM trunks
                     WHERE active = 0 OR max_channels > 0 OR caller_id != '' OR codecs != '[]'",
                )?
                .query_map([], |r| {
                    let codecs: String = r.get(4)?;
                    Ok((r.get(0)?, (r.get::<_, i64>(1)? != 0, r.get(2)?, r.get(3)?, serde_json::from_str(&codecs).unwrap_or_default())))
                })?
                .collect::<rusqlite::Result<_>>()?;
            for r in routes.iter_mut() {
                // A trunk switched off is no gateway of FreeSWITCH's (xml_curl serves only the
                // active ones), and dialing it would end the call with INVALID_GATEWAY
                // (mod_sofia.c:4830), a cause no route fails over on: it is left out.
                r.trunks.retain(|t| own.get(&t.trunk_id).is_none_or(|(active, _, _, _)| *active));
                for t in r.trunks.iter_mut() {
                    if let Some((_, cap, cid, codecs)) = own.get(&t.trunk_id) {
                        (t.max_channels, t.caller_id, t.codecs) = (*cap, cid.clone(), codecs.clone());
                    }
                }
            }
        }
        Ok(routes)
    }

    /// Read on every call, so straight from the table rather than through the API's lister.
    pub fn call_blocks(&self, tenant: TenantId) -> Result<Vec<CallBlock>> {
        let c = self.conn()?;
        let mut st = c.prepare_cached("SELECT \"match\", value, direction, action FROM call_blocks WHERE tenant_id = ?1 ORDER BY id")?;
        let rows = st.query_map([tenant.0], |r| Ok(CallBlock { kind: r.get(0)?, value: r.get(1)?, direction: r.get(2)?, action: r.get(3)? }))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Round-robin: the member index to start from this time, advanced atomically so two
    /// calls at once start at different members.
    pub fn ring_group_next_start(&self, tenant: TenantId, group: i64, members: usize) -> Result<usize> {
        if members == 0 {
            return Ok(0);
        }
        self.write(|tx| {
            let pos: i64 = tx
                .prepare_cached("UPDATE ring_groups SET rr_position = (rr_position + 1) % ?3 WHERE id = ?1 AND tenant_id = ?2 RETURNING rr_position")?
                .query_row((group, tenant.0, members as i64), |r| r.get(0))?;
            Ok(((pos - 1).rem_euclid(members as i64)) as usize)
        })
    }

    /// The call flow a feature code (`*<code>`, without the star) toggles, if any.
    pub fn call_flow_by_code(&self, tenant: TenantId, code: &str) -> Result<Option<CallFlow>> {
        let id = Self::id_where(&*self.conn()?, "call_flows", "feature_code", tenant, code)?;
        id.map(|id| self.call_flow(tenant, id)).transpose()
    }

    /// What a phone's star code changes, through the same checked write as the API, with
    /// the activity log's entry (`what`, from the phone `number`).
    pub fn apply_phone_change(&self, tenant: TenantId, change: &PhoneChange, what: &str, number: &str) -> Result<()> {
        let (r, id, object, body) = match change {
            PhoneChange::Dnd { extension, on } => (&res::EXTENSIONS, *extension, "extensions", serde_json::json!({ "dnd": on })),
            PhoneChange::ForwardAlways { extension, to } => (&res::EXTENSIONS, *extension, "extensions", serde_json::json!({ "forward_always": to })),
            PhoneChange::CallFlowState { flow, night } => {
                (&res::CALL_FLOWS, *flow, "call-flows", serde_json::json!({ "state": if *night { "night" } else { "day" } }))
            }
        };
        self.update(r, Within::Tenant(tenant), None, id, body.as_object().expect("an object"))?;
        self.log(&super::activity::Entry {
            tenant: Some(tenant),
            action: "update",
            object: format!("{object}/{id}"),
            detail: format!("{what} from the phone {number}"),
            ..Default::default()
        })
    }
}

/// A change a phone makes with a star code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhoneChange {
    Dnd {
        extension: i64,
        on: bool,
    },
    /// Forward every call to `to` (empty: forwarding off).
    ForwardAlways {
        extension: i64,
        to: String,
    },
    CallFlowState {
        flow: i64,
        night: bool,
    },
}
