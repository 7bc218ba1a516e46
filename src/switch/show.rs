//! The switch's own lists, read once here: `show channels as json`, `show registrations as
//! json` (mod_commands.c show_function: `{"row_count":N,"rows":[{…}]}`, every value a string;
//! with no rows FreeSWITCH answers `{"row_count":0}`) and `sofia xmlstatus gateway`. The live
//! model loads them when the control connection is (re)made; reconciliation of the caps
//! compares its slots with [`listed`], a fresh look at the switch's channels.

use crate::esl::inbound::InboundClient;
use crate::esl::ApiCommand;
use crate::pbx::channel::{profile_of_name, Facts};

use super::model::LiveRegistration;

/// One row of `show channels as json`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChannelRow {
    pub uuid: String,
    /// `inbound` for a call handed to the switch (a phone's or a trunk's A-leg), `outbound`
    /// for a leg the switch dialed.
    pub direction: String,
    /// `sofia/<profile>/<user>@<host>`, `loopback/…`.
    pub name: String,
    pub cid_name: String,
    pub cid_num: String,
    /// The number dialed (a DID in `public`).
    pub dest: String,
    /// The dialplan context: `public` for trunks, the tenant's domain for its phones.
    pub context: String,
    /// FreeSWITCH's call state: DOWN, RINGING, EARLY, ACTIVE, HELD, HANGUP.
    pub callstate: String,
    pub held: bool,
    pub read_codec: String,
    /// Unix seconds.
    pub created_epoch: i64,
    /// The call this channel is a leg of (its own UUID for an A-leg).
    pub call_uuid: String,
    /// The application running now (a bridge's dial string names the trunk).
    pub application_data: String,
}

impl ChannelRow {
    /// What the row says about where the channel entered (`show channels` has no domain).
    pub fn facts(&self) -> Facts<'_> {
        Facts { context: &self.context, profile: profile_of_name(&self.name), destination: &self.dest, domain: None }
    }

    /// The call this channel is a leg of, when it is not its own.
    pub fn other_leg(&self) -> Option<&str> {
        (!self.call_uuid.is_empty() && self.call_uuid != self.uuid).then_some(self.call_uuid.as_str())
    }
}

/// One `<gateway>` of `sofia xmlstatus gateway`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GatewayRow {
    pub name: String,
    pub state: String,
    pub status: String,
}

/// The rows of a `show … as json` answer; an answer without `row_count` is not one.
fn rows(what: &str, json: &str) -> Result<Vec<serde_json::Value>, String> {
    let mut v: serde_json::Value = serde_json::from_str(json.trim()).map_err(|e| format!("{what}: {e}"))?;
    if v.get("row_count").is_none() {
        return Err(format!("{what}: unexpected answer {:.80}", json.trim()));
    }
    Ok(match v["rows"].take() {
        serde_json::Value::Array(rows) => rows,
        _ => Vec::new(),
    })
}

fn text(r: &serde_json::Value, k: &str) -> String {
    r[k].as_str().unwrap_or_default().to_string()
}

/// The rows of `show channels as json` (those with a UUID).
pub fn channels(json: &str) -> Result<Vec<ChannelRow>, String> {
    Ok(rows("show channels as json", json)?
        .iter()
        .filter(|r| r["uuid"].is_string())
        .map(|r| ChannelRow {
            uuid: text(r, "uuid"),
            direction: text(r, "direction"),
            name: text(r, "name"),
            cid_name: text(r, "cid_name"),
            cid_num: text(r, "cid_num"),
            dest: text(r, "dest"),
            context: text(r, "context"),
            held: text(r, "callstate") == "HELD" || text(r, "held") == "true",
            callstate: text(r, "callstate"),
            read_codec: text(r, "read_codec"),
            created_epoch: text(r, "created_epoch").parse().unwrap_or(0),
            call_uuid: text(r, "call_uuid"),
            application_data: text(r, "application_data"),
        })
        .collect())
}

/// The rows of `show registrations as json` (mod_commands.c: `select reg_user,realm,token,
/// url,expires,network_ip,network_port,network_proto,hostname,metadata from registrations`),
/// whose tenant the model names.
pub fn registrations(json: &str) -> Result<Vec<LiveRegistration>, String> {
    Ok(rows("show registrations as json", json)?
        .iter()
        .map(|r| LiveRegistration {
            user: text(r, "reg_user"),
            realm: text(r, "realm"),
            contact: text(r, "url"),
            network_ip: text(r, "network_ip"),
            network_port: text(r, "network_port"),
            user_agent: text(r, "metadata"),
            expires: text(r, "expires"),
            tenant_id: None,
        })
        .collect())
}

