//! The api commands a PBX sends the switch (`api`/`bgapi` over either face), answered from
//! the simulated switch's own state: the dispatcher, and `originate`, which places a leg and
//! hands it to the socket when it answers.

use std::sync::Arc;

use super::*;

impl Switch {
    /// The api commands a PBX uses, answered from the simulated switch's own state.
    /// (`$${…}` in an api command's arguments is never expanded, by the switch or here.)
    pub async fn api(&self, line: &str, _session: Option<&str>) -> String {
        let line = line.trim();
        let (cmd, args) = line.split_once(' ').map(|(c, a)| (c, a.trim())).unwrap_or((line, ""));
        let words: Vec<&str> = args.split_whitespace().collect();
        match cmd {
            // mod_commands.c module_exists_function: `true` or `false`. The simulated switch
            // has what the built 1.10.12 beside it has: no mod_shout (so no MP3).
            "module_exists" => {
                (if ["mod_sndfile", "mod_conference", "mod_commands", "mod_dptools", "mod_sofia", "mod_voicemail", "mod_spandsp", "mod_hash"]
                    .contains(&args)
                {
                    "true"
                } else {
                    "false"
                })
                .into()
            }
            "conference" => {
                let (room, rest) = args.split_once(' ').map(|(r, x)| (r, x.trim())).unwrap_or((args, ""));
                self.conference_api(room, rest)
            }
            "status" => {
                let n = self.live().len();
                let total = self.inner.sessions.load(std::sync::atomic::Ordering::Relaxed);
                format!(
                    "UP 0 years, 0 days, 0 hours, 0 minutes, 1 second, 0 milliseconds, 0 microseconds\nFreeSWITCH (Version 1.10.12 -release 64bit) is ready\n{total} session(s) since startup\n{n} session(s) - peak {n}, last 5min {n} \n0 session(s) per Sec out of max 30, peak 0, last 5min 0 \n1000 session(s) max\nmin idle cpu 0.00/99.00\nCurrent Stack Size/Max 240K/8192K\n"
                )
            }
            // mod_hash.c hash_api_function: `insert|select|delete/<realm>/<key>[/<value>]`,
            // kept under `<realm>_<key>`; select answers the value alone, or nothing.
            "hash" => {
                let parts: Vec<&str> = args.splitn(4, '/').collect();
                if parts.len() < 3 {
                    return "-ERR Usage: hash [insert|delete|select]/<realm>/<key>/<val>\n".into();
                }
                let key = format!("{}_{}", parts[1], parts[2]);
                let mut hash = self.inner.hash.lock().unwrap();
                match (parts[0], parts.get(3)) {
                    ("insert", Some(v)) => {
                        hash.insert(key, v.to_string());
                        "+OK\n".into()
                    }
                    ("delete", _) => match hash.remove(&key) {
                        Some(_) => "+OK\n".into(),
                        None => "-ERR Not found\n".into(),
                    },
                    ("select", _) => hash.get(&key).cloned().unwrap_or_default(),
                    _ => "-ERR Usage: hash [insert|delete|select]/<realm>/<key>/<val>\n".into(),
                }
            }
            "show" if args.starts_with("channels") => self.show_channels(args.contains("as json")),
            "show" if args.starts_with("registrations") => self.show_registrations(args.contains("as json")),
            // mod_commands.c break_function: `<uuid> [all|both]`; the media application
            // running on the channel stops (CF_BREAK); `all` also drops the queued ones. A
            // break with no media application running yet is lost, as on the real switch
            // (a playback sent just before the break played on): only waiters are woken.
            "uuid_break" => match words.first().and_then(|u| self.find(u)) {
                Some(c) => {
                    c.brk.notify_waiters();
                    "+OK\n".into()
                }
                None => "-ERR No such channel!\n".into(),
            },
            "uuid_kill" => {
                let cause = words.get(1).copied().unwrap_or("NORMAL_CLEARING");
                match words.first() {
                    Some(u) => match self.find(u) {
                        Some(c) => {
                            c.hangup(cause, "switch");
                            "+OK\n".into()
                        }
                        None if self.leg_ctl(u, bridged::LegCtl::Kill { uuid: u.to_string(), cause: cause.to_string() }) => "+OK\n".into(),
                        None => "-ERR No such channel!\n".into(),
                    },
                    None => "-ERR No such channel!\n".into(),
                }
            }
            // mod_commands.c uuid_broadcast_function: `<uuid> <path> [aleg|bleg|both]`; an
            // `app::args` path runs the application on that channel (switch_ivr_broadcast).
            "uuid_broadcast" => match (words.first(), words.get(1)) {
                (Some(u), Some(path)) if self.find_owner(u).is_some() => {
                    match path.strip_prefix("att_xfer::") {
                        Some(target) => {
                            self.leg_ctl(u, bridged::LegCtl::AttXfer { presser: u.to_string(), target: target.to_string() });
                        }
                        None => {
                            if let Some(c) = self.find_owner(u) {
                                c.lock().report.broadcasts.push(words[1..].join(" "));
                            }
                        }
                    }
                    "+OK Message sent\n".into()
                }
                (Some(_), Some(_)) => "-ERR invalid uuid\n".into(),
                _ => "-USAGE: <uuid> <path> [aleg|bleg|holdb|both]\n".into(),
            },
            // mod_commands.c sched_hangup_function: `+<secs>|<epoch> <uuid> [<cause>]`; the task's
            // group is the channel's UUID (switch_ivr_schedule_hangup), so `sched_del <uuid>`
            // cancels it. Seconds are the scenario's (second_ms).
            "sched_hangup" => match (words.first(), words.get(1).and_then(|u| self.find(u))) {
                (Some(when), Some(c)) => {
                    let secs: u64 = when.trim_start_matches('+').parse().unwrap_or(0);
                    let cause = words.get(2).copied().unwrap_or("ALLOTTED_TIMEOUT").to_string();
                    c.lock().report.sched_hangup = Some((secs, cause.clone()));
                    let ms = secs * c.scenario.second_ms;
                    let group = c.uuid();
                    let target = c.clone();
                    let task = tokio::spawn(async move {
                        if target.wait(ms).await {
                            target.hangup(&cause, "switch");
                        }
                    });
                    self.inner.sched.lock().unwrap().push((group, task.abort_handle()));
                    "+OK\n".into()
                }
                (None, _) => "-USAGE: <time> <uuid> [<cause>]\n".into(),
                _ => "-ERR No such channel!\n".into(),
            },
            // mod_commands.c sched_del_function: by task id (digits) or group; always +OK.
            "sched_del" => {
                let group = args.trim();
                let mut all = self.inner.sched.lock().unwrap();
                let before = all.len();
                all.retain(|(g, task)| {
                    let hit = g == group;
                    if hit {
                        task.abort();
                    }
                    !hit && !task.is_finished()
                });
                let n = before - all.len();
                format!("+OK Deleted: {n}\n")
            }
            // mod_commands.c session_record_function: `<uuid> start|stop <path> [<limit>]`.
            "uuid_record" => match (words.first().and_then(|u| self.find_owner(u)), words.get(1), words.get(2)) {
                (Some(c), Some(&"start"), Some(path)) => {
                    self.start_recording(path);
                    c.lock().report.recordings.push(path.to_string());
                    "+OK Success\n".into()
                }
                (Some(c), Some(&"stop"), Some(path)) => {
                    c.lock().report.stopped_recordings.push(path.to_string());
                    "+OK Success\n".into()
                }
                (None, Some(_), Some(_)) => "-ERR Cannot locate session!\n".into(),
                _ => "-USAGE: <uuid> [start|stop|mask|unmask] <path> [<limit>]\n".into(),
            },
            // mod_commands.c global_getvar_function: the value, no line break; nothing for
            // a variable that is not set.
            "global_getvar" => match args {
                "recordings_dir" => self.recordings_dir(),
                "sound_prefix" => SOUND_PREFIX.into(),
                // A real directory: rxfax writes a real file there, which switchboard reads.
                "temp_dir" => std::env::temp_dir().to_string_lossy().trim_end_matches('/').to_string(),
                _ => String::new(),
            },
            // mod_commands.c uuid_exists_function: "true" or "false", no line break.
            "uuid_exists" => (words.first().is_some_and(|u| self.find(u).is_some())).to_string(),
            "uuid_getvar" => match words.first().and_then(|u| self.find(u)) {
                Some(c) => c.lock().ch.var(words.get(1).copied().unwrap_or("")).unwrap_or("_undef_").to_string(),
                None => "-ERR No such channel!\n".into(),
            },
            "uuid_setvar" => match words.first().and_then(|u| self.find(u)) {
                Some(c) => {
                    let value = words.get(2..).map(|w| w.join(" ")).unwrap_or_default();
                    c.lock().ch.set_var(words.get(1).copied().unwrap_or(""), &value);
                    "+OK\n".into()
                }
                None => "-ERR No such channel!\n".into(),
            },
            "uuid_transfer" => {
                let rest: Vec<&str> = words.iter().skip(1).filter(|w| !w.starts_with('-')).copied().collect();
                match words.first().and_then(|u| self.find(u)) {
                    Some(c) if !rest.is_empty() => {
                        c.lock().report.transferred_to = Some(rest.join(" "));
                        c.release_socket();
                        "+OK\n".into()
                    }
                    None if !rest.is_empty()
                        && self.leg_ctl(words[0], bridged::LegCtl::Transfer { uuid: words[0].to_string(), dest: rest.join(" ") }) =>
                    {
                        "+OK\n".into()
                    }
                    Some(_) => "-USAGE: <uuid> [-bleg|-both] <dest-exten> [<dialplan>] [<context>]\n".into(),
                    None => "-ERR No such channel!\n".into(),
                }
            }
            "uuid_hold" => {
                let (off, uuid) = match words.as_slice() {
                    ["off", u, ..] => (true, *u),
                    ["toggle", u, ..] => (false, *u),
                    [u, ..] => (false, *u),
                    [] => return "-USAGE: [off|toggle] <uuid>\n".into(),
                };
                match self.find(uuid) {
                    Some(c) => {
                        let name = {
                            let mut st = c.lock();
                            st.held = if words.first() == Some(&"toggle") { !st.held } else { !off };
                            if st.held {
                                "CHANNEL_HOLD"
                            } else {
                                "CHANNEL_UNHOLD"
                            }
                        };
                        c.fire_a(name, ("switch_channel.c", "switch_channel_perform_mark_hold", 1060), Vec::new(), Vec::new());
                        "+OK Success\n".into()
                    }
                    None => "-ERR No such channel!\n".into(),
                }
            }
            "sofia" if args.starts_with("status gateway") => self.sofia_gateways(words.get(2).copied()),
            "sofia" if args.starts_with("xmlstatus gateway") => self.sofia_gateways_xml(words.get(2).copied()),
            // mod_sofia.c:3623–3645: `sofia profile <name> rescan | check_sync [<user@host>]`.
            "sofia" if words.first() == Some(&"profile") && words.len() >= 3 => {
                self.inner.sofia_log.lock().unwrap().push(words[1..].join(" "));
                match (words[1], words[2]) {
                    ("internal" | "external", "rescan") => "Reload XML [Success]\n+OK scan complete\n".into(),
                    ("internal" | "external", "check_sync") if words.len() > 3 => "+OK syncing all registrations matching specified call_id\n".into(),
                    ("internal" | "external", "check_sync") => "+OK syncing all registrations\n".into(),
                    // mod_sofia.c:3583–3601.
                    ("internal" | "external", "killgw") => match words.get(3) {
                        None => "-ERR missing gw name\n".into(),
                        // The real switch unlinks it at the profile's next tick (about a
                        // second later) and fires gateway_delete then (sofia_reg.c:334–350).
                        Some(gw) => {
                            let removed = {
                                let mut gws = self.inner.gateways.lock().unwrap();
                                let before = gws.len();
                                gws.retain(|g| g.name != *gw);
                                gws.len() < before
                            };
                            if removed {
                                let headers = vec![("profile-name", words[1].to_string()), ("Gateway", gw.to_string())];
                                self.publish(&self.custom_event("sofia::gateway_delete", ("sofia_reg.c", "sofia_reg_check_gateway", 343), headers));
                                "+OK gateway marked for deletion.\n".into()
                            } else {
                                "-ERR no such gateway.\n".into()
                            }
                        }
                    },
                    ("internal" | "external", _) => "-ERR Unknown command!\n".into(),
                    (p, _) => format!("Invalid Profile [{p}]"),
                }
            }
            // originate splits its arguments like switch_separate_string: a single-quoted
            // value keeps its spaces and loses its quotes (switch_utils.c:2814–2868).
            "originate" => {
                let quoted = apps::split_args(args);
                let words: Vec<&str> = quoted.iter().map(String::as_str).collect();
                self.originate(&words).await
            }
            _ => format!("-ERR {cmd} Command not found!\n"),
        }
    }

