//! FreeSWITCH's api commands (what follows `api ` or `bgapi ` on the event socket) as data:
//! the one place their text is written. Every field is checked for what would turn it into
//! something else: a line break ends the command (mod_event_socket.c reads a command to its
//! blank line), a space starts the next argument (the commands split their argument with
//! switch_separate_string), and in a dial string `,` `{` `}` `[` `]` `|` `:` and quotes open
//! or close variables and legs (switch_ivr_originate.c). A value that would do any of that is
//! refused, never escaped: none of switchboard's own values needs them.

use std::fmt::Write as _;

use super::command::CommandError;

/// Which legs hear a broadcast (`uuid_broadcast <uuid> <path> aleg|bleg|both`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leg {
    A,
    Both,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiCommand {
    /// `show channels as json`: the switch's live channels.
    ShowChannels,
    /// `show registrations as json`.
    ShowRegistrations,
    /// `sofia xmlstatus gateway`: every gateway's state, as XML.
    SofiaGateways,
    /// `sofia profile <profile> rescan`: load gateways added to the configuration.
    SofiaRescan { profile: String },
    /// `sofia profile <profile> killgw <gateway>`.
    SofiaKillGateway { profile: String, gateway: String },
    /// `sofia profile <profile> check_sync <user@domain>`: tell a phone to fetch its
    /// configuration (NOTIFY check-sync).
    SofiaCheckSync { profile: String, user: String },
    /// `global_getvar <name>`.
    GlobalGetVar { name: String },
    /// `uuid_exists <uuid>`: "true" or "false".
    UuidExists { uuid: String },
    /// `uuid_kill <uuid> <cause>`.
    UuidKill { uuid: String, cause: String },
    /// `uuid_hold [off] <uuid>`.
    UuidHold { uuid: String, off: bool },
    /// `uuid_transfer <uuid> <dest> XML <context>`.
    UuidTransfer { uuid: String, dest: String, context: String },
    /// `uuid_setvar <uuid> <name> <value>`.
    UuidSetVar { uuid: String, name: String, value: String },
    /// `uuid_record <uuid> start|stop <path>`.
    UuidRecord { uuid: String, start: bool, path: String },
    /// `uuid_broadcast <uuid> <path or app::args> aleg|both`.
    UuidBroadcast { uuid: String, what: String, leg: Leg },
    /// `sched_hangup +<secs> <uuid> <cause>`: the task's group is the UUID
    /// (switch_ivr_schedule_hangup), which [`ApiCommand::SchedDel`] names.
    SchedHangup { after_secs: i64, uuid: String, cause: String },
    /// `sched_del <group>`.
    SchedDel { group: String },
    /// `originate {<vars>}<endpoint> <dest> XML <context>`: a new leg to `endpoint` that, once
    /// answered, is sent to `dest` in `context`.
    Originate { vars: Vec<(String, String)>, endpoint: String, dest: String, context: String },
    /// `uuid_break <uuid> [all]`: stops what the channel is playing (all of it, queued too,
    /// with `all`; mod_commands.c break_function).
    UuidBreak { uuid: String, all: bool },
    /// `uuid_bridge <uuid> <other_uuid>`: bridges two live channels (mod_commands.c
    /// uuid_bridge_function).
    UuidBridge { uuid: String, other: String },
    /// `conference <room> <subcommand>` (mod_conference's conference_api.c command table).
    Conference { room: String, cmd: ConferenceCmd },
    /// `conference json_list`: every room and its members (the live model's snapshot).
    ConferenceListAll,
    /// `module_exists <mod>`: `true` or `false` (mod_commands.c module_exists_function).
    ModuleExists { name: String },
    /// `hash insert|select|delete/<realm>/<key>[/<value>]`: mod_hash's table in the
    /// switch's memory (mod_hash.c hash_api_function), which outlives switchboard.
    Hash { action: HashAction, realm: String, key: String },
}

/// What a [`ApiCommand::Hash`] does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HashAction {
    Insert(String),
    Select,
    Delete,
}

/// The realm of the marks fax tries leave in the switch (see [`fax_sent`]).
pub const FAX_SENT_REALM: &str = "switchboard_fax";

