//! Star codes dialed from a phone: voicemail, call forwarding, do-not-disturb and call-flow
//! toggles. Changes go through the same checked store writes as the API (typed here:
//! [`PhoneChange`]), so the API shows them at once, and the activity log records them.

use std::time::Duration;

use tracing::info;

use super::channel::{Ask, Channel};
use super::state::{Call, RouteError, INVALID};
use crate::pbx::config::CallFlow;
use crate::pbx::destination::Destination;
use crate::pbx::dial;
use crate::store::routing::PhoneChange;
use crate::store::{Store, StoreError, TenantId};

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
        "*50" => "call queues: the calling extension's user logs in (available for queue calls)",
        "*51" => "call queues: the calling extension's user logs out",
        "*52" => "call queues: the calling extension's user takes a break (logged in, offered nothing)",
        c if c.starts_with("*72") => "call forwarding on for the calling extension, to the number after *72 (asked for when none follows)",
        _ => return None,
    })
}

/// The call flow a code that is no fixed one toggles (`*30` → the flow whose feature code
/// is 30), for the call and for route explain alike.
pub fn call_flow(st: &Store, tenant: TenantId, code: &str) -> Result<Option<CallFlow>, StoreError> {
    st.call_flow_by_code(tenant, code.trim_start_matches('*'))
}

/// Runs `code` (`*78`, `*721001`, …) for the calling extension; a destination when the code
/// puts the caller through somewhere (the directory).
pub(crate) async fn run<C: Channel>(call: &mut Call<'_, C>, code: &str) -> Result<Option<Destination>, RouteError> {
    if code == "*411" {
        return super::directory::run(call).await;
    }
    if code == "*8" {
        pickup(call).await?;
        return Ok(None);
    }
    call.answer().await?;
    let caller = call.caller.number.clone();
    let ext = call.read(move |st, t| st.extension_by_number(t, &caller)).await?;
    let rest = |prefix: &str| code.strip_prefix(prefix).map(str::to_string);
    let change = match (code, &ext) {
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
        ("*78", Some(e)) => Some(Some((PhoneChange::Dnd { extension: e.id, on: true }, "DND on (*78)".to_string()))),
        ("*79", Some(e)) => Some(Some((PhoneChange::Dnd { extension: e.id, on: false }, "DND off (*79)".to_string()))),
        ("*50" | "*51" | "*52", Some(e)) => {
            let status = match code {
                "*50" => crate::acd::Status::Available,
                "*51" => crate::acd::Status::LoggedOut,
                _ => crate::acd::Status::OnBreak,
            };
            let ok = match e.user_id {
                Some(user) => {
                    let t = call.t();
                    call.read(move |st, _| st.set_agent_status(t, user, status.as_str())).await?;
                    call.env.acd.set_status(user, status);
                    info!(user, status = status.as_str(), "queue agent status from the phone");
                    true
                }
                // An extension nobody is assigned to has no agent to log in.
                None => false,
            };
            call.cdr.disposition = "answered";
            call.ch.play(if ok { DONE } else { INVALID }).await?;
            call.ch.hangup("NORMAL_CLEARING").await?;
            return Ok(None);
        }
        ("*73", Some(e)) => Some(Some((PhoneChange::ForwardAlways { extension: e.id, to: String::new() }, "call forward off (*73)".to_string()))),
        (_, Some(e)) if code.starts_with("*72") => {
            let mut number = rest("*72").unwrap_or_default();
            if number.is_empty() {
                let ask = Ask {
                    min: 2,
                    max: 20,
                    tries: 3,
                    timeout: Duration::from_secs(10),
                    terminators: "#",
                    prompt: ENTER_NUMBER,
                    invalid_prompt: INVALID,
                    regex: r"^\d+$",
                    digit_timeout: Duration::from_secs(4),
                };
                number = call.ch.read_digits(&ask).await?;
            }
            match dial::number(&number) {
                Some(n) if !n.starts_with('*') => {
                    Some(Some((PhoneChange::ForwardAlways { extension: e.id, to: n.to_string() }, format!("call forward to {n} (*72)"))))
                }
                _ => Some(None),
            }
        }
        _ => None,
    };
    let ok = match change {
        Some(Some((change, what))) => apply(call, change, what).await?,
        Some(None) => false,
        None => toggle_call_flow(call, code).await?,
    };
    call.cdr.disposition = "answered";
    call.ch.play(if ok { DONE } else { INVALID }).await?;
    call.ch.hangup("NORMAL_CLEARING").await?;
    Ok(None)
}

/// `*8`: takes the call that has rung the tenant's phones longest (see [`super::pickup`]).
async fn pickup<C: Channel>(call: &mut Call<'_, C>) -> Result<(), RouteError> {
    let me = call.ch.uuid().to_string();
    let taken = call.env.ringing.take(call.tenant.id, &call.caller.number, &me);
    // The UUID goes into an application argument: only FreeSWITCH's own form passes.
    if let Some((target, caller)) = taken.filter(|(u, _)| uuid::Uuid::parse_str(u).is_ok()) {
        // A call answered meanwhile stays with whoever answered it.
        call.ch.run("set", "intercept_unanswered_only=true").await?;
        let done = call.ch.run("intercept", &target).await?;
        // intercept answers the picker only when it took the call (switch_ivr_bridge.c,
        // switch_ivr_intercept_session).
        if done.get("Answer-State").as_deref() == Some("answered") {
            info!(call = %target, "picked up");
            call.cdr.disposition = "answered";
            call.path.push(format!("picked up the call from {caller}"));
            call.ch.hangup_wait().await;
            return Ok(());
        }
        info!(call = %target, "the call to pick up was answered or ended first");
    } else {
        info!("*8: no call is ringing");
    }
    call.answer().await?;
    call.cdr.disposition = "failed";
    call.ch.play(INVALID).await?;
    call.ch.hangup("NORMAL_CLEARING").await?;
    Ok(())
}

async fn apply<C: Channel>(call: &Call<'_, C>, change: PhoneChange, what: String) -> Result<bool, RouteError> {
    let number = call.caller.number.clone();
    let logged = change.clone();
    call.read(move |st, t| st.apply_phone_change(t, &change, &what, &number)).await?;
    info!(change = ?logged, "feature code applied");
    Ok(true)
}

/// `*<code>` of a call flow flips day ↔ night, after the PIN when it has one.
async fn toggle_call_flow<C: Channel>(call: &mut Call<'_, C>, code: &str) -> Result<bool, RouteError> {
    let c = code.to_string();
    let Some(flow) = call.read(move |st, t| call_flow(st, t, &c)).await? else {
        info!(code = code.trim_start_matches('*'), "unknown feature code");
        return Ok(false);
    };
    if !flow.pin.is_empty() {
        let ask = Ask {
            min: 4,
            max: 12,
            tries: 3,
            timeout: Duration::from_secs(10),
            terminators: "#",
            prompt: ENTER_PIN,
            invalid_prompt: INVALID,
            regex: r"^\d+$",
            digit_timeout: Duration::from_secs(4),
        };
        if call.ch.read_digits(&ask).await? != flow.pin {
            info!(flow = %flow.name, "wrong call flow PIN");
            return Ok(false);
        }
    }
    let night = flow.state != "night";
    let what = format!("state {}", if night { "night" } else { "day" });
    let number = call.caller.number.clone();
    let change = PhoneChange::CallFlowState { flow: flow.id, night };
    // The activity log says "state night from the phone 1001", as it always has.
    call.read(move |st, t| st.apply_phone_change(t, &change, &what, &number)).await?;
    info!(flow = flow.id, night, "call flow toggled");
    Ok(true)
}
