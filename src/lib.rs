//! # switchboard
//!
//! A PBX control plane for FreeSWITCH. FreeSWITCH hands every call, through the dialplan
//! `socket` application, to switchboard's outbound event-socket server, which drives it.
//!
//! # Layout
//!
//! - [`access`]: roles and permission tokens (the cascade of the product guide).
//! - [`alerts`]: mailing the alert outbox (low credit) through the configured SMTP relay.
//! - [`billing`]: the money rules, no I/O and no SQL: rating, credit policy (flag or
//!   prepaid), holds ahead, settlement, transaction limits, fax pages, billing periods.
//! - [`pbx`]: the PBX vocabulary, no I/O: destinations, numbers, dial strings, whose a
//!   channel is, dial plans and time.
//! - [`store`]: the SQLite configuration store; all SQL lives there, tenant-scoped by type.
//! - [`config`]: settings from a TOML file and `SWITCHBOARD_*` environment variables.
//! - [`data_dir`]: the data directory and its files, owner-only.
//! - [`cli`]: the `switchboard` command line (`serve`, `simulate`, `esl decode`).
//! - [`esl`]: the event-socket wire protocol, both directions; nothing PBX-specific.
//! - [`server`]: the outbound listener: one task per call, bounded, with graceful shutdown.
//! - [`peer`]: the unit a client address is counted under (an IPv6 client by its /64).
//! - [`secret`]: comparing and hashing secrets (constant-time equality, MD5, digest A1).
//! - [`http`]: the HTTP listener: warp's routes on hyper, with connection caps and timeouts.
//! - [`fds`]: the process's file descriptors, shared out between calls and HTTP.
//! - [`call`]: what a call does once handed over (the seam routing plugs into).
//! - [`acd`]: call queues: callers in line, agents' states, strategies, offers.
//! - [`api`]: the HTTP side: health, the JSON API (route table, auth, one error type), UI files.
//! - [`switch`]: the one live model of FreeSWITCH (channels, registrations, gateways) fed
//!   by the control connection, and the one reader of its `show` lists.
//! - [`realtime`]: the monitor over the live model: its feed, and the commands it sends
//!   (hang up, hold, transfer, click-to-call).
//! - [`xml_curl`]: the documents FreeSWITCH fetches through mod_xml_curl (directory,
//!   sofia gateways, music on hold, conference, dialplan contexts).
//! - [`provision`]: desk phones' configuration files by vendor, and who may have them.
//! - [`sim`]: the FreeSWITCH simulator used by tests, benchmarks and `switchboard simulate`.

pub mod access;
pub mod acd;
pub mod alerts;
pub mod api;
pub mod billing;
pub mod call;
pub mod cli;
pub mod config;
pub mod data_dir;
pub mod esl;
pub mod fax;
pub mod fax_jobs;
pub mod fds;
pub mod http;
pub mod pbx;
pub mod peer;
pub mod provision;
pub mod realtime;
pub mod secret;
pub mod server;
pub mod sim;
pub mod store;
pub mod switch;
pub mod xml_curl;

/// A call's life is many small, short-lived allocations on two worker threads (frames,
/// header maps, dial strings); glibc's allocator spent a quarter of the routing benchmark's
/// CPU in malloc/free and its arena consolidation. Declared in the library so that the
/// binary, the benchmarks and the tests all run on the allocator the product ships with.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