/// The mark of try `token` of fax job `job` having been sent: spandsp inserts it the moment
/// the far machine has every page (`api_on_fax_success`, mod_spandsp_fax.c:714), in the
/// switch, so it is there to ask after switchboard died before it could record the try.
pub fn fax_sent(job: i64, token: &str, action: HashAction) -> ApiCommand {
    ApiCommand::Hash { action, realm: FAX_SENT_REALM.into(), key: format!("{job}-{token}") }
}

/// One argument: not empty, no space, no line break, no NUL.
fn word<'a>(field: &'static str, v: &'a str) -> Result<&'a str, CommandError> {
    if v.is_empty() {
        return Err(CommandError::Empty { field });
    }
    if v.contains(['\r', '\n', '\0']) {
        return Err(CommandError::LineBreak { field });
    }
    if v.chars().any(char::is_whitespace) {
        return Err(CommandError::NotAWord { field });
    }
    Ok(v)
}

/// A value inside a dial string: a [`word`] without the characters that open or close a
/// variable block, a variable, a leg or a quoted value.
fn dial_value<'a>(field: &'static str, v: &'a str) -> Result<&'a str, CommandError> {
    let v = word(field, v)?;
    if v.contains([',', '{', '}', '[', ']', '|', '\'', '"', '^']) {
        return Err(CommandError::NotAWord { field });
    }
    Ok(v)
}

/// What a conference command does to the room (conference_api.c's table, v1.10.12).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConferenceCmd {
    /// `json_list`: the room and its members as JSON.
    List,
    Mute {
        member: u32,
    },
    Unmute {
        member: u32,
    },
    Deaf {
        member: u32,
    },
    Undeaf {
        member: u32,
    },
    Kick {
        member: u32,
    },
    Lock,
    Unlock,
    /// `recording start <path>` / `recording stop <path>`.
    Record {
        start: bool,
        path: String,
    },
}

impl ConferenceCmd {
    fn words(&self) -> Result<String, CommandError> {
        Ok(match self {
            ConferenceCmd::List => "json_list".into(),
            ConferenceCmd::Mute { member } => format!("mute {member}"),
            ConferenceCmd::Unmute { member } => format!("unmute {member}"),
            ConferenceCmd::Deaf { member } => format!("deaf {member}"),
            ConferenceCmd::Undeaf { member } => format!("undeaf {member}"),
            ConferenceCmd::Kick { member } => format!("kick {member}"),
            ConferenceCmd::Lock => "lock".into(),
            ConferenceCmd::Unlock => "unlock".into(),
            ConferenceCmd::Record { start, path } => format!("recording {} {}", if *start { "start" } else { "stop" }, word("path", path)?),
        })
    }
}

