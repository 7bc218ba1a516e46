//! A conference room, live: who is in it (talking, muted, deaf), and the moderator's
//! controls (mute, deaf, kick a member; lock the room; record it), sent to mod_conference
//! over the control connection (`conference <room> …`, conference_api.c) and read back
//! from the live model, which its `conference::maintenance` events keep.
//!
//! The room is found from the conference a user may see (the resource's own rules), so a
//! room of another tenant, or a member of another room, is "not found".

use serde_json::{json, Value};

use super::error::{ApiError, ApiResult};
use super::realtime::block;
use super::router::{Api, Reply, Req};
use crate::esl::api::ConferenceCmd;
use crate::esl::ApiCommand;
use crate::store::{resources as res, TenantId};

/// The room's name on the switch, of a conference this user may see, and its tenant.
fn room_of(api: &Api, req: &Req) -> ApiResult<(String, Option<i64>)> {
    let row = api.store.get(&res::CONFERENCES, req.grant.within, req.grant.owner, req.id())?;
    let tenant = row["tenant_id"].as_i64();
    let domain = api.store.routing_tenant(TenantId(tenant.ok_or(ApiError::NotFound)?))?.sip_domain;
    let name = crate::pbx::room::name(row["number"].as_str().unwrap_or(""), &domain);
    Ok((name, tenant))
}

/// GET /conferences/{id}/live: the room as the switch has it now (no members: nobody in it).
pub fn live(api: &Api, req: &Req) -> ApiResult<Reply> {
    let (name, _) = room_of(api, req)?;
    let room = api.live.switch().conference(&name);
    Reply::ok(json!({
        "online": api.live.online(),
        "name": name,
        "locked": room.as_ref().is_some_and(|r| r.locked),
        "recording": room.as_ref().and_then(|r| r.recording.clone()),
        "members": room.map(|r| r.members).unwrap_or_default(),
    }))
}

pub const CONTROL_DOC: &[(&str, &str, bool)] = &[("action", "string", true), ("member", "integer", false)];

/// The actions on a member, and the command each sends.
fn member_cmd(action: &str, member: u32) -> Option<ConferenceCmd> {
    Some(match action {
        "mute" => ConferenceCmd::Mute { member },
        "unmute" => ConferenceCmd::Unmute { member },
        "deaf" => ConferenceCmd::Deaf { member },
        "undeaf" => ConferenceCmd::Undeaf { member },
        "kick" => ConferenceCmd::Kick { member },
        _ => return None,
    })
}

/// POST /conferences/{id}/live: `{action, member}`: mute, unmute, deaf, undeaf or kick a
/// member; lock, unlock, record_start or record_stop the room.
pub fn control(api: &Api, req: &Req) -> ApiResult<Reply> {
    let body = req.object()?;
    let action = body.get("action").and_then(Value::as_str).ok_or_else(|| ApiError::invalid("action", "required"))?.to_string();
    let (name, tenant) = room_of(api, req)?;
    if !api.live.online() {
        return Err(ApiError::SwitchOffline);
    }
    let room = api.live.switch().conference(&name).ok_or_else(|| ApiError::Missing("nobody is in this conference now".into()))?;
    let cmd = match action.as_str() {
        "lock" => ConferenceCmd::Lock,
        "unlock" => ConferenceCmd::Unlock,
        "record_start" => {
            if room.recording.is_some() {
                return Err(ApiError::Conflict { field: Some("action".into()), message: "the conference is already being recorded".into() });
            }
            let reply = block(api.live.api(&ApiCommand::GlobalGetVar { name: "recordings_dir".into() }))?;
            let dir =
                crate::pbx::plain_dir(&reply).ok_or_else(|| ApiError::SwitchRefused("the switch names no plain recordings directory".into()))?;
            let (number, domain) = crate::pbx::room::parse(&name).ok_or(ApiError::NotFound)?;
            let stamp = jiff::Timestamp::now().as_second();
            ConferenceCmd::Record { start: true, path: format!("{dir}/{domain}/conference-{number}-{stamp}.wav") }
        }
        "record_stop" => {
            let path = room
                .recording
                .clone()
                .ok_or_else(|| ApiError::Conflict { field: Some("action".into()), message: "the conference is not being recorded".into() })?;
            ConferenceCmd::Record { start: false, path }
        }
        a => {
            let member = body.get("member").and_then(Value::as_u64).ok_or_else(|| ApiError::invalid("member", "the member's id, for this action"))?;
            // Only a member of this room: an id of another room is not this user's to touch.
            if !room.members.iter().any(|m| m.id == member) {
                return Err(ApiError::Missing(format!("member {member} is not in this conference")));
            }
            member_cmd(a, member as u32)
                .ok_or_else(|| ApiError::invalid("action", "one of mute, unmute, deaf, undeaf, kick, lock, unlock, record_start, record_stop"))?
        }
    };
    let reply = block(api.live.api(&ApiCommand::Conference { room: name.clone(), cmd }))?;
    super::handlers::audit(
        api,
        req.principal.as_ref(),
        tenant.map(TenantId),
        &format!("conference_{action}"),
        format!("conferences/{}", req.id()),
        json!({ "member": body.get("member"), "reply": reply.trim() }).to_string(),
    );
    Reply::ok(json!({ "done": action, "reply": reply.trim() }))
}
