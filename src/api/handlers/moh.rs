//! Music-on-hold files: upload (checked to be audio), list, delete.

use serde_json::{json, Value};

use super::audit;
use crate::api::error::{ApiError, ApiResult};
use crate::api::router::{Api, Reply, Req};
use crate::store::resource::Within;
use crate::store::{resources as res, TenantId};

// ---- music on hold files -----------------------------------------------------------------

/// What an upload's first bytes say it is (the name's extension must agree).
fn audio_kind(b: &[u8]) -> Option<&'static str> {
    if b.len() >= 12 && &b[0..4] == b"RIFF" && &b[8..12] == b"WAVE" {
        Some("wav")
    } else if b.starts_with(b"ID3") || (b.len() >= 2 && b[0] == 0xFF && b[1] & 0xE0 == 0xE0) {
        Some("mp3")
    } else {
        None
    }
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
    let name = req.query("name").ok_or_else(|| ApiError::invalid("name", "required: ?name=file.wav"))?;
    let ok_name = name.len() <= 100 && !name.starts_with('.') && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if !ok_name {
        return Err(ApiError::invalid("name", "must be a file name of letters, digits, - _ and ."));
    }
    let upload = req.upload.as_ref().ok_or_else(|| ApiError::invalid("body", "the file is missing"))?;
    let kind = audio_kind(&upload.head).ok_or_else(|| ApiError::invalid("body", "not a WAV or MP3 file"))?;
    if !name.to_ascii_lowercase().ends_with(&format!(".{kind}")) {
        return Err(ApiError::invalid("name", format!("the content is {kind}: the name must end in .{kind}")));
    }
    let rel = format!("{}/{}/{}/{name}", crate::data_dir::MOH, tenant.0, req.id());
    let path = api.cfg.data_dir.join(&rel);
    let io = |e: std::io::Error| ApiError::Internal(format!("{}: {e}", path.display()));
    std::fs::create_dir_all(path.parent().expect("a parent")).map_err(io)?;
    // The row first: a duplicate name is refused before anything replaces the old file (the
    // upload's temporary file goes with the request).
    let f = api.store.add_moh_file(tenant, req.id(), name, &rel, upload.len as i64)?;
    // The upload was streamed into the data directory's own tmp/, so this is a rename (the
    // temporary file's own clean-up then finds nothing to remove).
    std::fs::rename(upload.file.path(), &path).map_err(io)?;
    // FreeSWITCH plays it, perhaps as another user: the upload's directories and file are
    // made readable (the umask made them owner-only).
    crate::data_dir::share_moh(&api.cfg.data_dir).map_err(io)?;
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
