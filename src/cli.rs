//! The `switchboard` command line.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use tokio::sync::watch;

use crate::config::Config;

#[derive(Parser, Debug)]
#[command(
    name = "switchboard",
    version,
    about = "A PBX control plane for FreeSWITCH: every call is handed to switchboard \
through the dialplan `socket` application (outbound event socket) and routed live."
)]
pub struct Cli {
    /// Log format: human-readable lines, or one JSON object per line for log shippers.
    #[arg(long, value_enum, default_value_t = LogFormat::Human, global = true, env = "SWITCHBOARD_LOG_FORMAT")]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum LogFormat {
    Human,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run switchboard: the outbound event-socket listener FreeSWITCH's `socket` app connects
    /// to (default 127.0.0.1:8084), the HTTP server (default 0.0.0.0:8080), and the control
    /// connection to FreeSWITCH's event socket (default 127.0.0.1:8021, retried until it answers).
    Serve(ServeArgs),
    /// Apply pending database migrations (`sql/NNNN_*.sql`) and exit. `serve` applies them
    /// too; this runs them alone, e.g. before an upgrade.
    Migrate {
        /// TOML configuration file (for the data directory).
        #[arg(long, short, env = "SWITCHBOARD_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Play FreeSWITCH against a running switchboard: place N simulated calls through its
    /// outbound listener and print calls completed, errors and latency percentiles.
    Simulate(SimulateArgs),
    /// Routing tools.
    Route {
        #[command(subcommand)]
        command: RouteCommand,
    },
    /// Event-socket tools.
    Esl {
        #[command(subcommand)]
        command: EslCommand,
    },
    /// Renders a PDF (on stdin) into the fax TIFF `txfax` sends (on stdout), within memory
    /// and CPU limits of its own: the server runs it for every PDF uploaded to send, so a
    /// hostile document can cost this process, never the server. `pages=N` on stderr; a
    /// document that cannot be faxed exits 2 with the reason on stderr.
    FaxRender {
        #[arg(long, default_value = "fine")]
        resolution: String,
        #[arg(long, default_value_t = 50)]
        max_pages: usize,
    },
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// TOML configuration file; SWITCHBOARD_* environment variables override it.
    #[arg(long, short, env = "SWITCHBOARD_CONFIG")]
    pub config: Option<PathBuf>,
    /// On first start, seed a demo installation: a super admin, two tenants with users,
    /// extensions, a trunk, DIDs, an IVR, a ring group, a time condition and a package
    /// (sign-ins in the README). Without it, the first start creates one super admin
    /// (admin@localhost) and prints its random password once.
    #[arg(long)]
    pub demo: bool,
    /// Serve the web UI from this directory, read on every request, instead of the copy
    /// built into the binary: for working on the UI (`--static-dir static`) without rebuilding.
    #[arg(long, value_name = "DIR", env = "SWITCHBOARD_STATIC_DIR")]
    pub static_dir: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct SimulateArgs {
    /// switchboard's outbound listener (what the dialplan's `socket` data names).
    #[arg(long, default_value = "127.0.0.1:8084")]
    pub target: std::net::SocketAddr,
    /// How many calls to place.
    #[arg(long, default_value_t = 100)]
    pub calls: usize,
    /// New calls per second (0: as fast as the concurrency allows).
    #[arg(long, default_value_t = 50.0)]
    pub rate: f64,
    /// At most this many calls up at once.
    #[arg(long, default_value_t = 1000)]
    pub concurrency: usize,
    /// Scenario file (TOML or JSON): caller, destination, DTMF, bridge targets, hangup time.
    #[arg(long)]
    pub scenario: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand, Debug)]
pub enum RouteCommand {
    /// Print the path a call would take (DID → time condition → IVR → …) with the reason at
    /// each step, without placing a call. Reads the configured database.
    Explain {
        /// The tenant whose phone dials: its SIP domain or id (not needed for a DID).
        #[arg(long)]
        tenant: Option<String>,
        /// The number dialed: an extension, a DID in E.164, an external number.
        #[arg(long)]
        number: String,
        /// The caller's number (for the block list).
        #[arg(long)]
        from: Option<String>,
        /// When (RFC 3339); now by default.
        #[arg(long)]
        at: Option<String>,
        #[arg(long, short, env = "SWITCHBOARD_CONFIG")]
        config: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum EslCommand {
    /// Decode a captured event-socket byte stream (FreeSWITCH → client) into one JSON object
    /// per frame: offset, content_type, headers (percent-decoded where FreeSWITCH encodes
    /// them), body, and the event inside event frames. Reads FILE, or stdin without one.
    Decode { file: Option<PathBuf> },
}

pub fn init_logging(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("SWITCHBOARD_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    // A log pipe that goes away must not take the PBX with it: tracing-subscriber would
    // report the failed write with eprintln!, which panics on a closed stderr.
    let b = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).log_internal_errors(false);
    match format {
        LogFormat::Human => b.init(),
        LogFormat::Json => b.json().flatten_event(true).with_current_span(true).init(),
    }
}

/// Runs the parsed command; the process exit code.
pub async fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Serve(a) => {
            let cfg = Config::load(a.config.as_deref())?;
            serve(cfg, a.demo, a.static_dir).await?;
            Ok(0)
        }
        Command::Migrate { config } => {
            let cfg = Config::load(config.as_deref())?;
            crate::data_dir::secure(&cfg.data_dir)?;
            let path = cfg.database_path();
            let (before, after) = crate::store::Store::migrate_file(&path)?;
            println!("{}: schema version {before} → {after}", path.display());
            Ok(0)
        }
        Command::Simulate(a) => simulate(a).await,
        Command::FaxRender { resolution, max_pages } => Ok(fax_render(&resolution, max_pages)),
        Command::Esl { command: EslCommand::Decode { file } } => Ok(decode(file)),
        Command::Route { command: RouteCommand::Explain { tenant, number, from, at, config, json } } => {
            let cfg = Config::load(config.as_deref())?;
            let store = crate::store::Store::open(&cfg.database_path())?;
            let tenant = match tenant {
                None => None,
                Some(t) => Some(match t.parse::<i64>() {
                    Ok(id) => crate::store::TenantId(id),
                    Err(_) => {
                        crate::store::TenantId(store.tenant_by_domain(&t)?.ok_or_else(|| anyhow::anyhow!("no tenant has the SIP domain {t}"))?.id)
                    }
                }),
            };
            let at = match at {
                Some(a) => a.parse().map_err(|e| anyhow::anyhow!("--at {a}: {e}"))?,
                None => jiff::Timestamp::now(),
            };
            let e = crate::call::explain::explain(&store, tenant, &number, from.as_deref(), at)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&e)?);
            } else {
                println!("{} (tenant {}) at {}", e.number, e.tenant_id, e.at);
                for (i, s) in e.steps.iter().enumerate() {
                    println!("{:>2}. {}: {}", i + 1, s.at, s.decision);
                }
            }
            Ok(0)
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// Opens the store, the signing keys and seeds the first start: what `serve` needs before
/// it listens. Blocking (key generation, argon2).
pub fn open_state(cfg: &Config, demo: bool) -> anyhow::Result<crate::api::router::Api> {
    crate::data_dir::secure(&cfg.data_dir).map_err(|e| anyhow::anyhow!("data directory {}: {e}", cfg.data_dir.display()))?;
    let store = crate::store::Store::open(&cfg.database_path()).map_err(|e| anyhow::anyhow!("opening {}: {e}", cfg.database_path().display()))?;
    let keys = crate::api::auth::Keys::load_or_create(&cfg.data_dir)?;
    let hash = |p: &str| crate::api::auth::hash_password(p);
    if demo {
        if crate::store::seed::demo(&store, &hash)? {
            tracing::info!("seeded the demo installation (sign-ins are in the README)");
        }
    } else if let Some(pw) = crate::store::seed::first_admin(&store, "admin@localhost", &hash)? {
        // Printed once, on stdout, not into the log.
        println!("first start: created super admin admin@localhost with password {pw}  (change it after signing in)");
    }
    if cfg.community_edition {
        if let Some(id) = crate::store::seed::single_tenant(&store)? {
            tracing::info!(tenant = id, "community edition: created the one tenant (sip domain pbx.localdomain; change it under Tenants)");
        }
    }
    let mut cfg = cfg.clone();
    cfg.xml_curl_password = crate::api::freeswitch::password(&cfg).map_err(|e| anyhow::anyhow!("the mod_xml_curl password: {e}"))?;
    Ok(crate::api::router::Api::new(store, keys, Arc::new(cfg), crate::realtime::Live::detached()))
}

/// `static_dir`: the web UI from that directory rather than from the binary.
pub async fn serve(cfg: Config, demo: bool, static_dir: Option<PathBuf>) -> anyhow::Result<()> {
    let ui = match static_dir {
        None => crate::api::ui_files::UiFiles::Embedded,
        Some(dir) if dir.is_dir() => crate::api::ui_files::UiFiles::Dir(dir),
        Some(dir) => anyhow::bail!("--static-dir {}: not a directory", dir.display()),
    };
    let mut state = {
        let cfg = cfg.clone();
        tokio::task::spawn_blocking(move || open_state(&cfg, demo)).await??
    };
    let (stop_tx, stop) = watch::channel(false);
    let supervisor = crate::esl::inbound::Supervisor::spawn(cfg.freeswitch_esl, cfg.freeswitch_password.clone(), stop.clone());
    state.live = crate::realtime::Live::spawn(&supervisor, state.store.clone(), stop.clone());
    // One set of call queues for the calls and the API: agents' states, callers waiting.
    let acd = crate::acd::Acd::new(Arc::new(crate::acd::SwitchPresence(state.live.switch().clone())));
    {
        // An agent put on break for offers not answered: stored (it survives a restart) and
        // told to the tenant's admins on the live feed.
        let (store, switch) = (state.store.clone(), state.live.switch().clone());
        acd.on_break(Box::new(move |user, queue, unanswered| {
            tracing::info!(user, queue, unanswered, "queue agent put on break: offers not answered");
            let (store, switch) = (store.clone(), switch.clone());
            tokio::task::spawn_blocking(move || {
                let tenant = store.user(crate::store::resource::Within::Everything, user).ok().and_then(|u| u.tenant_id);
                if let Some(t) = tenant {
                    if let Err(e) = store.set_agent_status(crate::store::TenantId(t), user, "on_break") {
                        tracing::warn!(user, error = %e, "recording an agent's break failed");
                    }
                }
                switch.publish(crate::switch::Change::QueueAgent {
                    tenant_id: tenant,
                    user_id: user,
                    queue_id: queue,
                    status: "on_break".into(),
                    reason: format!("{unanswered} offers in a row not answered"),
                });
            });
        }));
    }
    state.acd = acd.clone();
    let router = crate::call::route::Router::new(state.store.clone(), cfg.greeting.clone())
        .with_acd(acd)
        .with_fax_dir(cfg.data_dir.join(crate::data_dir::FAX))
        .with_data_dir(cfg.data_dir.clone());
    // Slots and reservations checked against the switch's channel list, at start and every
    // 5 s while it is connected.
    tokio::spawn(crate::call::reconcile::run(router.caps(), state.store.clone(), state.live.switch().clone(), Duration::from_secs(5), stop.clone()));
    let caps = router.caps();
    let in_use: crate::fax_jobs::InUse = std::sync::Arc::new(FaxSlots(caps));
    tokio::spawn(crate::fax_jobs::run(state.store.clone(), state.live.clone(), in_use, cfg.data_dir.join(crate::data_dir::FAX), stop.clone()));
    tokio::spawn(crate::alerts::run(
        state.store.clone(),
        cfg.smtp.clone(),
        cfg.data_dir.join(crate::data_dir::FAX),
        Duration::from_secs(10),
        stop.clone(),
    ));
    let handler: Arc<dyn crate::call::CallHandler> = Arc::new(router);
    let opts = crate::esl::OutboundOptions {
        connect_timeout: Duration::from_millis(cfg.connect_timeout_ms),
        linger: Duration::from_secs(cfg.linger_secs),
        require_full: true,
        // The router's own are added by OutboundServer::bind.
        events: Vec::new(),
        ..Default::default()
    };
    // Descriptors first: calls and HTTP each get a share that the other cannot take.
    let nofile = match crate::fds::raise_nofile() {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(error = %e, "reading the open-files limit failed; assuming 1024");
            crate::fds::NoFile { was: 1024, soft: 1024, hard: 1024 }
        }
    };
    let budget = crate::fds::budget(nofile.soft, cfg.max_calls, cfg.http.max_connections);
    tracing::info!(
        soft_was = nofile.was,
        soft = nofile.soft,
        hard = nofile.hard,
        calls = budget.calls,
        http_connections = budget.http,
        "open-files limit (RLIMIT_NOFILE) raised to the hard limit and shared out"
    );
    if budget.calls < cfg.max_calls || budget.http < cfg.http.max_connections {
        tracing::warn!(
            max_calls = cfg.max_calls,
            calls = budget.calls,
            http_max_connections = cfg.http.max_connections,
            http_connections = budget.http,
            "the open-files limit cannot carry the configured caps; lowered (raise the hard limit: LimitNOFILE= in systemd, ulimit -Hn)"
        );
    }
    let outbound = crate::server::OutboundServer::bind(cfg.outbound_listen, handler, opts, budget.calls)
        .await
        .map_err(|e| anyhow::anyhow!("binding the outbound listener {}: {e}", cfg.outbound_listen))?;
    let http = crate::server::listen(cfg.http_listen).map_err(|e| anyhow::anyhow!("binding HTTP {}: {e}", cfg.http_listen))?;
    tracing::info!(
        outbound = %outbound.local_addr()?,
        http = %http.local_addr()?,
        freeswitch = %cfg.freeswitch_esl,
        data = %cfg.data_dir.display(),
        "switchboard is up"
    );
    let health = crate::api::Health { stats: outbound.stats(), switch: supervisor.state_watch(), version: env!("CARGO_PKG_VERSION") };
    if let crate::api::ui_files::UiFiles::Dir(dir) = &ui {
        tracing::info!(static_dir = %dir.display(), "serving the web UI from disk, not the copy built in");
    }
    let routes = crate::api::routes(health, Arc::new(state), ui);
    let limits = crate::http::Limits::new(&cfg.http, budget.http, Some(cfg.freeswitch_esl.ip()));
    let http_task = tokio::spawn(crate::http::serve(http, warp::service(routes), limits, stop.clone(), Arc::default()));
    let grace = cfg.shutdown_grace();
    let calls = tokio::spawn(outbound.run(stop.clone(), grace));
    shutdown_signal().await;
    tracing::info!("shutdown requested: no new calls; live calls get {}s to finish", grace.as_secs());
    stop_tx.send_replace(true);
    let _ = calls.await;
    let _ = tokio::time::timeout(Duration::from_secs(5), http_task).await;
    tracing::info!("switchboard stopped");
    Ok(())
}

