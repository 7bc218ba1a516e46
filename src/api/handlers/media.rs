//! Audio FreeSWITCH plays from switchboard's data directory: music-on-hold files and the
//! tenant's system recordings (greetings). Uploads are checked by their content to be
//! audio the switch can play (`pbx::audio`), then moved into place and made readable to it.

use serde_json::{json, Value};

use super::audit;
use crate::api::error::{ApiError, ApiResult};
use crate::api::router::{Api, Reply, Req};
use crate::store::resource::Within;
use crate::store::{resources as res, TenantId};

// ---- music on hold files -----------------------------------------------------------------

/// Whether the switch can play MP3 (mod_shout loaded): asked when it is connected; an
/// offline switch is not assumed to.
fn switch_plays_mp3(api: &Api) -> bool {
    api.live.online()
        && crate::api::realtime::block(api.live.api(&crate::esl::ApiCommand::ModuleExists { name: "mod_shout".into() }))
            .is_ok_and(|r| r.trim() == "true")
}

/// An upload's file name: plain, of letters, digits, - _ and . (it becomes part of a path).
fn file_name(req: &Req) -> ApiResult<&str> {
    let name = req.query("name").ok_or_else(|| ApiError::invalid("name", "required: ?name=file.wav"))?;
    let ok = name.len() <= 100 && !name.starts_with('.') && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if !ok {
        return Err(ApiError::invalid("name", "must be a file name of letters, digits, - _ and ."));
    }
    Ok(name)
}

/// The upload, checked to be audio the switch can play, its name agreeing with its content.
fn checked_audio<'a>(api: &Api, req: &'a Req, name: &str) -> ApiResult<(&'a crate::api::router::Upload, crate::pbx::audio::Audio)> {
    let upload = req.upload.as_ref().ok_or_else(|| ApiError::invalid("body", "the file is missing"))?;
    let audio = crate::pbx::audio::check(&upload.head, upload.len, switch_plays_mp3(api)).map_err(|m| ApiError::invalid("body", m))?;
    if !name.to_ascii_lowercase().ends_with(&format!(".{}", audio.kind)) {
        return Err(ApiError::invalid("name", format!("the content is {0}: the name must end in .{0}", audio.kind)));
    }
    Ok((upload, audio))
}

/// Moves the upload to `rel` under the data directory, readable by FreeSWITCH.
fn put_in_place(api: &Api, upload: &crate::api::router::Upload, rel: &str) -> ApiResult<()> {
    let path = api.cfg.data_dir.join(rel);
    let io = |e: std::io::Error| ApiError::Internal(format!("{}: {e}", path.display()));
    std::fs::create_dir_all(path.parent().expect("a parent")).map_err(io)?;
    // The upload was streamed into the data directory's own tmp/, so this is a rename (the
    // temporary file's own clean-up then finds nothing to remove).
    std::fs::rename(upload.file.path(), &path).map_err(io)?;
    // FreeSWITCH plays it, perhaps as another user: the upload's directories and file are
    // made readable (the umask made them owner-only).
    crate::data_dir::share_moh(&api.cfg.data_dir).map_err(io)
}

/// The class, if the caller may use it (404 otherwise, also for another tenant's).
fn moh_class(api: &Api, req: &Req, id: i64) -> ApiResult<(TenantId, Value)> {
    let class = api.store.get(&res::MOH_CLASSES, req.grant.within, req.grant.owner, id)?;
    let t = TenantId(class["tenant_id"].as_i64().ok_or_else(|| ApiError::Internal("class without tenant".into()))?);
    Ok((t, class))
}

pub fn upload_moh_file(api: &Api, req: &Req) -> ApiResult<Reply> {
    let p = req.principal()?;
    let (tenant, _) = moh_class(api, req, req.id())?;
    let name = file_name(req)?;
    let (upload, _) = checked_audio(api, req, name)?;
    let rel = format!("{}/{}/{}/{name}", crate::data_dir::MOH, tenant.0, req.id());
    // The row first: a duplicate name is refused before anything replaces the old file (the
    // upload's temporary file goes with the request).
    let f = api.store.add_moh_file(tenant, req.id(), name, &rel, upload.len as i64)?;
    put_in_place(api, upload, &rel)?;
    audit(api, Some(p), Some(tenant), "upload", format!("moh-files/{}", f.id), format!("{name} ({} bytes)", f.bytes));
    Reply::created(serde_json::to_value(f).map_err(|e| ApiError::Internal(e.to_string()))?)
}

