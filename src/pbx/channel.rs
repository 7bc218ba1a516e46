//! Whose channel is this: the one rule, used by routing (which tenant a call is for), the
//! live model (which tenant's monitor shows it) and reconciliation (which tenant's cap a
//! call the switch still runs counts against). Three copies of it had drifted apart: a call
//! from the external profile in the `default` context was a trunk call to the router, a
//! domain lookup to the monitor and nobody's to reconciliation.

use super::dial::e164_of;

/// Where a channel entered the switch, which names its tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// From a trunk: the DID dialed (E.164) names the tenant.
    Trunk { did: String },
    /// From a tenant's phone (or a leg a phone transferred back in): the tenant's SIP domain.
    Phone { domain: String },
}

/// What a channel says about where it came from, from whichever source has it: the
/// session's channel data, an event, or a row of `show channels`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Facts<'a> {
    /// The dialplan context (`Caller-Context`): `public` for trunks, the tenant's domain for
    /// its phones (FreeSWITCH sets it from the directory's user_context, not the caller).
    pub context: &'a str,
    /// The sofia profile the channel came in on (`sofia_profile_name`, or the second part
    /// of its name `sofia/<profile>/…`).
    pub profile: &'a str,
    /// The number dialed (`Caller-Destination-Number`).
    pub destination: &'a str,
    /// `domain_name`, else `sip_from_host`, when the source carries them (`show channels`
    /// does not).
    pub domain: Option<&'a str>,
}

/// The profile in a channel name: `sofia/external/+1555@10.0.0.1` → `external`.
pub fn profile_of_name(name: &str) -> &str {
    name.strip_prefix("sofia/").and_then(|r| r.split('/').next()).unwrap_or("")
}

impl Facts<'_> {
    /// The context names a tenant's domain (not `public`, not FreeSWITCH's `default`).
    fn tenant_context(&self) -> bool {
        !matches!(self.context, "" | "public" | "default")
    }

    /// True for a call from a trunk: the `public` context, or the external profile outside
    /// any tenant's context (a leg a phone transferred keeps its tenant's context, whatever
    /// profile it came in on).
    pub fn from_trunk(&self) -> bool {
        self.context == "public" || (self.profile == "external" && !self.tenant_context())
    }

    /// Where the channel entered; None when nothing names a tenant.
    pub fn entry(&self) -> Option<Entry> {
        if self.from_trunk() {
            return Some(Entry::Trunk { did: e164_of(self.destination) });
        }
        let domain = if self.tenant_context() { self.context } else { self.domain.unwrap_or("") };
        (!domain.is_empty()).then(|| Entry::Phone { domain: domain.to_string() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts<'a>(context: &'a str, profile: &'a str, domain: Option<&'a str>) -> Facts<'a> {
        Facts { context, profile, destination: "1 (212) 555-0100", domain }
    }

    #[test]
    fn where_a_channel_entered() {
        let trunk = Some(Entry::Trunk { did: "+12125550100".into() });
        let acme = Some(Entry::Phone { domain: "acme.example".into() });
        assert_eq!(facts("public", "external", None).entry(), trunk);
        assert_eq!(facts("public", "internal", Some("acme.example")).entry(), trunk, "the context outranks the profile");
        assert_eq!(facts("default", "external", Some("acme.example")).entry(), trunk, "external outside a tenant's context");
        assert_eq!(facts("acme.example", "external", None).entry(), acme, "a transferred leg keeps its tenant's context");
        assert_eq!(facts("acme.example", "internal", Some("other.example")).entry(), acme, "the context outranks the From host");
        assert_eq!(facts("default", "internal", Some("acme.example")).entry(), acme);
        assert_eq!(facts("", "internal", None).entry(), None);
        assert_eq!(profile_of_name("sofia/external/+1555@10.0.0.1"), "external");
        assert_eq!(profile_of_name("loopback/1001-a"), "");
    }
}