    /// `originate <dialstring> <&app(args)|exten [dialplan] [context]>`: rings the leg as the
    /// originate scenario says; when it answers, `&park()` parks it and an extension hands
    /// it to switchboard's outbound socket like the dialplan would.
    async fn originate(&self, words: &[&str]) -> String {
        let Some(dial) = words.first() else {
            return "-USAGE: <call url> <exten>|&<application_name>(<app_args>) [<dialplan>] [<context>] [<cid_name>] [<cid_num>] [<timeout_sec>]\n"
                .into();
        };
        let dest = words.get(1).copied().unwrap_or("&park()");
        let (globals, groups) = apps::parse_dialstring(dial);
        let endpoint = groups.first().and_then(|g| g.first()).map(|l| l.endpoint.clone()).unwrap_or_default();
        let base = self.inner.originate.lock().unwrap().clone();
        let target = base.target(&endpoint);
        // Counted from the moment it rings to its hangup (or its failure to connect).
        let leg = uuid::Uuid::new_v4().to_string();
        self.leg_up(&leg, &endpoint);
        let reply = self.place(words, dest, &endpoint, &globals, base, target, &leg).await;
        if !reply.starts_with("+OK") {
            self.leg_down(&leg);
        }
        reply
    }

    #[allow(clippy::too_many_arguments)]
    async fn place(
        &self,
        words: &[&str],
        dest: &str,
        endpoint: &str,
        globals: &[(String, String)],
        base: Scenario,
        target: Target,
        leg: &str,
    ) -> String {
        let gv = |k: &str| globals.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        match target {
            Target::Answer { after_ms, .. } => {
                tokio::time::sleep(std::time::Duration::from_millis(after_ms)).await;
                let mut s = base.clone();
                let user = endpoint.strip_prefix("user/").map(|u| u.split('@').next().unwrap_or("").to_string());
                s.caller_id_number = gv("origination_caller_id_number")
                    .unwrap_or_else(|| endpoint.rsplit('/').next().unwrap_or("").split('@').next().unwrap_or("").to_string());
                s.caller_id_name = gv("origination_caller_id_name").unwrap_or_else(|| s.caller_id_number.clone());
                if let (Some(u), false) = (&user, dest.starts_with('&')) {
                    // A phone's leg sent into the dialplan has its caller and callee swapped
                    // there (switch_channel.c:3236–3309, switch_channel_flip_cid): its caller
                    // becomes its callee as originate made it, "Outbound Call" at the phone's
                    // contact user (switch_ivr_originate.c:2972), not the origination_caller_id
                    // set above. What says which phone it is are the directory user's
                    // variables, which the user/ endpoint puts on the leg (mod_dptools.c
                    // user_outgoing_channel); this switch has no directory, so it knows the
                    // number alone.
                    s.caller_id_number = channel::contact_user(u);
                    s.caller_id_name = "Outbound Call".into();
                    s.variables.insert("effective_caller_id_number".into(), u.clone());
                }
                s.destination = dest.trim_start_matches('&').to_string();
                s.hangup_after_ms = None;
                let target_addr = *self.inner.socket_target.lock().unwrap();
                match (dest.starts_with('&'), target_addr) {
                    (false, Some(addr)) => {
                        // The answered leg enters the dialplan, which hands it to the socket.
                        s.context = words.get(3).copied().unwrap_or("default").to_string();
                        s.variables.insert("originated_leg".into(), "true".into());
                        s.variables.insert("sim_leg".into(), leg.to_string());
                        s.variables.insert("sim_endpoint".into(), endpoint.to_string());
                        for (k, v) in globals {
                            s.variables.insert(k.clone(), v.clone());
                        }
                        // The leg's UUID: the one its originate asked for (origination_uuid),
                        // else one of its own, known before the channel exists.
                        let uuid = gv("origination_uuid").unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
                        s.variables.insert("origination_uuid".into(), uuid.clone());
                        let sw = self.clone();
                        let s_leg = leg.to_string();
                        let (tx, rx) = tokio::sync::oneshot::channel();
                        tokio::spawn(async move {
                            let mut sub = sw.subscribe();
                            let scen = Arc::new(s);
                            let handle = tokio::spawn({
                                let sw = sw.clone();
                                async move { sw.call(addr, scen).await }
                            });
                            // Answered once the channel is the switch's: its first event. Other
                            // calls' events pass by; a bus that ran ahead is asked directly. A
                            // call that never makes one (its socket refused) ends the wait.
                            let first = async {
                                loop {
                                    match sub.recv().await {
                                        Ok(ev) if ev.unique_id() == Some(uuid.as_str()) => return true,
                                        Ok(_) => {}
                                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) if sw.find(&uuid).is_some() => return true,
                                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                                        Err(_) => return false,
                                    }
                                }
                            };
                            if let Ok(true) = tokio::time::timeout(std::time::Duration::from_secs(5), first).await {
                                let _ = tx.send(uuid);
                            }
                            drop(sub);
                            let _ = handle.await;
                            sw.leg_down(&s_leg);
                        });
                        match tokio::time::timeout(std::time::Duration::from_secs(5), rx).await {
                            Ok(Ok(uuid)) => format!("+OK {uuid}\n"),
                            _ => "-ERR DESTINATION_OUT_OF_ORDER\n".into(),
                        }
                    }
                    _ => {
                        // Answered into an application nobody models: up for no time.
                        self.leg_down(leg);
                        let uuid = uuid::Uuid::new_v4();
                        format!("+OK {uuid}\n")
                    }
                }
            }
            Target::NoAnswer => "-ERR NO_ANSWER\n".into(),
            Target::Busy { .. } => "-ERR USER_BUSY\n".into(),
            Target::Reject { .. } => "-ERR CALL_REJECTED\n".into(),
            Target::Unregistered => "-ERR USER_NOT_REGISTERED\n".into(),
            Target::Fail { cause, .. } => format!("-ERR {cause}\n"),
        }
    }
}
