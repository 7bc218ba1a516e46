//! The dialplan applications the simulator runs, with the events FreeSWITCH fires for them.
//!
//! Every application is wrapped as switch_core_session_exec does (switch_core_session.c
//! 2840–2997): CHANNEL_EXECUTE before, CHANNEL_EXECUTE_COMPLETE after, both carrying
//! Application, Application-Data and Application-UUID (= the sendmsg's Event-UUID), the
//! completion also Application-Response. An unknown application fires neither and hangs
//! the channel up with DESTINATION_OUT_OF_ORDER (switch_core_session_execute_application).

use std::sync::Arc;

use super::bridged::Partner;
use super::call::{AppRun, BridgeRun, Core, LegTime};
use super::channel::Channel;
use super::scenario::Target;

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

async fn playback(core: &Arc<Core>, file: &str) -> String {
    let file = file.trim();
    if core.scenario.missing_files.iter().any(|f| f == file) {
        return "FILE NOT FOUND".into();
    }
    let ms = match file.strip_prefix("silence_stream://") {
        Some(n) => n.split(',').next().and_then(|n| n.parse().ok()).unwrap_or(0),
        None => core.scenario.playback_duration(file),
    };
    if core.wait(ms).await {
        "FILE PLAYED".into()
    } else {
        // Killed by the hangup (docs/esl-protocol.md §11.10).
        "PLAYBACK ERROR".into()
    }
}

/// Collects digits from the scenario's next DTMF input, firing a DTMF event per digit.
/// Returns (digits, terminator, read_result).
async fn collect(
    core: &Arc<Core>,
    min: usize,
    max: usize,
    timeout_ms: u64,
    terminators: &str,
    digit_timeout_ms: u64,
) -> (String, Option<char>, &'static str) {
    let input = core.lock().dtmf.pop_front();
    let Some(input) = input else {
        core.wait(timeout_ms).await;
        return (String::new(), None, "timeout");
    };
    if input.after_ms > timeout_ms {
        core.wait(timeout_ms).await;
        core.lock().dtmf.push_front(super::scenario::Dtmf { digits: input.digits, after_ms: input.after_ms - timeout_ms });
        return (String::new(), None, "timeout");
    }
    if !core.wait(input.after_ms).await {
        return (String::new(), None, "failure");
    }
    let mut digits = String::new();
    let mut terminator = None;
    for c in input.digits.chars() {
        core.fire_a(
            "DTMF",
            ("switch_channel.c", "switch_channel_queue_dtmf", 678),
            Vec::new(),
            vec![("DTMF-Digit".into(), c.to_string()), ("DTMF-Duration".into(), "2000".into()), ("DTMF-Source".into(), "RTP".into())],
        );
        if terminators.contains(c) {
            terminator = Some(c);
            break;
        }
        digits.push(c);
        if digits.len() >= max {
            break;
        }
    }
    if terminator.is_none() && digits.len() < max {
        // No terminator and room for more: FreeSWITCH waits out the inter-digit timeout.
        core.wait(digit_timeout_ms).await;
    }
    let result = if digits.len() >= min { "success" } else { "timeout" };
    (digits, terminator, result)
}

/// `read <min> <max> <file> <var> <timeout> <terminators> [<digit_timeout>]` (mod_dptools.c
/// 2755–2820; switch_ivr_read, switch_ivr_play_say.c:2505–2627).
async fn read(core: &Arc<Core>, arg: &str) {
    let a = split_args(arg);
    let num = |i: usize, d: u64| a.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(d);
    let min = num(0, 1).max(1) as usize;
    let max = num(1, 1).max(1) as usize;
    let var = a.get(3).cloned().unwrap_or_else(|| "read_digits".into());
    let timeout = num(4, 5000).max(1000);
    let terms = match a.get(5).map(String::as_str) {
        None => "#".to_string(),
        Some("none") => String::new(),
        Some(t) => t.to_string(),
    };
    let digit_timeout = num(6, timeout);
    let (digits, term, result) = collect(core, min, max, timeout, &terms, digit_timeout).await;
    let mut st = core.lock();
    st.ch.set_var("read_result", result);
    if let Some(t) = term {
        st.ch.set_var("read_terminator_used", &t.to_string());
    }
    if !digits.is_empty() {
        st.ch.set_var(&var, &digits);
    }
}

