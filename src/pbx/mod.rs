//! The PBX vocabulary, with no I/O: what routing, the store, the live model and the API all
//! speak. It imports none of them (a test in `tests/layering.rs` holds it to that).
//!
//! - [`destination`]: the one type every route, menu option and fallback points at.
//! - [`config`]: the typed configuration rows a call reads (tenant, extension, ring group …).
//! - [`dial`]: numbers (dialable, E.164, patterns) and caller ID made safe for the switch.
//! - [`dialstring`]: `user/…@domain`, `sofia/gateway/…`, legs and their variables.
//! - [`channel`]: the one rule for which tenant a channel belongs to.
//! - [`plan`]: routing decisions that need no live call (fallbacks, outbound routes, blocks).
//! - [`queue`]: how a caller leaves a call queue, and the figures counted from it.
//! - [`time`]: time conditions in the tenant's zone.

pub mod channel;
pub mod config;
pub mod destination;
pub mod dial;
pub mod dialstring;
pub mod merge;
pub mod plan;
pub mod queue;
pub mod time;
