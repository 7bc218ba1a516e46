//! While two legs are bridged: the conversation, the keys either party presses, and what
//! the api does to a leg in the middle of it (uuid_kill, uuid_transfer, uuid_broadcast
//! att_xfer); and the conversation of a ringing call someone intercepted (picked up).
//!
//! FreeSWITCH facts this follows (signalwire/freeswitch):
//! * When the bridge ends, the originator hangs up with the peer's cause if the peer had
//!   answered and `hangup_after_bridge` is true — whether the peer hung up or was
//!   transferred away (switch_ivr_bridge.c, switch_ivr_multi_threaded_bridge, after `done:`).
//! * att_xfer (mod_dptools.c att_thread_run) soft-holds the presser's partner, originates
//!   the target and bridges the presser to it; when the presser hangs up, the target is
//!   bridged to the held partner (switch_ivr_uuid_bridge); if the target hangs up or does
//!   not answer, the presser is back with the partner.
//! * `intercept <uuid>` of a ringing call (switch_ivr_intercept_session) answers both
//!   channels, ends the target's originate with PICKED_OFF and uuid_bridges the two; when
//!   either hangs up the other follows.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::call::{AttXferRun, Core};
use super::channel::Channel;
use super::scenario::{Party, Press, Target};

/// What the api asks of a conversation in progress.
pub(crate) enum LegCtl {
    Kill { uuid: String, cause: String },
    Transfer { uuid: String, dest: String },
    AttXfer { presser: String, target: String },
}

/// The other side of the conversation.
pub(crate) enum Partner {
    /// A leg this call's bridge dialed, talking `talk_ms` (None: until the caller hangs up).
    Leg(Box<Channel>, Option<u64>),
    /// A call that intercepted this one while it rang; it ends when that call does.
    Picker(Arc<Core>),
}

/// How the conversation ended.
enum End {
    /// The controlled channel went down.
    CallerGone,
    /// The controlled channel left by attended transfer; the partner stays up.
    CallerLeft,
    /// The partner hung up (or was killed) with this cause.
    PartnerGone(String),
    /// The partner was transferred away (uuid_transfer).
    PartnerLeft,
}

const DTMF_ORIGIN: (&str, &str, u32) = ("switch_channel.c", "switch_channel_queue_dtmf", 678);

pub(crate) fn dtmf_headers(digit: char) -> Vec<(String, String)> {
    vec![("DTMF-Digit".into(), digit.to_string()), ("DTMF-Duration".into(), "2000".into()), ("DTMF-Source".into(), "RTP".into())]
}

