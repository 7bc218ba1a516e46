//! Routing decisions that do not need a live call: the router acts on them and route
//! explain describes them, so the two cannot disagree.

use super::config::{CallBlock, Extension, FollowMe, FollowMeStep, OutboundRoute, RouteTrunk};
use super::dial;

/// What happens when an extension is busy or does not answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fallback {
    /// Its forward for that case.
    Forward(String),
    /// Its voicemail box.
    Voicemail(String),
    /// Nothing configured: the call ends with this cause.
    End(&'static str),
}

pub fn unavailable(e: &Extension, busy: bool) -> Fallback {
    let forward = if busy { &e.forward_busy } else { &e.forward_no_answer };
    if !forward.is_empty() {
        Fallback::Forward(forward.clone())
    } else if e.voicemail_enabled {
        Fallback::Voicemail(e.number.clone())
    } else {
        Fallback::End(if busy { "USER_BUSY" } else { "NO_ANSWER" })
    }
}

/// When a follow-me step rings, in seconds from the start of the call: (from, until). The
/// store allows delay 0–120 and timeout 5–120; older rows are held to that too.
pub fn follow_me_window(step: &FollowMeStep) -> (i64, i64) {
    let delay = step.delay.clamp(0, 120);
    (delay, delay + step.timeout.clamp(5, 120))
}

/// What follows a follow-me cascade nobody answered.
pub fn after_follow_me(fm: &FollowMe, e: &Extension) -> Fallback {
    if fm.voicemail_last && e.voicemail_enabled {
        Fallback::Voicemail(e.number.clone())
    } else {
        Fallback::End("NO_ANSWER")
    }
}

/// The first outbound route (by priority) whose pattern matches, and the number it dials
/// after strip and prepend; None when no route matches. The rewritten number may still be
/// refused by [`dial::number`].
pub fn outbound(routes: Vec<OutboundRoute>, number: &str) -> Option<(OutboundRoute, String)> {
    let route = routes.into_iter().find(|r| dial::pattern_matches(&r.pattern, number))?;
    let strip = (route.strip_digits.max(0) as usize).min(number.len());
    let out = format!("{}{}", route.prepend, &number[strip..]);
    Some((route, out))
}

/// The caller ID a call out presents on `trunk`: the route's, else the trunk's own, else
/// None (the caller's own goes out: a phone's from its directory entry, an outside caller's
/// as it came in). Only an E.164 number qualifies — it is written into the dial string.
pub fn presented_caller_id<'a>(route: &'a OutboundRoute, trunk: &'a RouteTrunk) -> Option<&'a str> {
    let e164 = |c: &&str| c.strip_prefix('+').is_some_and(|d| (1..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()));
    [route.caller_id.as_str(), trunk.caller_id.as_str()].into_iter().find(|c| !c.is_empty()).filter(e164)
}

