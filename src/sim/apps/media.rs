//! The media applications: playback, digit collection (`read`, `play_and_get_digits`) and
//! mod_conference's `conference`, each with the events and variables FreeSWITCH sets.

use std::sync::Arc;

use crate::sim::call::Core;

use super::*;

pub(super) async fn playback(core: &Arc<Core>, file: &str) -> String {
    let file = file.trim();
    if core.scenario.missing_files.iter().any(|f| f == file) {
        return "FILE NOT FOUND".into();
    }
    let ms = match file.strip_prefix("silence_stream://") {
        // `-1`: silence until something stops it (switch_ivr_play_file).
        Some(n) if n.starts_with("-1") => ENDLESS_MS,
        Some(n) => n.split(',').next().and_then(|n| n.parse().ok()).unwrap_or(0),
        // A music-on-hold stream never ends by itself (mod_local_stream): only a break or
        // the hangup stops it.
        None if file.starts_with("local_stream://") => ENDLESS_MS,
        None => core.scenario.playback_duration(file),
    };
    tokio::select! {
        played = core.wait(ms) => {
            if played {
                "FILE PLAYED".into()
            } else {
                // Killed by the hangup (docs/esl-protocol.md §11.10).
                "PLAYBACK ERROR".into()
            }
        }
        // uuid_break: switch_ivr_play_file returns SWITCH_STATUS_BREAK, which
        // playback_function reports as played (mod_dptools.c:3058–3061).
        _ = core.brk.notified() => "FILE PLAYED".into(),
    }
}

/// Ten years: a stream that plays until something stops it.
const ENDLESS_MS: u64 = 10 * 365 * 86_400_000;

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
        core.lock().dtmf.push_front(crate::sim::scenario::Dtmf { digits: input.digits, after_ms: input.after_ms - timeout_ms });
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
pub(super) async fn read(core: &Arc<Core>, arg: &str) {
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
pub(super) async fn play_and_get_digits(core: &Arc<Core>, arg: &str) {
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
pub(super) async fn conference(core: &Arc<Core>, arg: &str) {
    let data = arg.split("+flags{").next().unwrap_or_default().trim_start();
    let (name, pin) = data.split_once('+').unwrap_or((data, ""));
    let room = name.rsplit_once('@').map_or(name, |(room, _profile)| room).to_string();
    let (max, recording) = {
        let st = core.lock();
        let max = st.ch.var("conference_max_members").and_then(|v| v.trim().parse::<usize>().ok()).filter(|n| *n != 1).unwrap_or(0);
        (max, st.ch.var("conference_auto_record").filter(|v| !v.is_empty()).map(str::to_string))
    };
    answer(core);
    let mut run = crate::sim::call::ConferenceRun { room: room.clone(), ..Default::default() };
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
    let joined = {
        let who = core.lock().ch.clone();
        core.switch.conference_join(&room, max, recording, &who)
    };
    match joined {
        None => {
            playback(core, "conference/conf-locked.wav").await;
            run.outcome = "full".into();
            core.lock().report.conferences.push(run);
        }
        Some((id, recording, kicked)) => {
            {
                let mut st = core.lock();
                st.ch.set_var("conference_member_id", &id.to_string());
                if let Some(r) = recording {
                    st.ch.set_var("conference_recording", &r);
                }
                run.outcome = "joined".into();
                run.members = core.switch.conference_size(&room);
                st.report.conferences.push(run);
            }
            // Until the hangup, or a kick: then the app returns with the caller up, after
            // the kicked sound (mod_conference.c:2584–2613).
            let was_kicked = tokio::select! {
                _ = core.wait_down() => false,
                _ = kicked.notified() => true,
            };
            core.switch.conference_leave(&room, id);
            if was_kicked {
                playback(core, "conference/conf-kicked.wav").await;
            }
        }
    }
}
