//! The PBX vocabulary, with no I/O: what routing, the store, the live model and the API all
//! speak. It imports none of them (a test in `tests/layering.rs` holds it to that).
//!
//! - [`audio`]: what an uploaded sound is, and whether FreeSWITCH can play it.
//! - [`destination`]: the one type every route, menu option and fallback points at.
//! - [`config`]: the typed configuration rows a call reads (tenant, extension, ring group …).
//! - [`dial`]: numbers (dialable, E.164, patterns) and caller ID made safe for the switch.
//! - [`dialstring`]: `user/…@domain`, `sofia/gateway/…`, legs and their variables.
//! - [`channel`]: the one rule for which tenant a channel belongs to.
//! - [`plan`]: routing decisions that need no live call (fallbacks, outbound routes, blocks).
//! - [`queue`]: how a caller leaves a call queue, and the figures counted from it.
//! - [`room`]: a conference room's name on the switch.
//! - [`time`]: time conditions in the tenant's zone.

pub mod audio;
pub mod channel;
pub mod config;
pub mod destination;
pub mod dial;
pub mod dialstring;
pub mod merge;
pub mod plan;
pub mod queue;
pub mod room;
pub mod time;

/// One of the switch's directories as `global_getvar` answered it (`recordings_dir` …),
/// when it is a plain absolute path; None for anything else (a file path switchboard
/// builds on it must not be steered elsewhere).
pub fn plain_dir(reply: &str) -> Option<String> {
    let dir = reply.trim().trim_end_matches('/').to_string();
    let ok = dir.starts_with('/') && !dir.contains("..") && dir.chars().all(|c| c.is_ascii_alphanumeric() || "/._-".contains(c));
    ok.then_some(dir)
}