/// The channel variables of a leg out on `trunk` (`k=v` items for its `[…]`): the caller
/// ID it presents (a leg's origination_caller_id_number wins over the channel's effective
/// one, switch_ivr_originate.c:3017–3020; with the gateway's caller-id-in-from it is also
/// the From user the carrier sees), and the trunk's codecs as the whole offer. Without
/// them the leg offers only the codec the caller's leg negotiated
/// (switch_core_media.c:2245–2277, originator_codec): a G722 phone's call reached a G.711
/// carrier as a G722-only offer, was refused with 488 (INCOMPATIBLE_DESTINATION, no
/// failover cause) and the caller heard nothing. With the trunk's list FreeSWITCH
/// transcodes. The codec names are the store's fixed list; quoted, as the list holds
/// commas (switch_separate_string keeps a single-quoted value whole).
pub fn trunk_leg_vars(route: &OutboundRoute, trunk: &RouteTrunk) -> Vec<String> {
    let mut vars = Vec::new();
    if let Some(cid) = presented_caller_id(route, trunk) {
        vars.push(format!("origination_caller_id_number={cid}"));
    }
    let codecs: Vec<&str> =
        trunk.codecs.iter().map(String::as_str).filter(|c| !c.is_empty() && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.')).collect();
    if !codecs.is_empty() {
        vars.push(format!("absolute_codec_string='{}'", codecs.join(",")));
    }
    vars
}

/// The block entry that stops `number` in `direction` (inbound: the caller; outbound: the
/// number dialed).
pub fn blocked(blocks: Vec<CallBlock>, direction: &str, number: &str) -> Option<CallBlock> {
    blocks.into_iter().find(|b| {
        (b.direction == direction || b.direction == "both")
            && match b.kind.as_str() {
                "pattern" => dial::pattern_matches(&b.value, number),
                _ => b.value == number,
            }
    })
}

/// The local_stream a music-on-hold class plays: `moh_t<tenant>_c<class>`. The FreeSWITCH
/// configuration switchboard serves names its local_stream directories the same way.
pub fn moh_stream(tenant: i64, class: i64) -> String {
    format!("local_stream://moh_t{tenant}_c{class}")
}

#[cfg(test)]
mod tests {
    use super::{presented_caller_id, trunk_leg_vars};
    use crate::pbx::config::{OutboundRoute, RouteTrunk};

    #[test]
    fn the_caller_id_is_the_route_s_then_the_trunk_s_and_only_ever_a_number() {
        let route = |cid: &str| OutboundRoute {
            id: 1,
            name: "r".into(),
            pattern: "+X.".into(),
            strip_digits: 0,
            prepend: String::new(),
            caller_id: cid.into(),
            failover_causes: vec![],
            trunks: vec![],
            rate_plan_id: None,
        };
        let trunk = |cid: &str| RouteTrunk { trunk_id: 1, max_channels: 0, caller_id: cid.into(), codecs: vec![] };
        assert_eq!(presented_caller_id(&route("+442079460000"), &trunk("+12125550100")), Some("+442079460000"));
        assert_eq!(presented_caller_id(&route(""), &trunk("+12125550100")), Some("+12125550100"));
        assert_eq!(presented_caller_id(&route(""), &trunk("")), None);
        // A row edited by hand past the API's checks never reaches the dial string.
        for hostile in ["+1]sofia/gateway/x", "+1,user/2000", "+1${system(x)}", "1001", "+", "+1234567890123456"] {
            assert_eq!(presented_caller_id(&route(hostile), &trunk("")), None, "{hostile}");
            assert_eq!(presented_caller_id(&route(""), &trunk(hostile)), None, "{hostile}");
        }
    }

    #[test]
    fn a_trunk_leg_offers_the_trunk_s_codecs_and_only_codec_names() {
        let route = OutboundRoute {
            id: 1,
            name: "r".into(),
            pattern: "+X.".into(),
            strip_digits: 0,
            prepend: String::new(),
            caller_id: "+12125550100".into(),
            failover_causes: vec![],
            trunks: vec![],
            rate_plan_id: None,
        };
        let trunk = |codecs: &[&str]| RouteTrunk {
            trunk_id: 1,
            max_channels: 0,
            caller_id: String::new(),
            codecs: codecs.iter().map(|c| c.to_string()).collect(),
        };
        assert_eq!(
            trunk_leg_vars(&route, &trunk(&["PCMU", "PCMA"])),
            ["origination_caller_id_number=+12125550100", "absolute_codec_string='PCMU,PCMA'"]
        );
        assert_eq!(trunk_leg_vars(&route, &trunk(&[])), ["origination_caller_id_number=+12125550100"], "no list: the caller's codec");
        // A row edited by hand past the API's checks never reaches the dial string.
        assert_eq!(
            trunk_leg_vars(&route, &trunk(&["G722", "PCMU']user/1", "x,y"])),
            ["origination_caller_id_number=+12125550100", "absolute_codec_string='G722'"]
        );
    }
}
