//! The dialplan applications the simulator runs, with the events FreeSWITCH fires for them.
//!
//! Every application is wrapped as switch_core_session_exec does (switch_core_session.c
//! 2840–2997): CHANNEL_EXECUTE before, CHANNEL_EXECUTE_COMPLETE after, both carrying
//! Application, Application-Data and Application-UUID (= the sendmsg's Event-UUID), the
//! completion also Application-Response. An unknown application fires neither and hangs
//! the channel up with DESTINATION_OUT_OF_ORDER (switch_core_session_execute_application).
//!
//! Here: the wrapping every application gets, the dispatcher and the small applications;
//! the media applications (playback, read, play_and_get_digits, conference) in `media`;
//! bridge, its dial strings, codecs and B-legs in `bridge`.

mod bridge;
pub mod fax;
mod media;

use bridge::bridge;
pub use bridge::*;
use media::{conference, play_and_get_digits, playback, read};

use std::sync::Arc;

use super::bridged::Partner;
use super::call::{AppRun, Core};
use super::channel::Channel;

const KNOWN: &[&str] = &[
    "answer",
    "pre_answer",
    "ring_ready",
    "playback",
    "endless_playback",
    "say",
    "sleep",
    "set",
    "multiset",
    "export",
    "unset",
    "read",
    "play_and_get_digits",
    "bridge",
    "sched_hangup",
    "hangup",
    "transfer",
    "voicemail",
    "conference",
    "park",
    "record_session",
    "intercept",
    "stop_record_session",
    "log",
    "info",
    "respond",
    "event",
    "rxfax",
    "txfax",
];

/// Applications registered without SAF_SUPPORT_NOMEDIA (mod_dptools.c 6521–6698,
/// mod_voicemail.c:6228 `SAF_NONE`, mod_conference.c:4038 `SAF_SUPPORT_TEXT_ONLY`): run on an
/// inbound channel with no media yet, the core pre-answers it first ("Application %s Requires
/// media! pre_answering channel", switch_core_session.c:2789–2796), before CHANNEL_EXECUTE.
/// Only early media: none of them answers, except mod_conference, which answers itself
/// (mod_conference.c:2242) and the intercepting side of `intercept`.
const NEEDS_MEDIA: &[&str] = &[
    "playback",
    "endless_playback",
    "say",
    "read",
    "play_and_get_digits",
    "voicemail",
    "conference",
    "record_session",
    "stop_record_session",
    "intercept",
];

pub(crate) async fn execute(core: &Arc<Core>, app: &str, arg: &str, event_uuid: Option<&str>) {
    let started = core.elapsed_ms();
    if !KNOWN.contains(&app) {
        tracing::debug!(app, "simulated switch: Invalid Application");
        core.lock().report.apps.push(AppRun {
            app: app.into(),
            arg: arg.into(),
            response: "-ERR invalid application".into(),
            event_uuid: event_uuid.map(str::to_string),
            started_ms: started,
            ended_ms: started,
        });
        core.hangup("DESTINATION_OUT_OF_ORDER", "switch");
        return;
    }
    if NEEDS_MEDIA.contains(&app) && core.lock().ch.direction == "inbound" {
        pre_answer(core);
    }
    let app_uuid = event_uuid.map(str::to_string).unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    {
        let mut st = core.lock();
        st.ch.set_var("current_application", app);
        st.ch.set_var("current_application_data", arg);
        st.ch.set_var("app_uuid", &app_uuid);
    }
    let app_headers = |resp: Option<&str>| {
        let mut v = vec![("Application".to_string(), app.to_string()), ("Application-Data".to_string(), arg.to_string())];
        if let Some(r) = resp {
            v.push(("Application-Response".into(), r.to_string()));
        }
        v.push(("Application-UUID".into(), app_uuid.clone()));
        v
    };
    core.fire_a("CHANNEL_EXECUTE", ("switch_core_session.c", "switch_core_session_exec", 2855), Vec::new(), app_headers(None));
    let response = run(core, app, arg).await;
    let response = response.unwrap_or_else(|| "_none_".into());
    core.lock().ch.set_var("current_application_response", &response);
    core.fire_a("CHANNEL_EXECUTE_COMPLETE", ("switch_core_session.c", "switch_core_session_exec", 2978), Vec::new(), app_headers(Some(&response)));
    // An intercepted call leaves its bridge app and is then uuid_bridged to the picker.
    let picker = core.lock().intercepted.take();
    if let Some(p) = picker {
        let c = core.clone();
        tokio::spawn(async move { super::bridged::talk(&c, Partner::Picker(p)).await });
    }
    let ended = core.elapsed_ms();
    core.lock().report.apps.push(AppRun {
        app: app.into(),
        arg: arg.into(),
        response,
        event_uuid: event_uuid.map(str::to_string),
        started_ms: started,
        ended_ms: ended,
    });
}

