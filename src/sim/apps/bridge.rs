//! `bridge`: dial strings parsed as switch_ivr_originate reads them, the codecs a leg
//! offers, B-legs rung, answered, bridged and hung up with FreeSWITCH's events.

use std::sync::Arc;

use crate::sim::bridged::Partner;
use crate::sim::call::{BridgeRun, Core, LegTime};
use crate::sim::channel::Channel;
use crate::sim::scenario::Target;

use super::*;

/// One leg of a dial string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leg {
    pub vars: Vec<(String, String)>,
    pub endpoint: String,
}

/// `{global}[local]a,[local]b|c`: `,` rings together, `|` fails over (switch_ivr_originate.c).
/// Separators inside `{}` and `[]` belong to the variables.
pub fn parse_dialstring(s: &str) -> (Vec<(String, String)>, Vec<Vec<Leg>>) {
    let s = s.trim();
    let (globals, rest) = take_vars(s, '{', '}');
    let mut groups = Vec::new();
    for group in split_top(rest, '|') {
        let mut legs = Vec::new();
        for leg in split_top(&group, ',') {
            let (vars, endpoint) = take_vars(leg.trim(), '[', ']');
            if !endpoint.trim().is_empty() {
                legs.push(Leg { vars, endpoint: endpoint.trim().to_string() });
            }
        }
        if !legs.is_empty() {
            groups.push(legs);
        }
    }
    (globals, groups)
}

fn take_vars(s: &str, open: char, close: char) -> (Vec<(String, String)>, &str) {
    if !s.starts_with(open) {
        return (Vec::new(), s);
    }
    let Some(end) = s.find(close) else {
        return (Vec::new(), s);
    };
    let vars =
        s[1..end].split(',').filter_map(|kv| kv.split_once('=').map(|(k, v)| (k.trim().to_string(), v.trim_matches('\'').to_string()))).collect();
    (vars, &s[end + 1..])
}

fn split_top(s: &str, sep: char) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '{' | '[' => depth += 1,
            '}' | ']' => depth -= 1,
            _ => {}
        }
        if c == sep && depth == 0 {
            out.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    out.push(cur);
    out
}

/// The DIALSTATUS a cause maps to (switch_ivr_originate.c:4065–4085).
fn dialstatus(cause: &str) -> &str {
    match cause {
        "SUCCESS" => "SUCCESS",
        "ORIGINATOR_CANCEL" => "CANCEL",
        "USER_BUSY" => "BUSY",
        "NO_ANSWER" => "NOANSWER",
        "DESTINATION_OUT_OF_ORDER" | "INVALID_PROFILE" => "INVALIDARGS",
        "CALL_REJECTED" => "DONTCALL",
        other => other,
    }
}

/// The profile's codec list, the stock vars.xml's `global_codec_prefs` (outbound-codec-prefs
/// of both stock profiles).
pub const PROFILE_CODECS: &[&str] = &["OPUS", "G722", "PCMU", "PCMA"];

/// The codecs a bridged leg offers (switch_core_media_prepare_codecs,
/// switch_core_media.c:2245–2277): `absolute_codec_string` when the leg has it; else, by
/// default, only the codec the caller settled on (`originator_codec`), so a G722 phone's
/// call offers a G.711 carrier G722 alone; with `media_mix_inbound_outbound_codecs` the
/// caller's codec then the profile's list, which the switch transcodes between. Names only
/// (`PCMU@20i` → `PCMU`).
pub fn codec_offer(a_leg: &Channel, caller_codec: &str, leg_var: &dyn Fn(&str) -> Option<String>) -> Vec<String> {
    let var = |n: &str| leg_var(n).or_else(|| a_leg.var(n).map(str::to_string));
    let names = |list: &str| {
        let list = list.trim().trim_matches('\'');
        list.split(',').map(|c| c.split('@').next().unwrap_or("").trim().to_ascii_uppercase()).filter(|c| !c.is_empty()).collect()
    };
    if let Some(abs) = var("absolute_codec_string") {
        return names(&abs);
    }
    let mix = var("media_mix_inbound_outbound_codecs").is_some_and(|v| matches!(v.as_str(), "true" | "yes" | "on" | "1"));
    if !mix {
        return names(caller_codec);
    }
    let mut offer: Vec<String> = names(caller_codec);
    offer.extend(PROFILE_CODECS.iter().map(|c| c.to_string()));
    offer
}

