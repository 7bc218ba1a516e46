//! What a phone's configuration file is made of: the device, its tenant's domain and time
//! zone, its profile and its SIP lines with their extensions' credentials.

use rusqlite::OptionalExtension;

use super::{Result, Store, TenantId};

/// One SIP line: an extension of the device's tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub number: String,
    pub display_name: String,
    pub password: String,
}

/// A device's profile settings as the store keeps them (JSON lists as text).
#[derive(Debug, Clone, Default)]
pub struct ProfileRow {
    pub codecs: String,
    pub dtmf_mode: String,
    pub timezone: String,
    pub ntp_server: String,
    pub feature_keys: String,
}

/// A device as provisioning sees it. Only devices of enabled tenants are found.
#[derive(Debug, Clone)]
pub struct ProvisionDevice {
    pub id: i64,
    pub tenant: TenantId,
    pub mac: String,
    pub vendor: String,
    pub model: String,
    pub secret: String,
    pub domain: String,
    pub tenant_timezone: String,
    pub profile: Option<ProfileRow>,
    pub lines: Vec<Line>,
}

/// How the device is looked up.
#[derive(Debug, Clone, Copy)]
pub enum DeviceKey<'a> {
    Mac(&'a str),
    /// The provisioning secret, as the token of a provisioning URL.
    Token(&'a str),
}

impl Store {
    pub fn provision_device(&self, key: DeviceKey<'_>) -> Result<Option<ProvisionDevice>> {
        let c = self.conn()?;
        let (sql, arg) = match key {
            DeviceKey::Mac(m) => ("d.mac = ?1", m),
            DeviceKey::Token(t) => ("d.provision_secret = ?1", t),
        };
        let found = c
            .prepare_cached(&format!(
                "SELECT d.id, d.tenant_id, d.mac, d.vendor, d.model, d.provision_secret, t.sip_domain, t.timezone,
                        p.id, p.codecs, p.dtmf_mode, p.timezone, p.ntp_server, p.feature_keys
                 FROM devices d
                 JOIN tenants t ON t.id = d.tenant_id AND t.enabled = 1
                 LEFT JOIN device_profiles p ON p.id = d.profile_id
                 WHERE {sql} AND d.provision_secret <> ''"
            ))?
            .query_row([arg], |r| {
                let profile = match r.get::<_, Option<i64>>(8)? {
                    Some(_) => Some(ProfileRow {
                        codecs: r.get(9)?,
                        dtmf_mode: r.get(10)?,
                        timezone: r.get(11)?,
                        ntp_server: r.get(12)?,
                        feature_keys: r.get(13)?,
                    }),
                    None => None,
                };
                Ok(ProvisionDevice {
                    id: r.get(0)?,
                    tenant: TenantId(r.get(1)?),
                    mac: r.get(2)?,
                    vendor: r.get(3)?,
                    model: r.get(4)?,
                    secret: r.get(5)?,
                    domain: r.get(6)?,
                    tenant_timezone: r.get(7)?,
                    profile,
                    lines: Vec::new(),
                })
            })
            .optional()?;
        let Some(mut d) = found else { return Ok(None) };
        d.lines = c
            .prepare_cached(
                "SELECT e.number, e.display_name, e.sip_password FROM device_lines l JOIN extensions e ON e.id = l.extension_id
                 WHERE l.parent_id = ?1 ORDER BY l.position",
            )?
            .query_map([d.id], |r| Ok(Line { number: r.get(0)?, display_name: r.get(1)?, password: r.get(2)? }))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(Some(d))
    }

    /// The numbers of a device's lines (a resync asks each registered one).
    pub fn device_line_numbers(&self, device: i64) -> Result<Vec<String>> {
        let c = self.conn()?;
        let rows = c
            .prepare_cached(
                "SELECT e.number FROM device_lines l JOIN extensions e ON e.id = l.extension_id WHERE l.parent_id = ?1 ORDER BY l.position",
            )?
            .query_map([device], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }
}