/// Splits an argument on spaces, keeping single-quoted words together
/// (switch_separate_string).
pub fn split_args(arg: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in arg.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            ' ' if !quoted => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    out
}

async fn run(core: &Arc<Core>, app: &str, arg: &str) -> Option<String> {
    let id = core.switch.identity();
    match app {
        "answer" => {
            answer(core);
            None
        }
        "pre_answer" => {
            pre_answer(core);
            None
        }
        "ring_ready" => {
            core.lock().ch.progress_us = id.now_micros();
            core.fire_a("CHANNEL_PROGRESS", ("switch_channel.c", "switch_channel_perform_mark_ring_ready_value", 3390), Vec::new(), Vec::new());
            None
        }
        "playback" | "endless_playback" => Some(playback(core, arg).await),
        // mod_say: speaks for as long as a playback, sets no response.
        "say" => {
            core.wait(core.scenario.playback_ms).await;
            None
        }
        "rxfax" => {
            fax::rxfax(core, arg).await;
            None
        }
        "txfax" => {
            fax::txfax(core, arg).await;
            None
        }
        "sleep" => {
            core.wait(arg.trim().parse().unwrap_or(0)).await;
            None
        }
        "set" | "export" => {
            set_pair(&mut core.lock().ch, arg.strip_prefix("nolocal:").unwrap_or(arg));
            None
        }
        // multiset (mod_dptools.c): `^^<c>` first picks the separator, else a space.
        "multiset" => {
            let (sep, rest) = match arg.strip_prefix("^^").and_then(|r| r.chars().next().map(|c| (c, &r[c.len_utf8()..]))) {
                Some((c, rest)) => (c, rest),
                None => (' ', arg),
            };
            let mut st = core.lock();
            for pair in rest.split(sep) {
                set_pair(&mut st.ch, pair);
            }
            None
        }
        "unset" => {
            core.lock().ch.unset_var(arg.trim());
            None
        }
        "read" => {
            read(core, arg).await;
            None
        }
        "play_and_get_digits" => {
            play_and_get_digits(core, arg).await;
            None
        }
        "bridge" => {
            bridge(core, arg).await;
            None
        }
        "sched_hangup" => {
            let mut parts = arg.split_whitespace();
            let when = parts.next().unwrap_or("");
            let cause = parts.next().unwrap_or("ALLOTTED_TIMEOUT").to_string();
            let secs: u64 = when.trim_start_matches('+').parse().unwrap_or(0);
            core.lock().report.sched_hangup = Some((secs, cause.clone()));
            let c = core.clone();
            tokio::spawn(async move {
                if c.wait(secs * c.scenario.second_ms).await {
                    c.hangup(&cause, "switch");
                }
            });
            None
        }
        "hangup" => {
            let cause = if arg.trim().is_empty() { "NORMAL_CLEARING" } else { arg.trim() };
            core.hangup(cause, "switchboard");
            None
        }
        "transfer" => {
            core.lock().report.transferred_to = Some(arg.to_string());
            core.release_socket();
            None
        }
        // mod_voicemail never answers: on a channel nobody answered, the caller leaves the
        // message in early media (see NEEDS_MEDIA).
        "voicemail" => {
            match core.scenario.voicemail_ms {
                Some(ms) if core.wait(ms).await => {
                    if core.scenario.voicemail_key_ends {
                        playback(core, "phrase:voicemail_goodbye").await;
                    } else {
                        core.hangup("NORMAL_CLEARING", "caller");
                    }
                }
                Some(_) => {}
                None => core.wait_down().await,
            }
            None
        }
        "conference" => {
            conference(core, arg).await;
            None
        }
        "park" => {
            core.wait_down().await;
            None
        }
        // switch_ivr_intercept_session (switch_ivr_bridge.c): with the target ringing, the
        // interceptor is answered and takes the caller; the target's originate gives up with
        // PICKED_OFF. An unknown or already answered target (switchboard always sets
        // intercept_unanswered_only) returns at once, the interceptor unanswered.
        "intercept" => {
            let target = arg.trim();
            if let Some(tx) = target.strip_prefix("-bleg").is_none().then(|| core.switch.take_ringing(target)).flatten() {
                answer(core);
                if tx.send(core.clone()).is_ok() {
                    core.lock().report.picked_up = Some(target.to_string());
                }
            }
            None
        }
        "record_session" => {
            core.switch.start_recording(arg);
            core.lock().report.recordings.push(arg.to_string());
            None
        }
        _ => None,
    }
}