/// Memory (address space) and CPU a fax rendering may take.
const FAX_RENDER_MEMORY: u64 = 2 << 30;
const FAX_RENDER_CPU_SECS: u64 = 120;

fn fax_render(resolution: &str, max_pages: usize) -> i32 {
    use std::io::{Read, Write};
    for (resource, limit) in [(libc::RLIMIT_AS, FAX_RENDER_MEMORY), (libc::RLIMIT_CPU, FAX_RENDER_CPU_SECS)] {
        let lim = libc::rlimit { rlim_cur: limit as libc::rlim_t, rlim_max: limit as libc::rlim_t };
        // SAFETY: setrlimit(2) with a valid struct, lowering this process's own limits.
        if unsafe { libc::setrlimit(resource, &lim) } != 0 {
            eprintln!("setting the renderer's limits failed");
            return 1;
        }
    }
    let resolution = match resolution {
        "normal" => crate::fax::Resolution::Normal,
        _ => crate::fax::Resolution::Fine,
    };
    let mut pdf = Vec::new();
    if std::io::stdin().read_to_end(&mut pdf).is_err() {
        return 1;
    }
    match crate::fax::pdf_to_tiff(&pdf, resolution, max_pages) {
        Ok((tiff, pages)) => {
            if std::io::stdout().write_all(&tiff).and_then(|_| std::io::stdout().flush()).is_err() {
                return 1;
            }
            eprintln!("pages={pages}");
            0
        }
        Err(e) => {
            eprintln!("{e}");
            2
        }
    }
}

