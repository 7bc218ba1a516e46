//! What FreeSWITCH asks switchboard for through mod_xml_curl: who a SIP user is, the
//! gateways built from the trunks, the music-on-hold classes.

use rusqlite::OptionalExtension;

use super::{Result, Store};

/// One SIP user as the directory answers it.
#[derive(Debug, Clone)]
pub struct DirectoryUser {
    pub tenant_id: i64,
    pub domain: String,
    pub number: String,
    pub display_name: String,
    pub sip_password: String,
    pub voicemail_enabled: bool,
    pub voicemail_pin: String,
    pub voicemail_email: String,
    pub voicemail_attach: bool,
    /// The tenant's concurrent call cap (0: none).
    pub max_calls: i64,
    pub tenant_enabled: bool,
}

#[derive(Debug, Clone)]
pub struct GatewayRow {
    pub id: i64,
    pub name: String,
    pub host: String,
    pub port: i64,
    pub transport: String,
    pub username: String,
    pub password: String,
    pub register: bool,
    pub caller_id: String,
    pub active: bool,
}

#[derive(Debug, Clone)]
pub struct MohClassRow {
    pub tenant_id: i64,
    pub class_id: i64,
}

impl Store {
    /// `user@domain` as a phone registers or a call rings it: one indexed look-up (the
    /// tenant's unique domain, then the extension's unique (tenant, number)).
    pub fn directory_user(&self, domain: &str, user: &str) -> Result<Option<DirectoryUser>> {
        let c = self.conn()?;
        let row = c
            .prepare_cached(
                "SELECT t.id, t.sip_domain, e.number, e.display_name, e.sip_password, e.voicemail_enabled, e.voicemail_pin,
                        COALESCE(v.email, ''), COALESCE(v.attach_audio, 1), t.max_concurrent_calls, t.enabled
                 FROM tenants t
                 JOIN extensions e ON e.tenant_id = t.id AND e.number = ?2
                 LEFT JOIN voicemail_boxes v ON v.tenant_id = t.id AND v.number = e.number
                 WHERE t.sip_domain = ?1",
            )?
            .query_row((domain, user), |r| {
                Ok(DirectoryUser {
                    tenant_id: r.get(0)?,
                    domain: r.get(1)?,
                    number: r.get(2)?,
                    display_name: r.get(3)?,
                    sip_password: r.get(4)?,
                    voicemail_enabled: r.get::<_, i64>(5)? != 0,
                    voicemail_pin: r.get(6)?,
                    voicemail_email: r.get(7)?,
                    voicemail_attach: r.get::<_, i64>(8)? != 0,
                    max_calls: r.get(9)?,
                    tenant_enabled: r.get::<_, i64>(10)? != 0,
                })
            })
            .optional()?;
        Ok(row)
    }

    /// Whether a domain belongs to a tenant (the directory's domain-level questions).
    pub fn domain_exists(&self, domain: &str) -> Result<bool> {
        let c = self.conn()?;
        let n: i64 = c.prepare_cached("SELECT COUNT(*) FROM tenants WHERE sip_domain = ?1")?.query_row([domain], |r| r.get(0))?;
        Ok(n > 0)
    }

    /// Every trunk, as a sofia gateway (only active ones are served).
    pub fn gateway_rows(&self) -> Result<Vec<GatewayRow>> {
        let c = self.conn()?;
        let rows = c
            .prepare_cached("SELECT id, name, host, port, transport, username, password, register, caller_id, active FROM trunks ORDER BY id")?
            .query_map([], |r| {
                Ok(GatewayRow {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    host: r.get(2)?,
                    port: r.get(3)?,
                    transport: r.get(4)?,
                    username: r.get(5)?,
                    password: r.get(6)?,
                    register: r.get::<_, i64>(7)? != 0,
                    caller_id: r.get(8)?,
                    active: r.get::<_, i64>(9)? != 0,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// Every music-on-hold class of every tenant (local_stream.conf).
    pub fn moh_class_rows(&self) -> Result<Vec<MohClassRow>> {
        let c = self.conn()?;
        let rows = c
            .prepare_cached("SELECT tenant_id, id FROM moh_classes ORDER BY tenant_id, id")?
            .query_map([], |r| Ok(MohClassRow { tenant_id: r.get(0)?, class_id: r.get(1)? }))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }
}