/// `play_and_get_digits <min> <max> <tries> <timeout> <terminators> <file> <invalid_file>
/// <var> <regexp> [<digit_timeout>] ['<failure_ext> …']` (switch_ivr_play_say.c:2630–2750).
async fn play_and_get_digits(core: &Arc<Core>, arg: &str) {
    let a = split_args(arg);
    let num = |i: usize, d: u64| a.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(d);
    let min = num(0, 1) as usize;
    let max = num(1, 1).max(1) as usize;
    let tries = num(2, 1).max(1);
    let timeout = num(3, 5000);
    let terms = a.get(4).cloned().unwrap_or_else(|| "#".into());
    let invalid_file = a.get(6).cloned().unwrap_or_default();
    let var = a.get(7).cloned().unwrap_or_else(|| "pagd".into());
    let re = a.get(8).and_then(|r| regex::Regex::new(r).ok());
    let digit_timeout = num(9, timeout);
    {
        let mut st = core.lock();
        st.ch.unset_var(&var);
    }
    for _ in 0..tries {
        let (digits, term, result) = collect(core, min, max, timeout, &terms, digit_timeout).await;
        if !core.lock().ch.is_up() {
            return;
        }
        let ok_len = digits.len() >= min && (result == "success" || (min == 0 && term.is_some()));
        let ok_re = re.as_ref().is_none_or(|r| r.is_match(&digits));
        {
            let mut st = core.lock();
            st.ch.set_var("read_result", result);
            if let Some(t) = term {
                st.ch.set_var("read_terminator_used", &t.to_string());
            }
        }
        if ok_len && ok_re {
            if !digits.is_empty() {
                core.lock().ch.set_var(&var, &digits);
            }
            return;
        }
        if !digits.is_empty() {
            core.lock().ch.set_var(&format!("{var}_invalid"), &digits);
        }
        if !invalid_file.is_empty() && invalid_file != "silence_stream://0" {
            playback(core, &invalid_file).await;
        }
    }
}

/// mod_conference's `conference <room>[@<profile>][+<pin>]` (conference_function,
/// mod_conference.c): the first caller makes the room, its limit and its recording read
/// from that caller's `conference_max_members` (a limit of 1 is ignored: 2187–2197) and
/// `conference_auto_record` (2178); the caller is answered (2245); a room with a PIN asks
/// for it up to pin-retries times (3: 2790), each a prompt and then up to 10 s for the
/// digits, `#` ending them (2278–2326), and turns the caller away after the last wrong one;
/// a full room plays max-members-sound (2355–2365). Turned away, the app returns with the
/// caller still up. A member gets `conference_member_id` and `conference_recording`
/// (conference_member.c:884–887) and stays until the hangup. The sounds are those of the
/// profile switchboard serves (xml_curl.rs).
async fn conference(core: &Arc<Core>, arg: &str) {
    let data = arg.split("+flags{").next().unwrap_or_default().trim_start();
    let (name, pin) = data.split_once('+').unwrap_or((data, ""));
    let room = name.rsplit_once('@').map_or(name, |(room, _profile)| room).to_string();
    let (max, recording) = {
        let st = core.lock();
        let max = st.ch.var("conference_max_members").and_then(|v| v.trim().parse::<usize>().ok()).filter(|n| *n != 1).unwrap_or(0);
        (max, st.ch.var("conference_auto_record").filter(|v| !v.is_empty()).map(str::to_string))
    };
    answer(core);
    let mut run = super::call::ConferenceRun { room: room.clone(), ..Default::default() };
    let seconds = |n: u64| n * core.scenario.second_ms;
    if !pin.is_empty() {
        let mut valid = false;
        for _ in 0..3 {
            run.pin_prompts += 1;
            playback(core, "conference/conf-pin.wav").await;
            let (digits, _, _) = collect(core, 1, pin.len(), seconds(10), "#", seconds(10)).await;
            if !core.lock().ch.is_up() {
                run.outcome = "hung up".into();
                core.lock().report.conferences.push(run);
                return;
            }
            if digits == pin {
                valid = true;
                break;
            }
            playback(core, "conference/conf-bad-pin.wav").await;
        }
        if !valid {
            run.outcome = "bad pin".into();
            core.lock().report.conferences.push(run);
            return;
        }
    }
    match core.switch.conference_join(&room, max, recording) {
        Err(()) => {
            playback(core, "conference/conf-locked.wav").await;
            run.outcome = "full".into();
            core.lock().report.conferences.push(run);
        }
        Ok((members, id, recording)) => {
            {
                let mut st = core.lock();
                st.ch.set_var("conference_member_id", &id.to_string());
                if let Some(r) = recording {
                    st.ch.set_var("conference_recording", &r);
                }
                run.outcome = "joined".into();
                run.members = members;
                st.report.conferences.push(run);
            }
            core.wait_down().await;
            core.switch.conference_leave(&room);
        }
    }
}

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

async fn bridge(core: &Arc<Core>, arg: &str) {
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
                super::bridged::talk(core, Partner::Leg(Box::new(b), talk_ms)).await;
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