impl ApiCommand {
    /// The command as FreeSWITCH reads it (without `api `), or why it cannot be sent.
    pub fn line(&self) -> Result<String, CommandError> {
        Ok(match self {
            ApiCommand::ShowChannels => "show channels as json".into(),
            ApiCommand::ShowRegistrations => "show registrations as json".into(),
            ApiCommand::SofiaGateways => "sofia xmlstatus gateway".into(),
            ApiCommand::SofiaRescan { profile } => format!("sofia profile {} rescan", word("profile", profile)?),
            ApiCommand::SofiaKillGateway { profile, gateway } => {
                format!("sofia profile {} killgw {}", word("profile", profile)?, word("gateway", gateway)?)
            }
            ApiCommand::SofiaCheckSync { profile, user } => format!("sofia profile {} check_sync {}", word("profile", profile)?, word("user", user)?),
            ApiCommand::GlobalGetVar { name } => format!("global_getvar {}", word("name", name)?),
            ApiCommand::UuidExists { uuid } => format!("uuid_exists {}", word("uuid", uuid)?),
            ApiCommand::UuidKill { uuid, cause } => format!("uuid_kill {} {}", word("uuid", uuid)?, word("cause", cause)?),
            ApiCommand::UuidHold { uuid, off } => format!("uuid_hold {}{}", if *off { "off " } else { "" }, word("uuid", uuid)?),
            ApiCommand::UuidTransfer { uuid, dest, context } => {
                format!("uuid_transfer {} {} XML {}", word("uuid", uuid)?, word("dest", dest)?, word("context", context)?)
            }
            ApiCommand::UuidSetVar { uuid, name, value } => {
                format!("uuid_setvar {} {} {}", word("uuid", uuid)?, word("name", name)?, word("value", value)?)
            }
            ApiCommand::UuidRecord { uuid, start, path } => {
                format!("uuid_record {} {} {}", word("uuid", uuid)?, if *start { "start" } else { "stop" }, word("path", path)?)
            }
            ApiCommand::UuidBroadcast { uuid, what, leg } => format!(
                "uuid_broadcast {} {} {}",
                word("uuid", uuid)?,
                word("what", what)?,
                match leg {
                    Leg::A => "aleg",
                    Leg::Both => "both",
                }
            ),
            ApiCommand::SchedHangup { after_secs, uuid, cause } => {
                format!("sched_hangup +{} {} {}", after_secs.max(&1), word("uuid", uuid)?, word("cause", cause)?)
            }
            ApiCommand::SchedDel { group } => format!("sched_del {}", word("group", group)?),
            ApiCommand::Originate { vars, endpoint, dest, context } => {
                let mut out = String::from("originate ");
                if !vars.is_empty() {
                    out.push('{');
                    for (i, (k, v)) in vars.iter().enumerate() {
                        let _ = write!(out, "{}{}={}", if i > 0 { "," } else { "" }, dial_value("variable", k)?, dial_value("value", v)?);
                    }
                    out.push('}');
                }
                let _ = write!(out, "{} {} XML {}", dial_value("endpoint", endpoint)?, word("dest", dest)?, word("context", context)?);
                out
            }
            ApiCommand::UuidBreak { uuid, all } => format!("uuid_break {}{}", word("uuid", uuid)?, if *all { " all" } else { "" }),
            ApiCommand::UuidBridge { uuid, other } => format!("uuid_bridge {} {}", word("uuid", uuid)?, word("other", other)?),
            ApiCommand::Conference { room, cmd } => format!("conference {} {}", word("room", room)?, cmd.words()?),
            ApiCommand::ConferenceListAll => "conference json_list".into(),
            ApiCommand::ModuleExists { name } => format!("module_exists {}", word("name", name)?),
            ApiCommand::Hash { action, realm, key } => {
                // mod_hash splits its argument at '/': none inside a part.
                let part = |field: &'static str, v: &str| -> Result<String, CommandError> {
                    let v = word(field, v)?;
                    if v.contains('/') {
                        return Err(CommandError::NotAWord { field });
                    }
                    Ok(v.to_string())
                };
                let (realm, key) = (part("realm", realm)?, part("key", key)?);
                match action {
                    HashAction::Insert(value) => format!("hash insert/{realm}/{key}/{}", part("value", value)?),
                    HashAction::Select => format!("hash select/{realm}/{key}"),
                    HashAction::Delete => format!("hash delete/{realm}/{key}"),
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> String {
        v.to_string()
    }

    /// The exact bytes of every command, as FreeSWITCH's own command table reads them
    /// (mod_commands.c, mod_sofia.c).
    #[test]
    fn every_command_is_written_exactly() {
        let u = s("8a6e4a2c-0f3b-4c1e-9d0a-1b2c3d4e5f60");
        let golden = [
            (ApiCommand::ShowChannels, "show channels as json"),
            (ApiCommand::ConferenceListAll, "conference json_list"),
            (ApiCommand::ModuleExists { name: s("mod_shout") }, "module_exists mod_shout"),
            (ApiCommand::ShowRegistrations, "show registrations as json"),
            (ApiCommand::SofiaGateways, "sofia xmlstatus gateway"),
            (ApiCommand::SofiaRescan { profile: s("external") }, "sofia profile external rescan"),
            (ApiCommand::SofiaKillGateway { profile: s("external"), gateway: s("trunk7") }, "sofia profile external killgw trunk7"),
            (ApiCommand::SofiaCheckSync { profile: s("internal"), user: s("1001@acme.test") }, "sofia profile internal check_sync 1001@acme.test"),
            (ApiCommand::GlobalGetVar { name: s("recordings_dir") }, "global_getvar recordings_dir"),
            (ApiCommand::UuidExists { uuid: u.clone() }, "uuid_exists 8a6e4a2c-0f3b-4c1e-9d0a-1b2c3d4e5f60"),
            (fax_sent(42, "tok", HashAction::Insert(s("sent"))), "hash insert/switchboard_fax/42-tok/sent"),
            (fax_sent(42, "tok", HashAction::Select), "hash select/switchboard_fax/42-tok"),
            (fax_sent(42, "tok", HashAction::Delete), "hash delete/switchboard_fax/42-tok"),
            (ApiCommand::UuidKill { uuid: u.clone(), cause: s("NORMAL_CLEARING") }, "uuid_kill 8a6e4a2c-0f3b-4c1e-9d0a-1b2c3d4e5f60 NORMAL_CLEARING"),
            (ApiCommand::UuidHold { uuid: u.clone(), off: false }, "uuid_hold 8a6e4a2c-0f3b-4c1e-9d0a-1b2c3d4e5f60"),
            (ApiCommand::UuidHold { uuid: u.clone(), off: true }, "uuid_hold off 8a6e4a2c-0f3b-4c1e-9d0a-1b2c3d4e5f60"),
            (
                ApiCommand::UuidTransfer { uuid: u.clone(), dest: s("1002"), context: s("acme.test") },
                "uuid_transfer 8a6e4a2c-0f3b-4c1e-9d0a-1b2c3d4e5f60 1002 XML acme.test",
            ),
            (
                ApiCommand::UuidSetVar { uuid: u.clone(), name: s("hangup_after_bridge"), value: s("false") },
                "uuid_setvar 8a6e4a2c-0f3b-4c1e-9d0a-1b2c3d4e5f60 hangup_after_bridge false",
            ),
            (
                ApiCommand::UuidRecord { uuid: u.clone(), start: true, path: s("/r/acme.test/x.wav") },
                "uuid_record 8a6e4a2c-0f3b-4c1e-9d0a-1b2c3d4e5f60 start /r/acme.test/x.wav",
            ),
            (
                ApiCommand::UuidRecord { uuid: u.clone(), start: false, path: s("/r/acme.test/x.wav") },
                "uuid_record 8a6e4a2c-0f3b-4c1e-9d0a-1b2c3d4e5f60 stop /r/acme.test/x.wav",
            ),
            (
                ApiCommand::UuidBroadcast { uuid: u.clone(), what: s("att_xfer::user/1003@acme.test"), leg: Leg::A },
                "uuid_broadcast 8a6e4a2c-0f3b-4c1e-9d0a-1b2c3d4e5f60 att_xfer::user/1003@acme.test aleg",
            ),
            (
                ApiCommand::UuidBroadcast { uuid: u.clone(), what: s("tone_stream://%(500,500,480,620);loops=3"), leg: Leg::Both },
                "uuid_broadcast 8a6e4a2c-0f3b-4c1e-9d0a-1b2c3d4e5f60 tone_stream://%(500,500,480,620);loops=3 both",
            ),
            (
                ApiCommand::SchedHangup { after_secs: 75, uuid: u.clone(), cause: s("ALLOTTED_TIMEOUT") },
                "sched_hangup +75 8a6e4a2c-0f3b-4c1e-9d0a-1b2c3d4e5f60 ALLOTTED_TIMEOUT",
            ),
            (ApiCommand::SchedHangup { after_secs: 0, uuid: u.clone(), cause: s("X") }, "sched_hangup +1 8a6e4a2c-0f3b-4c1e-9d0a-1b2c3d4e5f60 X"),
            (ApiCommand::SchedDel { group: u.clone() }, "sched_del 8a6e4a2c-0f3b-4c1e-9d0a-1b2c3d4e5f60"),
            (
                ApiCommand::Originate {
                    vars: vec![(s("origination_caller_id_number"), s("+12125550100")), (s("originate_timeout"), s("30"))],
                    endpoint: s("user/1001@acme.test"),
                    dest: s("+12125550100"),
                    context: s("acme.test"),
                },
                "originate {origination_caller_id_number=+12125550100,originate_timeout=30}user/1001@acme.test +12125550100 XML acme.test",
            ),
            (ApiCommand::UuidBreak { uuid: u.clone(), all: true }, "uuid_break 8a6e4a2c-0f3b-4c1e-9d0a-1b2c3d4e5f60 all"),
            (ApiCommand::UuidBreak { uuid: u.clone(), all: false }, "uuid_break 8a6e4a2c-0f3b-4c1e-9d0a-1b2c3d4e5f60"),
            (ApiCommand::UuidBridge { uuid: u.clone(), other: s("b") }, "uuid_bridge 8a6e4a2c-0f3b-4c1e-9d0a-1b2c3d4e5f60 b"),
        ];
        let room = |cmd| ApiCommand::Conference { room: s("3000-acme.test"), cmd };
        let golden = golden.into_iter().chain([
            (room(ConferenceCmd::List), "conference 3000-acme.test json_list"),
            (room(ConferenceCmd::Mute { member: 7 }), "conference 3000-acme.test mute 7"),
            (room(ConferenceCmd::Unmute { member: 7 }), "conference 3000-acme.test unmute 7"),
            (room(ConferenceCmd::Deaf { member: 7 }), "conference 3000-acme.test deaf 7"),
            (room(ConferenceCmd::Undeaf { member: 7 }), "conference 3000-acme.test undeaf 7"),
            (room(ConferenceCmd::Kick { member: 7 }), "conference 3000-acme.test kick 7"),
            (room(ConferenceCmd::Lock), "conference 3000-acme.test lock"),
            (room(ConferenceCmd::Unlock), "conference 3000-acme.test unlock"),
            (room(ConferenceCmd::Record { start: true, path: s("/r/a.wav") }), "conference 3000-acme.test recording start /r/a.wav"),
            (room(ConferenceCmd::Record { start: false, path: s("/r/a.wav") }), "conference 3000-acme.test recording stop /r/a.wav"),
        ]);
        for (cmd, want) in golden {
            assert_eq!(cmd.line().unwrap(), want);
        }
    }

    /// A line break, a space or a dial-string metacharacter in any field is refused: one
    /// value must never become two commands, two arguments or another leg.
    #[test]
    fn hostile_fields_are_refused() {
        let u = s("8a6e4a2c-0f3b-4c1e-9d0a-1b2c3d4e5f60");
        for bad in ["x\nuuid_kill all", "x\r\n", "x y", "", "a\0b"] {
            assert!(ApiCommand::UuidKill { uuid: s(bad), cause: s("NORMAL_CLEARING") }.line().is_err(), "{bad:?}");
            assert!(ApiCommand::UuidKill { uuid: u.clone(), cause: s(bad) }.line().is_err(), "{bad:?}");
            assert!(ApiCommand::UuidTransfer { uuid: u.clone(), dest: s(bad), context: s("c") }.line().is_err(), "{bad:?}");
            assert!(ApiCommand::UuidTransfer { uuid: u.clone(), dest: s("1"), context: s(bad) }.line().is_err(), "{bad:?}");
            assert!(ApiCommand::UuidSetVar { uuid: u.clone(), name: s("n"), value: s(bad) }.line().is_err(), "{bad:?}");
            assert!(ApiCommand::UuidRecord { uuid: u.clone(), start: true, path: s(bad) }.line().is_err(), "{bad:?}");
            assert!(ApiCommand::SofiaCheckSync { profile: s("internal"), user: s(bad) }.line().is_err(), "{bad:?}");
            assert!(ApiCommand::SofiaKillGateway { profile: s("external"), gateway: s(bad) }.line().is_err(), "{bad:?}");
            assert!(ApiCommand::GlobalGetVar { name: s(bad) }.line().is_err(), "{bad:?}");
            assert!(ApiCommand::UuidBreak { uuid: s(bad), all: true }.line().is_err(), "{bad:?}");
            assert!(ApiCommand::UuidBridge { uuid: u.clone(), other: s(bad) }.line().is_err(), "{bad:?}");
            assert!(ApiCommand::Conference { room: s(bad), cmd: ConferenceCmd::Lock }.line().is_err(), "{bad:?}");
            let record = ConferenceCmd::Record { start: true, path: s(bad) };
            assert!(ApiCommand::Conference { room: s("3000-acme.test"), cmd: record }.line().is_err(), "{bad:?}");
        }
        for bad in ["1,origination_uuid=x", "1}user/9", "{x=1}", "a|b", "[x]", "'q'", "a^b"] {
            let o = |k: &str, v: &str, e: &str| ApiCommand::Originate { vars: vec![(s(k), s(v))], endpoint: s(e), dest: s("1"), context: s("c") };
            assert!(o("origination_caller_id_number", bad, "user/1@c").line().is_err(), "{bad:?}");
            assert!(o(bad, "1", "user/1@c").line().is_err(), "{bad:?}");
            assert!(o("a", "1", bad).line().is_err(), "{bad:?}");
        }
    }
}