/// `name=value` as `set` takes it; an empty value unsets.
fn set_pair(ch: &mut Channel, pair: &str) {
    if let Some((k, v)) = pair.split_once('=') {
        if v.is_empty() {
            ch.unset_var(k);
        } else {
            ch.set_var(k, v);
        }
    }
}

pub(crate) fn answer(core: &Arc<Core>) {
    mark_once(
        core,
        |ch| ch.is_answered() || !ch.is_up(),
        Channel::mark_answered,
        "CHANNEL_ANSWER",
        ("switch_channel.c", "switch_channel_perform_mark_answered", 3539),
    );
}

/// Early media, once (nothing when the channel is answered or has it already).
fn pre_answer(core: &Arc<Core>) {
    mark_once(
        core,
        |ch| ch.is_answered() || ch.progress_media_us != 0,
        Channel::mark_progress_media,
        "CHANNEL_PROGRESS_MEDIA",
        ("switch_channel.c", "switch_channel_perform_mark_pre_answered", 3463),
    );
}

/// A channel state that fires its event once: answered, pre-answered.
fn mark_once(core: &Arc<Core>, done: impl Fn(&Channel) -> bool, mark: impl Fn(&mut Channel, u64), event: &str, origin: (&str, &str, u32)) {
    let now = core.switch.identity().now_micros();
    let fire = {
        let mut st = core.lock();
        !done(&st.ch) && {
            mark(&mut st.ch, now);
            true
        }
    };
    if fire {
        core.fire_a(event, origin, Vec::new(), Vec::new());
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::sim::event::Identity;
    use crate::sim::Scenario;

    #[test]
    fn dial_strings_split_like_originate() {
        let (g, groups) = parse_dialstring("{ignore_early_media=true,call_timeout=20}[leg_timeout=5]user/1001@d,user/1002@d|sofia/gateway/t2/155");
        assert_eq!(g, vec![("ignore_early_media".into(), "true".into()), ("call_timeout".into(), "20".into())]);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0][0], Leg { vars: vec![("leg_timeout".into(), "5".into())], endpoint: "user/1001@d".into() });
        assert_eq!(groups[0][1].endpoint, "user/1002@d");
        assert_eq!(groups[1][0].endpoint, "sofia/gateway/t2/155");
    }

    #[test]
    fn a_leg_offers_the_callers_codec_alone_unless_told_otherwise() {
        let id = Identity::new("sim");
        let mut a = Channel::inbound(&id, &Scenario::default());
        let none = |_: &str| None;
        assert_eq!(codec_offer(&a, "G722@16000h@20i", &none), vec!["G722"], "only the originator's codec: a G.711 carrier refuses it");
        a.set_var("media_mix_inbound_outbound_codecs", "true");
        assert_eq!(codec_offer(&a, "G722", &none), vec!["G722", "OPUS", "G722", "PCMU", "PCMA"]);
        let abs = |n: &str| (n == "absolute_codec_string").then(|| "'PCMU@20i,PCMA'".to_string());
        assert_eq!(codec_offer(&a, "G722", &abs), vec!["PCMU", "PCMA"], "the leg's own list wins");
    }

    #[test]
    fn args_keep_quoted_words() {
        assert_eq!(split_args("1 4 'ivr/a b.wav' v 5000 #"), vec!["1", "4", "ivr/a b.wav", "v", "5000", "#"]);
        assert_eq!(split_args("0 1 1 3000 # '' '' x \\d+"), vec!["0", "1", "1", "3000", "#", "", "", "x", "\\d+"]);
    }
}