/// The answered leg: CHANNEL_ANSWER for both, CHANNEL_BRIDGE, the conversation (keys
/// pressed, api actions), then CHANNEL_UNBRIDGE and whatever hangups follow.
pub(crate) async fn talk(core: &Arc<Core>, partner: Partner) {
    let id = core.switch.identity();
    let (mut b, mut until, picker) = match partner {
        Partner::Leg(b, talk_ms) => {
            let mut b = *b;
            b.mark_answered(id.now_micros());
            let ev = b.event(&id, "CHANNEL_ANSWER", ("switch_channel.c", "switch_channel_perform_mark_answered", 3539), Vec::new(), Vec::new());
            core.fire(ev);
            (b, talk_ms.map(|ms| core.elapsed_ms() + ms), None)
        }
        Partner::Picker(p) => {
            let ch = p.lock().ch.clone();
            (ch, None, Some(p))
        }
    };
    super::apps::answer(core);
    let mut pre = bridge_to(core, &mut b);
    if let Some(p) = &picker {
        let other = core.lock().ch.clone();
        let ev = {
            let mut st = p.lock();
            st.ch.set_bridged(Some(&other), id.now_micros());
            st.ch.event(&id, "CHANNEL_BRIDGE", ("switch_ivr_bridge.c", "switch_ivr_multi_threaded_bridge", 1722), pre.clone(), Vec::new())
        };
        p.fire(ev);
    }
    let (tx, mut rx) = mpsc::unbounded_channel();
    let presses: VecDeque<Press> = {
        let mut st = core.lock();
        st.ctl = Some(tx);
        let mut p: Vec<Press> = std::mem::take(&mut st.in_call).into();
        p.sort_by_key(|p| p.after_ms);
        p.into()
    };
    let t0 = core.elapsed_ms();
    let mut presses = presses;
    let mut down = core.down_watch();
    let end = loop {
        let next_press = presses.front().map(|p| t0 + p.after_ms);
        let wake = [next_press, until].into_iter().flatten().min();
        let sleep = async {
            match wake {
                Some(at) => tokio::time::sleep(Duration::from_millis(at.saturating_sub(core.elapsed_ms()))).await,
                None => std::future::pending().await,
            }
        };
        let picker_down = async {
            match &picker {
                Some(p) => p.wait_down().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = async { down.wait_for(|d| *d).await.map(|_| ()) } => break End::CallerGone,
            _ = picker_down => break End::PartnerGone("NORMAL_CLEARING".into()),
            Some(ctl) = rx.recv() => match ctl {
                LegCtl::Kill { uuid, cause } if uuid == b.uuid => break End::PartnerGone(cause),
                LegCtl::Transfer { uuid, dest } if uuid == b.uuid => {
                    core.lock().report.leg_transfers.push(dest);
                    break End::PartnerLeft;
                }
                LegCtl::AttXfer { presser, target } => match att_xfer(core, &mut b, &mut until, &presser, &target).await {
                    Some(end) => break end,
                    None => pre = bridge_ids(core, &b),
                },
                _ => {}
            },
            _ = sleep => {
                let now = core.elapsed_ms();
                if next_press.is_some_and(|t| t <= now) {
                    if let Some(p) = presses.pop_front() {
                        press(core, &mut b, &p);
                    }
                    continue;
                }
                if until.is_some_and(|t| t <= now) {
                    break End::PartnerGone("NORMAL_CLEARING".into());
                }
            }
        }
    };
    core.lock().ctl = None;
    match &end {
        End::CallerGone => match &picker {
            Some(p) => p.hangup("NORMAL_CLEARING", "switch"),
            None => super::apps::hangup_leg(core, &mut b, "NORMAL_CLEARING"),
        },
        End::PartnerGone(cause) if picker.is_none() => super::apps::hangup_leg(core, &mut b, cause),
        _ => {}
    }
    let cause = match &end {
        End::PartnerGone(c) => c.clone(),
        _ => "NORMAL_CLEARING".to_string(),
    };
    {
        let mut st = core.lock();
        st.ch.set_var("bridge_hangup_cause", &cause);
        st.ch.set_var("last_bridge_hangup_cause", &cause);
        st.ch.set_bridged(None, 0);
        st.legs.retain(|l| l.uuid != b.uuid);
    }
    if !matches!(end, End::CallerLeft) {
        core.fire_a("CHANNEL_UNBRIDGE", ("switch_ivr_bridge.c", "switch_ivr_multi_threaded_bridge", 1890), pre, Vec::new());
    }
    // The originator hangs up after a bridge whose peer answered, with the peer's cause,
    // when hangup_after_bridge is true (switch_ivr_bridge.c, end of multi_threaded_bridge).
    if matches!(end, End::PartnerGone(_) | End::PartnerLeft) && core.lock().ch.var("hangup_after_bridge").is_some_and(|v| v == "true") {
        core.hangup(&cause, "switch");
    }
}

/// Bridges the controlled channel to `b`: variables, CHANNEL_BRIDGE; the Bridge-*-Unique-ID
/// headers the bridge events carry.
fn bridge_to(core: &Arc<Core>, b: &mut Channel) -> Vec<(String, String)> {
    let id = core.switch.identity();
    {
        let mut st = core.lock();
        st.ch.set_bridged(Some(b), id.now_micros());
        st.ch.set_var("bridge_uuid", &b.uuid);
        st.ch.set_var("last_bridge_to", &b.uuid);
        st.ch.set_var("bridge_channel", &b.name);
        st.ch.set_var("signal_bond", &b.uuid);
    }
    b.set_bridged(Some(&core.lock().ch), id.now_micros());
    let pre = bridge_ids(core, b);
    core.fire_a("CHANNEL_BRIDGE", ("switch_ivr_bridge.c", "switch_ivr_multi_threaded_bridge", 1722), pre.clone(), Vec::new());
    core.lock().legs.push(b.clone());
    pre
}

fn bridge_ids(core: &Arc<Core>, b: &Channel) -> Vec<(String, String)> {
    vec![("Bridge-A-Unique-ID".to_string(), core.uuid()), ("Bridge-B-Unique-ID".to_string(), b.uuid.clone())]
}

/// One DTMF event per key, on the channel that pressed it.
fn press(core: &Arc<Core>, b: &mut Channel, p: &Press) {
    let id = core.switch.identity();
    for c in p.digits.chars() {
        match p.by {
            Party::Caller => core.fire_a("DTMF", DTMF_ORIGIN, Vec::new(), dtmf_headers(c)),
            Party::Callee => {
                let ev = b.event(&id, "DTMF", DTMF_ORIGIN, Vec::new(), dtmf_headers(c));
                core.fire(ev);
            }
        }
    }
}

/// att_xfer run by `presser` (the controlled channel or its partner `b`) to `target`.
/// Some(end) when the controlled channel leaves the conversation; None when it goes on
/// (with `b` and `until` now describing whoever the controlled channel talks to).
async fn att_xfer(core: &Arc<Core>, b: &mut Channel, until: &mut Option<u64>, presser: &str, target: &str) -> Option<End> {
    let id = core.switch.identity();
    let a_pressed = presser == core.uuid();
    if !a_pressed && presser != b.uuid {
        return None;
    }
    let record = |outcome: &str| {
        core.lock().report.att_xfers.push(AttXferRun { presser: presser.to_string(), target: target.to_string(), outcome: outcome.to_string() });
    };
    let (cid_name, cid_num) = if a_pressed {
        let st = core.lock();
        (st.ch.cid_name.clone(), st.ch.cid_number.clone())
    } else {
        (b.cid_name.clone(), b.cid_number.clone())
    };
    let dest = target.rsplit('/').next().unwrap_or("").split('@').next().unwrap_or("").to_string();
    let mut t = Channel::outbound(&id, target, &cid_name, &cid_num, &dest);
    let ev = t.event(&id, "CHANNEL_CREATE", ("switch_core_state_machine.c", "switch_core_session_run", 580), Vec::new(), Vec::new());
    core.fire(ev);
    let second = core.scenario.second_ms;
    let (ring_ms, talk_ms, fail) = match core.scenario.target(target) {
        Target::Answer { after_ms, talk_ms } => (after_ms, talk_ms, None),
        Target::NoAnswer => (60 * second, None, Some("NO_ANSWER".to_string())),
        Target::Busy { after_ms } => (after_ms, None, Some("USER_BUSY".to_string())),
        Target::Reject { after_ms } => (after_ms, None, Some("CALL_REJECTED".to_string())),
        Target::Unregistered => (0, None, Some("USER_NOT_REGISTERED".to_string())),
        Target::Fail { cause, after_ms } => (after_ms, None, Some(cause)),
    };
    if !core.wait(ring_ms).await {
        super::apps::hangup_leg(core, &mut t, "ORIGINATOR_CANCEL");
        return Some(End::CallerGone);
    }
    if let Some(cause) = fail {
        super::apps::hangup_leg(core, &mut t, &cause);
        record(&cause);
        return None;
    }
    t.mark_answered(id.now_micros());
    let ev = t.event(&id, "CHANNEL_ANSWER", ("switch_channel.c", "switch_channel_perform_mark_answered", 3539), Vec::new(), Vec::new());
    core.fire(ev);
    let consult = core.scenario.consult_ms;
    if talk_ms.is_some_and(|ms| ms < consult) {
        // The target hung up first: the presser is back with the held party.
        core.wait(talk_ms.unwrap_or(0)).await;
        super::apps::hangup_leg(core, &mut t, "NORMAL_CLEARING");
        record("NORMAL_CLEARING");
        return None;
    }
    if !core.wait(consult).await {
        super::apps::hangup_leg(core, &mut t, "NORMAL_CLEARING");
        return Some(End::CallerGone);
    }
    // The presser hangs up: the target joins the held party.
    record("joined");
    if a_pressed {
        core.hangup("NORMAL_CLEARING", "caller");
        return Some(End::CallerLeft);
    }
    super::apps::hangup_leg(core, b, "NORMAL_CLEARING");
    {
        let mut st = core.lock();
        st.legs.retain(|l| l.uuid != b.uuid);
    }
    *b = t;
    *until = talk_ms.map(|ms| core.elapsed_ms() + ms.saturating_sub(consult));
    bridge_to(core, b);
    None
}
