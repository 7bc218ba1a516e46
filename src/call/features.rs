//! Star codes dialed from a phone: voicemail, call forwarding, do-not-disturb and call-flow
//! toggles. Changes go through the same checked store writes as the API, so the API shows
//! them at once, and the activity log records them.

use std::time::Duration;

use serde_json::json;
use tracing::info;

use super::route::{Call, RouteError, INVALID};
use crate::pbx::destination::Destination;
use crate::pbx::dial;
use crate::store::activity::Entry;
use crate::store::resource::{ListQuery, Within};
use crate::store::resources as res;

const DONE: &str = "ivr/ivr-thank_you.wav";
const ENTER_NUMBER: &str = "ivr/ivr-enter_destination_telephone_number.wav";
const ENTER_PIN: &str = "ivr/ivr-please_enter_pin_followed_by_pound.wav";

/// What dialing `code` does, in words (route explain says it as the router does it); None
/// for a code that is no fixed one (a call flow's toggle, or nothing).
pub fn describe(code: &str) -> Option<&'static str> {
    Some(match code {
        "*98" => "check voicemail: mod_voicemail asks for the box and its PIN",
        "*78" => "do not disturb on for the calling extension",
        "*79" => "do not disturb off for the calling extension",
        "*73" => "call forwarding off for the calling extension",
        "*411" => "the dial-by-name directory",
        "*8" => "picks up the call ringing the tenant's phones longest",
        c if c.starts_with("*72") => "call forwarding on for the calling extension, to the number after *72 (asked for when none follows)",
        _ => return None,
    })
}

/// Runs `code` (`*78`, `*721001`, …) for the calling extension; a destination when the code
/// puts the caller through somewhere (the directory).
pub(crate) async fn run(call: &mut Call<'_>, code: &str) -> Result<Option<Destination>, RouteError> {
    if code == "*411" {
        return super::directory::run(call).await;
    }
    if code == "*8" {
        pickup(call).await?;
        return Ok(None);
    }
    call.answer().await?;
    let caller = call.caller_number.clone();
    let ext = call.read(move |st, t| st.extension_by_number(t, &caller)).await?;
    let rest = |prefix: &str| code.strip_prefix(prefix).map(str::to_string);
    let outcome = match (code, &ext) {
        ("*98", Some(_)) => {
            // As the getting-started guide has it: "dial *98 from any registered extension,
            // enter the voicemail number and PIN". Without an id mod_voicemail asks for the
            // box, then its PIN, within the tenant's domain only (voicemail_check_main), so a
            // box that is no extension's (a team's) can be checked too (mod_voicemail.c:2438).
            let arg = format!("check default {}", call.tenant.sip_domain);
            call.cdr.disposition = "voicemail";
            call.last_app("voicemail", &arg).await?;
            return Ok(None);
        }
        ("*78", Some(e)) => Some(set_extension(call, e.id, json!({ "dnd": true }), "DND on (*78)").await?),
        ("*79", Some(e)) => Some(set_extension(call, e.id, json!({ "dnd": false }), "DND off (*79)").await?),
        ("*73", Some(e)) => Some(set_extension(call, e.id, json!({ "forward_always": "" }), "call forward off (*73)").await?),
        (_, Some(e)) if code.starts_with("*72") => {
            let mut number = rest("*72").unwrap_or_default();
            if number.is_empty() {
                let got = call
                    .s
                    .play_and_get_digits(2, 20, 3, Duration::from_secs(10), "#", ENTER_NUMBER, INVALID, r"^\d+$", Duration::from_secs(4))
                    .await?;
                number = got.digits;
            }
            match dial::number(&number) {
                Some(n) if !n.starts_with('*') => {
                    Some(set_extension(call, e.id, json!({ "forward_always": n }), &format!("call forward to {n} (*72)")).await?)
                }
                _ => Some(false),
            }
        }
        _ => None,
    };
    let ok = match outcome {
        Some(ok) => ok,
        None => toggle_call_flow(call, code.trim_start_matches('*')).await?,
    };
    call.cdr.disposition = "answered";
    call.s.playback(if ok { DONE } else { INVALID }).await?;
    call.s.hangup("NORMAL_CLEARING").await?;
    Ok(None)
}

