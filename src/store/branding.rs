//! Which host names may carry whose login page.
//!
//! The login page asks for its branding by the host the browser is on
//! (`GET /branding/public?host=`), before anyone signs in: a branding row is a title, a logo
//! and a background shown to whoever opens that host. So a tenant admin may brand only host
//! names of the tenant's own: its SIP domain or a name under it, and not one under a longer
//! SIP domain of another tenant. Anything else is assigned by the super admin (a row whose
//! host name the tenant admin may then restyle but not change). The installation's own host
//! names — where every tenant and the super admin sign in: `public_url`'s host, `localhost`
//! and IP addresses — carry only the system's branding (a row without a tenant), whoever
//! writes it, and only a system row is served for them.

use rusqlite::OptionalExtension;

use super::{validate, Result, Store, StoreError, TenantId};

/// Who writes a branding row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writer {
    SuperAdmin,
    /// A tenant admin, writing a row of this tenant.
    TenantAdmin(TenantId),
}

/// The installation's own host names (besides IP addresses, which are never a tenant's):
/// `localhost` and the host of `public_url`, lowercased.
pub fn installation_hosts(public_url: &str) -> Vec<String> {
    let mut hosts = vec!["localhost".to_string()];
    let rest = public_url.trim().split_once("://").map_or(public_url.trim(), |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.split(':').next().unwrap_or(""),
    };
    if let Ok(h) = validate::hostname(host) {
        if !hosts.contains(&h) {
            hosts.push(h);
        }
    }
    hosts
}

/// Whether `host` is the installation's: one of `installation` or under `localhost`, or an
/// IP address.
pub fn is_installation_host(host: &str, installation: &[String]) -> bool {
    host.parse::<std::net::IpAddr>().is_ok() || host.ends_with(".localhost") || installation.iter().any(|h| h == host)
}

/// Whether `host` is `domain` or a name under it.
fn under(host: &str, domain: &str) -> bool {
    host == domain || host.strip_suffix(domain).is_some_and(|p| p.ends_with('.'))
}

impl Store {
    /// Checks the host name a branding row is given. `tenant`: the row's tenant after the
    /// write (None: the system's row); `host`: the new host name; `current`: the row's host
    /// name before (None on create). A host name a tenant admin sends back unchanged (one the
    /// super admin assigned) passes.
    pub fn check_branding_host(
        &self,
        writer: Writer,
        tenant: Option<TenantId>,
        host: Option<&str>,
        current: Option<&str>,
        installation: &[String],
    ) -> Result<()> {
        let Some(host) = host.filter(|h| !h.trim().is_empty()) else { return Ok(()) };
        // A malformed name is the field validation's to refuse.
        let Ok(host) = validate::hostname(host) else { return Ok(()) };
        if tenant.is_some() && is_installation_host(&host, installation) {
            return Err(StoreError::invalid(
                "hostname",
                "is where every tenant and the super admin sign in: only the system's branding (no tenant) may use it",
            ));
        }
        let TenantId(own) = match writer {
            Writer::SuperAdmin => return Ok(()),
            Writer::TenantAdmin(t) => t,
        };
        if current.and_then(|c| validate::hostname(c).ok()).as_deref() == Some(host.as_str()) {
            return Ok(());
        }
        // The tenant whose SIP domain is the longest one the host is under owns it.
        let c = self.conn()?;
        let owner: Option<i64> = c
            .prepare_cached(
                "SELECT id FROM tenants WHERE ?1 = lower(sip_domain) OR ?1 LIKE '%.' || lower(sip_domain)
                 ORDER BY length(sip_domain) DESC LIMIT 1",
            )?
            .query_row([&host], |r| r.get(0))
            .optional()?;
        let own_domain: Option<String> =
            c.prepare_cached("SELECT lower(sip_domain) FROM tenants WHERE id = ?1")?.query_row([own], |r| r.get(0)).optional()?;
        match own_domain {
            Some(d) if owner == Some(own) && under(&host, &d) => Ok(()),
            Some(d) => Err(StoreError::invalid(
                "hostname",
                format!("must be your SIP domain {d} or a name under it (e.g. portal.{d}); other host names are assigned by the super admin"),
            )),
            None => Err(StoreError::NotFound),
        }
    }

    /// The login page's branding for `host`: its row, or the system default. For one of the
    /// installation's host names only a system row (no tenant) is served, whatever a tenant
    /// may have claimed before host names were checked.
    pub fn public_branding(&self, host: &str, installation_host: bool) -> Result<Option<serde_json::Value>> {
        let c = self.conn()?;
        let row = c
            .prepare_cached(
                "SELECT title, logo, login_background, favicon, footer, support_email FROM branding
                 WHERE (hostname = ?1 AND (?2 = 0 OR tenant_id IS NULL)) OR (tenant_id IS NULL AND hostname IS NULL)
                 ORDER BY hostname IS NULL LIMIT 1",
            )?
            .query_row((host, installation_host), |r| {
                Ok(serde_json::json!({
                    "title": r.get::<_, String>(0)?, "logo": r.get::<_, String>(1)?, "login_background": r.get::<_, String>(2)?,
                    "favicon": r.get::<_, String>(3)?, "footer": r.get::<_, String>(4)?, "support_email": r.get::<_, String>(5)?,
                }))
            })
            .optional()?;
        Ok(row)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_installation_s_host_names() {
        let hosts = installation_hosts("https://PBX.Example.com:8443/app");
        assert_eq!(hosts, ["localhost", "pbx.example.com"]);
        assert_eq!(installation_hosts(""), ["localhost"]);
        assert_eq!(installation_hosts("http://user@pbx.test"), ["localhost", "pbx.test"]);
        for h in ["pbx.example.com", "localhost", "app.localhost", "192.0.2.10", "::1"] {
            assert!(is_installation_host(h, &hosts), "{h}");
        }
        assert!(!is_installation_host("portal.example.com", &hosts));
        assert!(under("a.example.com", "example.com") && under("example.com", "example.com"));
        assert!(!under("badexample.com", "example.com"));
    }
}