async fn simulate(a: SimulateArgs) -> anyhow::Result<i32> {
    let scenario = match &a.scenario {
        Some(p) => crate::sim::Scenario::load(p)?,
        None => crate::sim::Scenario { playback_ms: 0, ..Default::default() },
    };
    let report = crate::sim::load::run(a.target, a.calls, a.rate, a.concurrency, scenario).await;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        let p = |name: &str, q: &crate::sim::load::Percentiles| {
            println!(
                "{name:<32} p50 {:>8.3} ms  p90 {:>8.3} ms  p99 {:>8.3} ms  max {:>8.3} ms",
                q.p50_us as f64 / 1e3,
                q.p90_us as f64 / 1e3,
                q.p99_us as f64 / 1e3,
                q.max_us as f64 / 1e3
            );
        };
        println!(
            "calls {}  completed {}  errors {}  in {:.3} s  ({:.0} calls/s)",
            report.calls,
            report.completed,
            report.errors,
            report.elapsed_ms as f64 / 1e3,
            report.calls_per_second
        );
        p("connect → first command", &report.connect_to_first_command);
        p("channel data → first app", &report.channel_data_to_first_app);
        p("whole call", &report.whole_call);
        for e in &report.error_samples {
            println!("error: {e}");
        }
    }
    Ok(if report.errors == 0 { 0 } else { 1 })
}

fn decode(file: Option<PathBuf>) -> i32 {
    let stdout = std::io::stdout();
    let out = std::io::BufWriter::new(stdout.lock());
    let result = match &file {
        Some(p) => match std::fs::File::open(p) {
            Ok(f) => crate::esl::dump::decode_stream(f, out),
            Err(e) => {
                eprintln!("switchboard esl decode: {}: {e}", p.display());
                return 2;
            }
        },
        None => crate::esl::dump::decode_stream(std::io::stdin().lock(), out),
    };
    match result {
        Ok(_) => 0,
        Err(e) => {
            eprintln!("switchboard esl decode: {e}");
            1
        }
    }
}

/// The call core's caps as the fax runner reserves them.
struct FaxSlots(std::sync::Arc<crate::call::caps::Caps>);

impl crate::fax_jobs::Slots for FaxSlots {
    fn reserve(&self, uuid: &str, tenant: i64, tenant_max: i64, trunk: i64, trunk_max: i64) -> Result<(), String> {
        self.0.reserve(uuid, tenant, tenant_max, trunk, trunk_max)
    }
    fn release(&self, uuid: &str) {
        self.0.release(uuid)
    }
}
