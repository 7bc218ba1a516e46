//! One rule for a channel's tenant (issue 27): the same channel, as routing reads it
//! (`pbx::channel::Facts::entry`), as the live model reads it from an event and from
//! `show channels`, and as reconciliation of the caps reads it from `show channels`, names
//! the same tenant. `show channels` carries no domain, so a phone's call in FreeSWITCH's
//! `default` context is nobody's in that list; each source is held to what the rule says
//! of the facts it carries.

use switchboard::esl::{Event, Headers};
use switchboard::pbx::channel::{Entry, Facts};
use switchboard::switch::show::ChannelRow;
use switchboard::switch::tenants::Tenants;
use switchboard::switch::Model;

/// acme.test is tenant 1, beta.test tenant 2; the DID +15550002000 is beta's.
struct Fixed;

impl Tenants for Fixed {
    fn by_domain(&mut self, d: &str) -> Option<i64> {
        match d {
            "acme.test" => Some(1),
            "beta.test" => Some(2),
            _ => None,
        }
    }
    fn by_did(&mut self, n: &str) -> Option<i64> {
        (n == "+15550002000").then_some(2)
    }
}

struct Case {
    what: &'static str,
    context: &'static str,
    profile: &'static str,
    /// `domain_name` on the channel (events and the session's channel data carry it; `show
    /// channels` does not).
    domain: Option<&'static str>,
    /// The tenant with every fact known (routing, the model from an event).
    tenant: Option<i64>,
    /// The tenant from `show channels` (no domain).
    listed: Option<i64>,
}

const CASES: &[Case] = &[
    Case { what: "a trunk's call", context: "public", profile: "external", domain: None, tenant: Some(2), listed: Some(2) },
    Case {
        what: "the external profile in the default context is a trunk's, whatever its From host",
        context: "default",
        profile: "external",
        domain: Some("acme.test"),
        tenant: Some(2),
        listed: Some(2),
    },
    Case {
        what: "a leg a phone transferred keeps its tenant's context on the external profile",
        context: "acme.test",
        profile: "external",
        domain: None,
        tenant: Some(1),
        listed: Some(1),
    },
    Case {
        what: "the context outranks the From host",
        context: "acme.test",
        profile: "internal",
        domain: Some("beta.test"),
        tenant: Some(1),
        listed: Some(1),
    },
    Case {
        what: "a phone in the default context is its domain's",
        context: "default",
        profile: "internal",
        domain: Some("beta.test"),
        tenant: Some(2),
        listed: None,
    },
    Case { what: "a domain no tenant has", context: "nobody.test", profile: "internal", domain: None, tenant: None, listed: None },
    Case { what: "nothing names a tenant", context: "default", profile: "internal", domain: None, tenant: None, listed: None },
];

const DIALED: &str = "1 (555) 000-2000";

impl Case {
    fn facts(&self, domain: Option<&'static str>) -> Facts<'static> {
        Facts { context: self.context, profile: self.profile, destination: DIALED, domain }
    }

    fn name(&self) -> String {
        format!("sofia/{}/+15551112222@10.0.0.1", self.profile)
    }

    /// What the router decides with these facts.
    fn routed(&self, facts: &Facts<'_>) -> Option<i64> {
        match facts.entry()? {
            Entry::Trunk { did } => Fixed.by_did(&did),
            Entry::Phone { domain } => Fixed.by_domain(&domain),
        }
    }

    /// An event of the channel; `variables`: whether it carries the channel's variables
    /// (CHANNEL_ANSWER does, CHANNEL_CREATE does not: the profile then comes from the name).
    fn event(&self, variables: bool) -> Event {
        let name = self.name();
        let mut pairs = vec![
            ("Event-Name", if variables { "CHANNEL_ANSWER" } else { "CHANNEL_CREATE" }),
            ("Unique-ID", "a-1"),
            ("Call-Direction", "inbound"),
            ("Channel-Name", name.as_str()),
            ("Caller-Context", self.context),
            ("Caller-Destination-Number", DIALED),
        ];
        if variables {
            pairs.push(("variable_sofia_profile_name", self.profile));
        }
        if let Some(d) = self.domain.filter(|_| variables) {
            pairs.push(("variable_domain_name", d));
        }
        Event { headers: Headers::from_pairs(pairs, false), body: None }
    }

    fn row(&self) -> ChannelRow {
        ChannelRow {
            uuid: "a-1".into(),
            call_uuid: "a-1".into(),
            direction: "inbound".into(),
            name: self.name(),
            context: self.context.into(),
            dest: DIALED.into(),
            ..Default::default()
        }
    }
}

#[test]
fn routing_the_live_model_and_reconciliation_name_the_same_tenant() {
    for c in CASES {
        let what = c.what;
        assert_eq!(c.routed(&c.facts(c.domain)), c.tenant, "routing: {what}");
        assert_eq!(c.routed(&c.facts(None)), c.listed, "routing without the domain: {what}");

        let mut m = Model::default();
        m.apply(&c.event(true), &mut Fixed);
        assert_eq!(m.channel("a-1").and_then(|c| c.tenant_id), c.tenant, "the live model, from an event: {what}");

        // Without variables the domain is unknown too: the event says what the list says.
        let mut m = Model::default();
        m.apply(&c.event(false), &mut Fixed);
        assert_eq!(m.channel("a-1").and_then(|c| c.tenant_id), c.listed, "the live model, from an event without variables: {what}");

        let mut m = Model::default();
        m.load_channels(vec![c.row()], &mut Fixed);
        assert_eq!(m.channel("a-1").and_then(|c| c.tenant_id), c.listed, "the live model, from show channels: {what}");

        assert_eq!(switchboard::call::reconcile::tenant_of(&c.row(), &mut Fixed), c.listed, "reconciliation: {what}");
    }
}