pub(super) async fn bridge(core: &Arc<Core>, arg: &str) {
    let id = core.switch.identity();
    let (globals, groups) = parse_dialstring(arg);
    let var_of = |name: &str, leg: &Leg| -> Option<String> { leg.vars.iter().chain(globals.iter()).find(|(k, _)| k == name).map(|(_, v)| v.clone()) };
    let second = core.scenario.second_ms;
    let (a_cid_name, a_cid_num, call_timeout) = {
        let st = core.lock();
        (
            st.ch.var("effective_caller_id_name").unwrap_or(&st.ch.cid_name).to_string(),
            st.ch.var("effective_caller_id_number").unwrap_or(&st.ch.cid_number).to_string(),
            st.ch.var("call_timeout").and_then(|v| v.parse::<u64>().ok()).unwrap_or(60),
        )
    };
    let bridge_started = core.elapsed_ms();
    let mut run = BridgeRun { dialstring: arg.to_string(), ..BridgeRun::default() };
    let mut cause = "NO_ROUTE_DESTINATION".to_string();
    let mut causes = Vec::new();
    'groups: for group in &groups {
        if core.is_down() {
            cause = "ORIGINATOR_CANCEL".into();
            break;
        }
        // Offer every leg of the group at once; each has its own outcome time.
        let mut legs: Vec<(Leg, Channel, u64, Option<&'static str>, String)> = Vec::new();
        for leg in group {
            let cid_name = var_of("origination_caller_id_name", leg).unwrap_or_else(|| a_cid_name.clone());
            let cid_num = var_of("origination_caller_id_number", leg).unwrap_or_else(|| a_cid_num.clone());
            run.caller_id_name.get_or_insert(cid_name.clone());
            run.caller_id_number.get_or_insert(cid_num.clone());
            // leg_timeout and the call's own timeout both count from the start of the
            // originate, not from the leg's delayed start (switch_ivr_originate.c,
            // check_per_channel_timeouts: `elapsed > per_channel_timelimit_sec`).
            let secs = |name: &str| var_of(name, leg).and_then(|v| v.parse::<u64>().ok());
            let timeout_ms = secs("leg_timeout").or_else(|| secs("originate_timeout")).unwrap_or(call_timeout).min(call_timeout) * second;
            // leg_delay_start: the leg exists at once but is held back this long.
            let delay_ms = secs("leg_delay_start").unwrap_or(0) * second;
            let mut target = core.scenario.target(&leg.endpoint);
            if let Some(accepts) = core.scenario.target_codecs.get(&leg.endpoint) {
                let offer = codec_offer(&core.lock().ch, &core.scenario.caller_codec, &|n| var_of(n, leg));
                if !offer.iter().any(|c| accepts.iter().any(|a| a.eq_ignore_ascii_case(c))) {
                    target = Target::Fail { cause: "INCOMPATIBLE_DESTINATION".into(), after_ms: 0 };
                }
            }
            let dest = leg.endpoint.rsplit('/').next().unwrap_or("").split('@').next().unwrap_or("").to_string();
            let mut b = Channel::outbound(&id, &leg.endpoint, &cid_name, &cid_num, &dest);
            // The dial string's variables, `{}` for every leg and `[]` for this one, are the
            // leg's channel variables (switch_ivr_originate.c:3129 "copy local originate vars
            // to the channel"), seen in its events.
            for (k, v) in globals.iter().chain(leg.vars.iter()) {
                b.set_var(k, v);
            }
            b.set_originator(&core.lock().ch);
            let (at, outcome, fail) = match target {
                _ if delay_ms >= timeout_ms => (timeout_ms, None, "NO_ANSWER".into()),
                Target::Answer { after_ms, .. } if delay_ms + after_ms <= timeout_ms => (delay_ms + after_ms, Some("answer"), String::new()),
                Target::Answer { .. } | Target::NoAnswer => (timeout_ms, None, "NO_ANSWER".into()),
                Target::Busy { after_ms } => ((delay_ms + after_ms).min(timeout_ms), None, "USER_BUSY".into()),
                Target::Reject { after_ms } => ((delay_ms + after_ms).min(timeout_ms), None, "CALL_REJECTED".into()),
                Target::Unregistered => (delay_ms, None, "USER_NOT_REGISTERED".into()),
                Target::Fail { cause, after_ms } => ((delay_ms + after_ms).min(timeout_ms), None, cause),
            };
            if delay_ms < timeout_ms {
                let start = core.elapsed_ms() - bridge_started + delay_ms;
                run.rang.push(LegTime { endpoint: leg.endpoint.clone(), from_ms: start, to_ms: start + (at - delay_ms) });
            }
            legs.push((leg.clone(), b, at, outcome, fail));
        }
        for (_, b, at, _, _) in legs.iter_mut() {
            if *at > 0 {
                let ev = b.event(&id, "CHANNEL_CREATE", ("switch_core_state_machine.c", "switch_core_session_run", 580), Vec::new(), Vec::new());
                core.fire(ev);
                b.progress_us = id.now_micros();
                let ev = b.event(&id, "CHANNEL_PROGRESS", ("sofia.c", "sofia_handle_sip_i_state", 7085), Vec::new(), Vec::new());
                core.fire(ev);
            }
        }
        legs.sort_by_key(|l| l.2);
        let winner = legs.iter().position(|l| l.3.is_some());
        let decided_at = match winner {
            Some(w) => legs[w].2,
            None => legs.iter().map(|l| l.2).max().unwrap_or(0),
        };
        // While it rings, the call can be intercepted (picked up).
        let mut picked = core.switch.ringing(&core.uuid());
        let rang_out = tokio::select! {
            ok = core.wait(decided_at) => Ok(ok),
            Ok(picker) = &mut picked => Err(picker),
        };
        core.switch.ringing_done(&core.uuid());
        let rang_out = match rang_out {
            Ok(ok) => ok,
            Err(picker) => {
                // Intercepted: the caller is answered, its ringing legs go down PICKED_OFF
                // (switch_ivr_originate.c 4140–4146) and the originate fails with that cause;
                // the conversation with the picker starts once the bridge app has returned.
                answer(core);
                for (leg, mut b, at, _, _) in legs {
                    if at > 0 {
                        hangup_leg(core, &mut b, "PICKED_OFF");
                    }
                    run.legs.push((leg.endpoint, "PICKED_OFF".into()));
                }
                run.picked_by = Some(picker.uuid());
                core.lock().intercepted = Some(picker);
                cause = "PICKED_OFF".into();
                break 'groups;
            }
        };
        if !rang_out {
            // The caller hung up while the legs rang.
            for (leg, mut b, at, _, _) in legs {
                if at > 0 {
                    hangup_leg(core, &mut b, "ORIGINATOR_CANCEL");
                }
                run.legs.push((leg.endpoint, "ORIGINATOR_CANCEL".into()));
            }
            cause = "ORIGINATOR_CANCEL".into();
            break 'groups;
        }
        match winner {
            None => {
                for (leg, mut b, at, _, fail) in legs {
                    if at > 0 {
                        hangup_leg(core, &mut b, &fail);
                    }
                    causes.push(format!("{};{}", b.uuid, fail));
                    run.legs.push((leg.endpoint, fail.clone()));
                    cause = fail;
                }
                if causes.iter().any(|c| c.ends_with(";NO_ANSWER")) {
                    cause = "NO_ANSWER".into();
                }
            }
            Some(w) => {
                let mut legs = legs;
                let (leg, b, _, _, _) = legs.remove(w);
                for (other, mut ob, at, _, _) in legs {
                    if at > 0 {
                        hangup_leg(core, &mut ob, "LOSE_RACE");
                    }
                    run.legs.push((other.endpoint, "LOSE_RACE".into()));
                }
                run.legs.push((leg.endpoint.clone(), "SUCCESS".into()));
                run.answered_by = Some(leg.endpoint.clone());
                let talk_ms = match core.scenario.target(&leg.endpoint) {
                    Target::Answer { talk_ms, .. } => talk_ms,
                    _ => None,
                };
                let b_uuid = b.uuid.clone();
                crate::sim::bridged::talk(core, Partner::Leg(Box::new(b), talk_ms)).await;
                cause = "SUCCESS".into();
                causes.push(format!("{b_uuid};SUCCESS"));
                break 'groups;
            }
        }
    }
    run.cause = cause.clone();
    let failed = cause != "SUCCESS";
    let intercepted = run.picked_by.is_some();
    {
        let mut st = core.lock();
        st.ch.set_var("originate_disposition", &cause);
        st.ch.set_var("DIALSTATUS", dialstatus(&cause));
        if !causes.is_empty() {
            let v = if causes.len() == 1 { causes[0].clone() } else { format!("ARRAY::{}", causes.join("|:")) };
            st.ch.set_var("originate_causes", &v);
        }
        if failed {
            st.ch.set_var("originate_failed_cause", &cause);
        }
        st.report.bridges.push(run);
    }
    // An intercepted channel is being transferred (CF_TRANSFER): switch_channel_handle_cause
    // leaves it up whatever continue_on_fail says.
    if failed && !core.is_down() && !intercepted {
        // switch_channel_handle_cause (switch_channel.c:4879–5018): unless continue_on_fail
        // allows it, a failed bridge hangs the caller up — except on NO_ANSWER,
        // NO_USER_RESPONSE and ORIGINATOR_CANCEL.
        let cof = core.lock().ch.var("continue_on_fail").map(str::to_string);
        let allowed = match cof.as_deref() {
            Some(v) if v.eq_ignore_ascii_case("true") => true,
            Some(list) => list.split(',').any(|c| c.trim() == cause),
            None => matches!(cause.as_str(), "NO_ANSWER" | "NO_USER_RESPONSE" | "ORIGINATOR_CANCEL"),
        };
        if !allowed {
            core.hangup(&cause, "switch");
        }
    }
}

/// A B-leg goes down: its CHANNEL_HANGUP, then its own state machine's
/// CHANNEL_HANGUP_COMPLETE (switch_core_state_machine.c:944), go out on the bus and on the
/// A-leg's socket, whose `filter Other-Leg-Unique-ID <A>` lets the B-leg's events through
/// (mod_event_socket.c event_handler, 319–372). Seen on a real 1.10.12 (the differential
/// test in tests/real_switch.rs): the B-leg's CHANNEL_HANGUP_COMPLETE reaches the socket
/// before the caller's CHANNEL_HANGUP.
pub(crate) fn hangup_leg(core: &Arc<Core>, b: &mut Channel, cause: &str) {
    let id = core.switch.identity();
    b.mark_hangup(id.now_micros(), cause);
    let ev = b.event(&id, "CHANNEL_HANGUP", ("switch_channel.c", "switch_channel_perform_hangup", 3447), Vec::new(), Vec::new());
    core.fire(ev);
    let done = b.event(
        &id,
        "CHANNEL_HANGUP_COMPLETE",
        ("switch_core_state_machine.c", "switch_core_session_reporting_state", 944),
        vec![("Hangup-Cause".into(), cause.to_string())],
        Vec::new(),
    );
    core.fire(done);
}