/// The gateways in `sofia xmlstatus gateway`: one `<gateway>` element per gateway of every
/// running profile, each field on a line of its own (mod_sofia.c:3204–3292,
/// xml_gateway_status and cmd_xml_status). Read line by line: sofia prints some values
/// (`<to>`, `<proxy>`) without escaping them, so the answer is not always well-formed XML,
/// while the three fields read here always are.
pub fn gateways(xml: &str) -> Vec<GatewayRow> {
    let mut out = Vec::new();
    let (mut name, mut state, mut status): (Option<String>, Option<String>, Option<String>) = (None, None, None);
    for line in xml.lines().map(str::trim) {
        let field = |tag: &str| line.strip_prefix(&format!("<{tag}>")).and_then(|r| r.strip_suffix(&format!("</{tag}>"))).map(xml_unescape);
        if line == "<gateway>" {
            (name, state, status) = (None, None, None);
        } else if line == "</gateway>" {
            if let (Some(name), Some(state)) = (name.take(), state.take()) {
                out.push(GatewayRow { name, state, status: status.take().unwrap_or_default() });
            }
        } else if let Some(v) = field("name") {
            name = Some(v);
        } else if let Some(v) = field("state") {
            state = Some(v);
        } else if let Some(v) = field("status") {
            status = Some(v);
        }
    }
    out
}

/// The five entities switch_amp_encode writes.
fn xml_unescape(s: &str) -> String {
    s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'").replace("&amp;", "&")
}

/// The channels the switch lists now, asked over the control connection.
pub async fn listed(client: &InboundClient) -> Result<Vec<ChannelRow>, String> {
    let answer = client.api_cmd(&ApiCommand::ShowChannels).await.map_err(|e| e.to_string())?;
    channels(&answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_switch_channel_list() {
        assert!(channels("{\"row_count\":0}\n").unwrap().is_empty());
        let two = channels(r#"{"row_count":2,"rows":[{"uuid":"a","name":"sofia/x"},{"uuid":"b"},{"name":"no uuid"}]}"#).unwrap();
        assert_eq!(two.iter().map(|c| c.uuid.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        assert!(channels("-ERR no reply").is_err());
        assert!(channels("{}").is_err(), "an answer without row_count is not a list");
        let rows = channels(
            r#"{"row_count":1,"rows":[{"uuid":"a","call_uuid":"a","direction":"inbound","name":"sofia/external/+1555@10.0.0.1","context":"public","dest":"+12125550100","callstate":"HELD","created_epoch":"1763800000","application_data":"{x=1}sofia/gateway/trunk12/+1555"}]}"#,
        )
        .unwrap();
        let r = &rows[0];
        assert_eq!((r.context.as_str(), r.created_epoch, r.held, r.other_leg()), ("public", 1_763_800_000, true, None));
        assert_eq!((r.facts().profile, r.facts().destination), ("external", "+12125550100"));
        assert_eq!(crate::pbx::dialstring::trunk_of(&r.application_data), Some(12));
        let leg = channels(r#"{"row_count":1,"rows":[{"uuid":"b","call_uuid":"a"}]}"#).unwrap();
        assert_eq!(leg[0].other_leg(), Some("a"));
    }

    #[test]
    fn the_registration_list() {
        let regs = registrations(
            r#"{"row_count":1,"rows":[{"reg_user":"1001","realm":"acme.test","url":"sip:1001@10.0.0.5","metadata":"Yealink","expires":"3600"}]}"#,
        )
        .unwrap();
        assert_eq!((regs[0].user.as_str(), regs[0].realm.as_str(), regs[0].user_agent.as_str()), ("1001", "acme.test", "Yealink"));
        assert!(registrations("{\"row_count\":0}").unwrap().is_empty());
        assert!(registrations("-ERR").is_err());
    }

    #[test]
    fn the_gateway_list_parses_as_mod_sofia_prints_it() {
        // As a real 1.10.12 printed it (fields trimmed to those around what is read), with
        // an unescaped `<to>` that a strict XML parser would refuse.
        let xml = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<gateways>\n  <gateway>\n    <name>trunk1</name>\n    \
            <profile>external</profile>\n    <to>sip:a&b@sip.carrier.test</to>\n    <state>REGED</state>\n    <status>UP</status>\n  \
            </gateway>\n  <gateway>\n    <name>trunk2</name>\n    <state>NOREG</state>\n    <status>DOWN</status>\n    \
            <uptime-usec>0</uptime-usec>\n  </gateway>\n  <gateway>\n    <name>a&amp;b</name>\n    <state>REGED</state>\n  </gateway>\n</gateways>\n";
        let states: Vec<(String, String, String)> = gateways(xml).into_iter().map(|g| (g.name, g.state, g.status)).collect();
        let want = [("trunk1", "REGED", "UP"), ("trunk2", "NOREG", "DOWN"), ("a&b", "REGED", "")];
        assert_eq!(states, want.map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string())));
    }
}