pub fn moh_files(api: &Api, req: &Req) -> ApiResult<Reply> {
    let (tenant, _) = moh_class(api, req, req.id())?;
    Reply::ok(json!({ "items": api.store.moh_files(tenant, req.id())? }))
}

pub fn delete_moh_file(api: &Api, req: &Req) -> ApiResult<Reply> {
    let p = req.principal()?;
    let f = api.store.moh_file(req.grant.within, req.id())?;
    let (tenant, _) = moh_class(api, req, f.class_id)?;
    api.store.delete_moh_file(Within::Tenant(tenant), f.id)?;
    let _ = std::fs::remove_file(api.cfg.data_dir.join(&f.stored_as));
    audit(api, Some(p), Some(tenant), "delete", format!("moh-files/{}", f.id), f.file_name.clone());
    Reply::no_content()
}

// ---- system recordings --------------------------------------------------------------------

/// The tenant an upload goes to: the caller's own (a super admin names one).
fn upload_tenant(api: &Api, req: &Req) -> ApiResult<TenantId> {
    match req.grant.within {
        Within::Tenant(t) => Ok(t),
        Within::Everything => {
            let t = req.query_i64("tenant_id")?.ok_or_else(|| ApiError::invalid("tenant_id", "required: which tenant the recording is for"))?;
            api.store.get(&res::TENANTS, Within::Everything, None, t).map_err(|_| ApiError::invalid("tenant_id", "no such tenant"))?;
            Ok(TenantId(t))
        }
    }
}

/// POST /sounds?name=welcome.wav: a recording for greetings, checked to be playable.
pub fn upload_sound(api: &Api, req: &Req) -> ApiResult<Reply> {
    let p = req.principal()?;
    let tenant = upload_tenant(api, req)?;
    let name = file_name(req)?;
    let (upload, audio) = checked_audio(api, req, name)?;
    let rel = format!("{}/{}/{name}", crate::data_dir::SOUNDS, tenant.0);
    let s = api.store.add_sound(tenant, name, &rel, upload.len as i64, audio.seconds)?;
    put_in_place(api, upload, &rel)?;
    audit(api, Some(p), Some(tenant), "upload", format!("sounds/{}", s.id), format!("{name} ({} bytes)", s.bytes));
    Reply::created(serde_json::to_value(s).map_err(|e| ApiError::Internal(e.to_string()))?)
}

pub fn sounds(api: &Api, req: &Req) -> ApiResult<Reply> {
    Reply::ok(json!({ "items": api.store.sounds(req.list_within()?)? }))
}

/// GET /sounds/{id}/audio: the file, to listen to in the page.
pub fn sound_audio(api: &Api, req: &Req) -> ApiResult<Reply> {
    let s = api.store.sound(req.grant.within, req.id())?;
    let bytes = std::fs::read(api.cfg.data_dir.join(&s.stored_as)).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => ApiError::Missing("the recording's file is gone".into()),
        _ => ApiError::Internal(format!("reading {}: {e}", s.stored_as)),
    })?;
    let kind = if s.name.to_ascii_lowercase().ends_with(".mp3") { "audio/mpeg" } else { "audio/wav" };
    Ok(Reply { status: warp::http::StatusCode::OK, body: None, raw: Some((kind, bytes)) })
}

pub fn delete_sound(api: &Api, req: &Req) -> ApiResult<Reply> {
    let p = req.principal()?;
    let s = api.store.delete_sound(req.grant.within, req.id())?;
    let _ = std::fs::remove_file(api.cfg.data_dir.join(&s.stored_as));
    audit(api, Some(p), Some(TenantId(s.tenant_id)), "delete", format!("sounds/{}", s.id), s.name.clone());
    Reply::no_content()
}