/// `*8`: takes the call that has rung the tenant's phones longest (see [`super::pickup`]).
async fn pickup(call: &mut Call<'_>) -> Result<(), RouteError> {
    let me = call.s.uuid().to_string();
    let taken = call.ringing_calls.take(call.tenant.id, &call.caller_number, &me);
    // The UUID goes into an application argument: only FreeSWITCH's own form passes.
    if let Some((target, caller)) = taken.filter(|(u, _)| uuid::Uuid::parse_str(u).is_ok()) {
        // A call answered meanwhile stays with whoever answered it.
        call.s.set_var("intercept_unanswered_only", "true").await?;
        let done = call.s.execute("intercept", Some(&target)).await?;
        // intercept answers the picker only when it took the call (switch_ivr_bridge.c,
        // switch_ivr_intercept_session).
        if done.get("Answer-State").as_deref() == Some("answered") {
            info!(call = %target, "picked up");
            call.cdr.disposition = "answered";
            call.path.push(format!("picked up the call from {caller}"));
            call.s.hangup_wait().await;
            return Ok(());
        }
        info!(call = %target, "the call to pick up was answered or ended first");
    } else {
        info!("*8: no call is ringing");
    }
    call.answer().await?;
    call.cdr.disposition = "failed";
    call.s.playback(INVALID).await?;
    call.s.hangup("NORMAL_CLEARING").await?;
    Ok(())
}

async fn set_extension(call: &Call<'_>, id: i64, change: serde_json::Value, what: &str) -> Result<bool, RouteError> {
    let what = what.to_string();
    let number = call.caller_number.clone();
    call.read(move |st, t| {
        st.update(&res::EXTENSIONS, Within::Tenant(t), None, id, change.as_object().expect("an object"))?;
        st.log(&Entry {
            tenant: Some(t),
            action: "update",
            object: format!("extensions/{id}"),
            detail: format!("{what} from the phone {number}"),
            ..Default::default()
        })
    })
    .await?;
    info!(extension = id, "feature code applied");
    Ok(true)
}

/// `*<code>` of a call flow flips day ↔ night, after the PIN when it has one.
async fn toggle_call_flow(call: &mut Call<'_>, code: &str) -> Result<bool, RouteError> {
    let c = code.to_string();
    let flows = call
        .read(move |st, t| {
            let q = ListQuery { page: 1, per_page: 1, filters: vec![("feature_code".into(), c)], ..Default::default() };
            st.list(&res::CALL_FLOWS, Within::Tenant(t), None, &q)
        })
        .await?;
    let Some(flow) = flows.items.into_iter().next() else {
        info!(code, "unknown feature code");
        return Ok(false);
    };
    let pin = flow["pin"].as_str().unwrap_or("").to_string();
    if !pin.is_empty() {
        let got = call.s.play_and_get_digits(4, 12, 3, Duration::from_secs(10), "#", ENTER_PIN, INVALID, r"^\d+$", Duration::from_secs(4)).await?;
        if got.digits != pin {
            info!(flow = %flow["name"], "wrong call flow PIN");
            return Ok(false);
        }
    }
    let id = flow["id"].as_i64().unwrap_or(0);
    let next = if flow["state"] == "night" { "day" } else { "night" };
    let number = call.caller_number.clone();
    call.read(move |st, t| {
        st.update(&res::CALL_FLOWS, Within::Tenant(t), None, id, json!({ "state": next }).as_object().expect("an object"))?;
        st.log(&Entry {
            tenant: Some(t),
            action: "update",
            object: format!("call-flows/{id}"),
            detail: format!("state {next} from the phone {number}"),
            ..Default::default()
        })
    })
    .await?;
    info!(flow = id, state = next, "call flow toggled");
    Ok(true)
}
