//! The fax job runner: queued faxes are tried when they are due. A try is an originate
//! through the tenant's outbound route and its first trunk, carrying the job and a token
//! for this try (`sb_fax_job`, `sb_fax_token`); answered, the leg enters the public
//! context, whose dialplan hands it to switchboard's socket, where the call's task runs
//! `txfax` and records how the try ended (`call::steps::fax::send_job`). A try the switch could
//! not connect (busy, no answer, a refused number) is ended here with the cause.
//!
//! Every try is counted against the tenant's transaction limits; a disabled tenant's, or a
//! prepaid tenant's with no credit left, fails with that reason and is retried later. The
//! caps are the call's own (its admission takes the tenant's and the trunk's slots), and a
//! job whose tenant or trunk is at its cap now waits, uncounted, before anyone is dialed
//! (the far machine is not rung only to be hung up on). A try under way when switchboard
//! stopped is ended as a failure to retry: the call it started had its socket cut, so the
//! switch hung it up; and a try whose call the switch no longer has, with nothing said, is
//! ended the same way ([`watch`]).
//!
//! The caps are held from before the originate: the try's call gets its UUID from here
//! (`origination_uuid`), its tenant and trunk slots are reserved under it while the far
//! end rings, and the call's admission claims them when it reaches the socket ([`Slots`]).
//! A campaign's faxes ([`campaigns`]) are tried here like any other, within their
//! campaign's limit, window and state.

pub mod campaigns;
pub mod files;

use std::time::Duration;

use tracing::{info, warn};

use crate::esl::api::{fax_sent, HashAction};
use crate::esl::ApiCommand;
use crate::pbx::{dial, dialstring, plan};
use crate::realtime::Live;
use crate::store::fax::{FaxJob, Start, Tried};
use crate::store::Store;

/// How often due jobs are looked for: a campaign's next fax goes within this of the last
/// one's end (each look is two indexed reads when nothing is due).
const EVERY: Duration = Duration::from_millis(250);
/// Tries started a pass at most.
const BATCH: u32 = 20;
/// How long a job waits when its tenant or trunk is at its cap, or its campaign is paused.
const CAP_WAIT: i64 = 30;
/// How long a campaign's job waits when its campaign has its most faxes under way.
const HELD_WAIT: i64 = 2;

/// The call core's concurrency caps, as the runner holds them for a try's call.
pub trait Slots: Send + Sync {
    /// Reserves a slot of the tenant's cap (`tenant_max`, 0 unlimited) and one of the
    /// trunk's for the call `uuid` about to be placed; the call's admission claims them.
    /// Why not, when either is full.
    fn reserve(&self, uuid: &str, tenant: i64, tenant_max: i64, trunk: i64, trunk_max: i64) -> Result<(), String>;
    /// Frees what `uuid` reserved, unless its call claimed it (then its call frees it).
    fn release(&self, uuid: &str);
}
pub type InUse = std::sync::Arc<dyn Slots>;
/// Causes no retry changes: the number is wrong.
const FINAL: &[&str] = &["UNALLOCATED_NUMBER", "INVALID_NUMBER_FORMAT", "NO_ROUTE_DESTINATION", "INCOMPATIBLE_DESTINATION", "OUTGOING_CALL_BARRED"];

/// The originate of one try, or why there is none.
pub fn originate(job: &FaxJob, routes: Vec<crate::pbx::config::OutboundRoute>, caller_id: &str) -> Result<ApiCommand, String> {
    planned(job, routes, caller_id).map(|(cmd, _)| cmd)
}

/// The originate of one try and the trunk it goes out on.
fn planned(
    job: &FaxJob,
    routes: Vec<crate::pbx::config::OutboundRoute>,
    caller_id: &str,
) -> Result<(ApiCommand, crate::pbx::config::RouteTrunk), String> {
    let Some((route, out)) = plan::outbound(routes, &job.number) else { return Err("no outbound route dials this number".into()) };
    let Some(trunk) = route.trunks.first().cloned() else { return Err(format!("outbound route \"{}\" has no active trunk", route.name)) };
    if dial::number(&out).is_none() {
        return Err("the outbound route makes this number undialable".into());
    }
    let var = |k: &str, v: &str| (k.to_string(), v.to_string());
    let mut vars = vec![
        // The call's UUID, chosen here: its caps are reserved under it before it rings.
        var("origination_uuid", &job.call_uuid),
        var("sb_fax_job", &job.id.to_string()),
        var("sb_fax_token", &job.token),
        var("sb_fax_trunk", &trunk.trunk_id.to_string()),
        var("originate_timeout", "60"),
        var("ignore_early_media", "true"),
    ];
    let presented = if caller_id.is_empty() { plan::presented_caller_id(&route, &trunk).map(str::to_string) } else { Some(caller_id.to_string()) };
    if let Some(cid) = presented {
        vars.push(var("origination_caller_id_number", &cid));
    }
    let endpoint = dialstring::gateway(trunk.trunk_id, &out);
    Ok((ApiCommand::Originate { vars, endpoint, dest: "fax".into(), context: "public".into() }, trunk))
}

/// One pass: every due job tried (or put off).
pub async fn once(store: &Store, live: &Live, slots: &InUse) -> usize {
    if !live.online() {
        return 0;
    }
    let s = store.clone();
    let now = crate::store::now();
    let due = match tokio::task::spawn_blocking(move || s.due_fax_jobs(&now, BATCH)).await {
        Ok(Ok(d)) => d,
        Ok(Err(e)) => return warn_zero(&e.to_string()),
        Err(e) => return warn_zero(&e.to_string()),
    };
    let mut started = 0;
    for mut job in due {
        job.token = crate::store::validate::generate_secret();
        job.call_uuid = uuid::Uuid::new_v4().to_string();
        let (s, j, u) = (store.clone(), job.clone(), slots.clone());
        // Checked and counted in the store: the campaign, the tenant on, its limits, its
        // credit; the caps reserved; then the try is started (queued → sending) and its
        // originate made.
        let prepared = tokio::task::spawn_blocking(move || prepare(&s, &j, &u)).await.unwrap_or_else(|e| Err(Prep::Later(e.to_string())));
        let cmd = match prepared {
            Ok(cmd) => cmd,
            Err(Prep::Gone) => continue,
            Err(Prep::Wait(why, secs)) => {
                let (s, id) = (store.clone(), job.id);
                let until = (jiff::Timestamp::now() + jiff::SignedDuration::from_secs(secs))
                    .round(jiff::Unit::Second)
                    .unwrap_or_else(|_| jiff::Timestamp::now());
                if let Ok(Err(e)) = tokio::task::spawn_blocking(move || s.put_off_fax(id, &until.to_string(), &why)).await {
                    warn!(fax = job.id, error = %e, "putting a fax off");
                }
                continue;
            }
            Err(Prep::Later(why)) => {
                end(store, &job, why, true).await;
                continue;
            }
            Err(Prep::Never(why)) => {
                end(store, &job, why, false).await;
                continue;
            }
            Err(Prep::Refused(why)) => {
                ended(store, &job, Tried::Refused { reason: why }).await;
                continue;
            }
        };
        started += 1;
        info!(fax = job.id, tenant = job.tenant.0, attempt = job.attempts + 1, "sending a fax");
        let (store, live, slots) = (store.clone(), live.clone(), slots.clone());
        tokio::spawn(async move {
            match tokio::time::timeout(ORIGINATE_WAIT, live.bgapi(&cmd)).await {
                Ok(Ok(r)) if r.trim_start().starts_with("+OK") => {
                    // `+OK <uuid>`: the call is the switch's; its socket task ends the try.
                    let uuid = r.trim_start().trim_start_matches("+OK").trim().to_string();
                    watch(&store, &live, &job, &uuid, WATCH_EVERY).await;
                }
                // No answer to the originate (a lost reply): the call is its UUID, and is
                // watched like one that was placed.
                Err(_) => {
                    warn!(fax = job.id, "no answer to a fax's originate: watching its call");
                    watch(&store, &live, &job, &job.call_uuid, WATCH_EVERY).await;
                }
                Ok(Ok(r)) => {
                    let cause = r.trim().trim_start_matches("-ERR").trim().to_string();
                    let retry = !FINAL.contains(&cause.as_str());
                    end(&store, &job, format!("the call did not connect: {cause}"), retry).await;
                }
                Ok(Err(e)) => end(&store, &job, format!("the switch refused the call: {e}"), true).await,
            }
            // Claimed by the call when it reached the socket (then it is the call's to free).
            slots.release(&job.call_uuid);
        });
    }
    started
}

/// How long an originate's answer is waited for: its own timeout (60 s) and then some.
const ORIGINATE_WAIT: Duration = Duration::from_secs(90);

/// How often a try's call is looked at while it is sending.
const WATCH_EVERY: Duration = Duration::from_secs(10);

/// Watches a try whose call (`uuid`) the switch made. The call's socket task records how
/// the try ended; when the switch no longer has the call and the try is still sending (the
/// call never reached switchboard's socket, or its task died without a word), the try ends
/// as a failure to retry. A call the switch still carries is never given up on, so a fax is
/// never sent twice; while the switch cannot be asked, it is asked again later.
pub async fn watch(store: &Store, live: &Live, job: &FaxJob, uuid: &str, every: Duration) {
    // Whether the try is still under way; a store that cannot be read says nothing, and the
    // try is looked at again.
    let sending = || {
        let (s, id, token) = (store.clone(), job.id, job.token.clone());
        async move {
            match tokio::task::spawn_blocking(move || s.fax_try(id, &token)).await {
                Ok(Ok(found)) => found.is_some(),
                _ => true,
            }
        }
    };
    loop {
        tokio::time::sleep(every).await;
        if !sending().await {
            return;
        }
        let exists = live.api(&ApiCommand::UuidExists { uuid: uuid.to_string() }).await;
        if matches!(exists.as_deref().map(str::trim), Ok("false")) {
            // The call's task may be writing its outcome this moment: give it that moment.
            tokio::time::sleep(every.min(Duration::from_secs(2))).await;
            if !sending().await || settle(store, live, job.id, &job.token, job.pages, "the call ended before the fax was sent").await {
                return;
            }
        }
    }
}

fn warn_zero(e: &str) -> usize {
    warn!(error = %e, "reading the fax jobs");
    0
}

enum Prep {
    /// Not this runner's to try (no longer queued).
    Gone,
    /// Not now, and not a try: the tenant or the trunk is at its cap, the campaign is
    /// paused, out of its window or at its limit; looked at again so many seconds later.
    Wait(String, i64),
    /// Not now: tried again after the retry delay (a try is counted).
    Later(String),
    /// Never: failed for good.
    Never(String),
    /// Never dialed: on the do-not-contact list.
    Refused(String),
}

fn prepare(st: &Store, job: &FaxJob, slots: &InUse) -> Result<ApiCommand, Prep> {
    let fail = |e: crate::store::StoreError| Prep::Later(e.to_string());
    let tenant = st.routing_tenant(job.tenant).map_err(fail)?;
    // A campaign's fax goes only while its campaign runs, within its window; under a
    // prepaid policy with no credit left the campaign pauses (no try is counted).
    let campaign = st.campaign_of_fax(job.id).map_err(fail)?;
    if let Some(c) = &campaign {
        if c.status != "running" {
            return Err(Prep::Wait(format!("waiting: the campaign is {}", c.status), CAP_WAIT));
        }
        if let Some(opens) = campaigns::window_opens(c, &tenant.timezone, jiff::Timestamp::now()) {
            let secs = opens.duration_since(jiff::Timestamp::now()).as_secs().max(1);
            return Err(Prep::Wait("waiting: outside the campaign's sending window".into(), secs));
        }
        if tenant.prepaid && st.credit(job.tenant).map_err(fail)?.available <= 0 {
            st.campaign_credit(c.id, true).map_err(fail)?;
            return Err(Prep::Wait(crate::store::fax_campaigns::PAUSED_FOR_CREDIT.into(), CAP_WAIT));
        }
    }
    let settings = st.fax_settings(job.tenant).map_err(fail)?;
    let routes = st.outbound_routes(job.tenant).map_err(fail)?;
    let plan = planned(job, routes, &settings.caller_id);
    // Reserved before it rings: the call's admission claims the slots when it is answered.
    if let Ok((_, trunk)) = &plan {
        slots
            .reserve(&job.call_uuid, tenant.id, tenant.max_concurrent_calls, trunk.trunk_id, trunk.max_channels)
            .map_err(|why| Prep::Wait(format!("waiting: {why}"), CAP_WAIT))?;
    }
    let started = prepare_try(st, job, &tenant, plan.map(|(cmd, _)| cmd), campaign.is_some());
    if started.is_err() {
        slots.release(&job.call_uuid);
    }
    started
}

/// The try started, then checked: what may have changed since the job was queued.
fn prepare_try(
    st: &Store,
    job: &FaxJob,
    tenant: &crate::pbx::config::Tenant,
    plan: Result<ApiCommand, String>,
    of_campaign: bool,
) -> Result<ApiCommand, Prep> {
    let fail = |e: crate::store::StoreError| Prep::Later(e.to_string());
    match st.start_fax_try(job.id, &job.token, &job.call_uuid).map_err(fail)? {
        Start::Started => {}
        Start::Gone => return Err(Prep::Gone),
        Start::Held => return Err(Prep::Wait("waiting: the campaign has its most faxes under way".into(), HELD_WAIT)),
    }
    // Listed after it was queued: never dialed.
    if let Some(listed) = st.dnc_listing(job.tenant, &job.number).map_err(fail)? {
        return Err(Prep::Refused(format!("on the do-not-contact list ({listed})")));
    }
    if !tenant.enabled {
        return Err(Prep::Later("the tenant is disabled".into()));
    }
    let cmd = plan.map_err(Prep::Never)?;
    if !of_campaign && tenant.prepaid && st.credit(job.tenant).map_err(fail)?.available <= 0 {
        return Err(Prep::Later("no credit left (prepaid)".into()));
    }
    // A fax is a transaction, like a call out.
    if let Some(limit) =
        st.count_transaction(job.tenant, &tenant.timezone, tenant.daily_limit, tenant.monthly_limit, jiff::Timestamp::now()).map_err(fail)?
    {
        return Err(Prep::Later(format!("the tenant's {limit:?} transaction limit is reached")));
    }
    Ok(cmd)
}

/// Ends the job's try as a failure.
async fn end(store: &Store, job: &FaxJob, reason: String, retry: bool) {
    warn!(fax = job.id, %reason, retry, "a fax try failed");
    ended(store, job, Tried::Failed { reason, result_code: None, retry, call_uuid: String::new() }).await;
}

async fn ended(store: &Store, job: &FaxJob, how: Tried) {
    let (s, id, token) = (store.clone(), job.id, job.token.clone());
    match tokio::task::spawn_blocking(move || s.end_fax_try(id, &token, &how)).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => warn!(error = %e, "recording a fax try"),
        Err(e) => warn!(error = %e, "recording a fax try"),
    }
}

/// Deletes the faxes kept longer than their tenant's retention, files first; how many.
pub async fn expire(store: &Store, fax_dir: &std::path::Path, now: jiff::Timestamp) -> usize {
    let s = store.clone();
    let Ok(Ok(old)) = tokio::task::spawn_blocking(move || s.expired_faxes(now)).await else { return 0 };
    let mut gone = Vec::new();
    for (id, pdf, tiff) in old {
        for f in [pdf, tiff].into_iter().filter(|f| !f.is_empty()) {
            match tokio::fs::remove_file(fax_dir.join(&f)).await {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => warn!(file = %f, error = %e, "removing an expired fax's file"),
            }
        }
        gone.push(id);
    }
    let s = store.clone();
    let n = tokio::task::spawn_blocking(move || s.forget_faxes(&gone)).await.ok().and_then(Result::ok).unwrap_or(0);
    if n > 0 {
        info!(faxes = n, "faxes past their tenant's retention deleted");
    }
    n
}

/// Ends the tries that were under way when switchboard last stopped; how many. Their calls'
/// sockets were cut, so the switch hung them up: a try the switch marked sent (spandsp's
/// `api_on_fax_success`, [`crate::esl::api::fax_sent`]) was sent, and is recorded so, its
/// pages charged; any other is a failure to retry.
pub async fn recover(store: &Store, live: &Live) -> usize {
    let s = store.clone();
    let Ok(Ok(interrupted)) = tokio::task::spawn_blocking(move || s.interrupted_fax_tries()).await else { return 0 };
    let n = interrupted.len();
    for (id, token, pages, call) in interrupted {
        // A call the switch still has (it was ringing) is still this try's: when it is
        // answered it reaches the socket and is sent; it is watched like any other.
        if !call.is_empty() && matches!(live.api(&ApiCommand::UuidExists { uuid: call.clone() }).await.as_deref().map(str::trim), Ok("true")) {
            let (s, t) = (store.clone(), token.clone());
            if let Ok(Ok(Some(mut job))) = tokio::task::spawn_blocking(move || s.fax_try(id, &t)).await {
                info!(fax = id, "a fax try's call outlived a restart: it goes on");
                job.call_uuid = call.clone();
                let (store, live) = (store.clone(), live.clone());
                tokio::spawn(async move { watch(&store, &live, &job, &call, WATCH_EVERY).await });
                continue;
            }
        }
        if !settle(store, live, id, &token, pages, "switchboard stopped while it was being sent").await {
            // The switch could not be asked: watched, and settled once it can be.
            let (s, t) = (store.clone(), token.clone());
            if let Ok(Ok(Some(mut job))) = tokio::task::spawn_blocking(move || s.fax_try(id, &t)).await {
                job.call_uuid = call.clone();
                let (store, live) = (store.clone(), live.clone());
                tokio::spawn(async move { watch(&store, &live, &job, &call, WATCH_EVERY).await });
            }
        }
    }
    n
}

/// Ends a try whose call is gone without its task having said how it went: sent when the
/// switch marked it so (spandsp's `api_on_fax_success`: the far machine had every page),
/// its pages charged; else a failure to retry, saying `why`. The mark is removed once the
/// try is recorded. False when the switch could not be asked: nothing is recorded (a fax it
/// marked sent must not be tried again), and the caller asks again later.
async fn settle(store: &Store, live: &Live, id: i64, token: &str, pages: i64, why: &str) -> bool {
    let marked = match live.api(&fax_sent(id, token, HashAction::Select)).await {
        Ok(r) => r,
        // mod_hash answers a key it does not hold with nothing, which the control
        // connection reports as no reply: not marked.
        Err(crate::realtime::ControlError::Refused(e)) if e == "no reply" => String::new(),
        Err(e) => {
            warn!(fax = id, error = %e, "the switch could not be asked how a fax try ended");
            return false;
        }
    };
    let how = match marked.trim() {
        "sent" => {
            info!(fax = id, "a fax try nobody reported is recorded sent: the switch marked it so");
            Tried::marked_sent(pages, "")
        }
        _ => {
            warn!(fax = id, reason = why, "a fax try failed");
            Tried::Failed { reason: why.into(), result_code: None, retry: true, call_uuid: String::new() }
        }
    };
    let sent = matches!(how, Tried::Sent { .. });
    let (s, t) = (store.clone(), token.to_string());
    match tokio::task::spawn_blocking(move || s.end_fax_try(id, &t, &how)).await {
        Ok(Ok(ended)) => {
            if ended && sent {
                let _ = live.api(&fax_sent(id, token, HashAction::Delete)).await;
            }
            true
        }
        _ => false,
    }
}

/// How often faxes past their retention are looked for.
const EXPIRE_EVERY: Duration = Duration::from_secs(3600);

/// Runs until `stop`: tries under way when switchboard last stopped are ended first.
pub async fn run(store: Store, live: Live, in_use: InUse, fax_dir: std::path::PathBuf, mut stop: tokio::sync::watch::Receiver<bool>) {
    // The switch is asked how the interrupted tries ended: nothing is tried before.
    while !live.online() {
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
    recover(&store, &live).await;
    let mut expired_at = tokio::time::Instant::now() - EXPIRE_EVERY;
    loop {
        // Recipients' faxes made first, so that a pass tries what it made.
        campaigns::once(&store, &fax_dir, jiff::Timestamp::now()).await;
        once(&store, &live, &in_use).await;
        if expired_at.elapsed() >= EXPIRE_EVERY {
            expired_at = tokio::time::Instant::now();
            expire(&store, &fax_dir, jiff::Timestamp::now()).await;
        }
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pbx::config::{OutboundRoute, RouteTrunk};
    use crate::store::TenantId;

    #[test]
    fn a_try_is_an_originate_through_the_route_s_first_trunk_into_the_socket() {
        let route = OutboundRoute {
            id: 1,
            name: "US".into(),
            pattern: "+1NXXNXXXXXX".into(),
            strip_digits: 0,
            prepend: "".into(),
            caller_id: "".into(),
            failover_causes: vec![],
            trunks: vec![RouteTrunk { trunk_id: 7, max_channels: 0, caller_id: "+12125550100".into(), codecs: vec![] }],
            rate_plan_id: None,
        };
        let job = FaxJob {
            id: 42,
            tenant: TenantId(1),
            number: "+12125551234".into(),
            tiff: String::new(),
            pages: 1,
            attempts: 0,
            token: "t0k".into(),
            call_uuid: "c-1".into(),
        };
        let cmd = originate(&job, vec![route.clone()], "").unwrap();
        let line = cmd.line().unwrap();
        assert!(line.starts_with("originate {origination_uuid=c-1,sb_fax_job=42,sb_fax_token=t0k,sb_fax_trunk=7,"), "{line}");
        assert!(line.contains("origination_caller_id_number=+12125550100"), "the trunk's caller ID: {line}");
        assert!(line.ends_with("}sofia/gateway/trunk7/+12125551234 fax XML public"), "{line}");
        let own = originate(&job, vec![route.clone()], "+14155550000").unwrap().line().unwrap();
        assert!(own.contains("origination_caller_id_number=+14155550000"), "the fax settings' caller ID: {own}");
        let far = FaxJob { number: "+442079460000".into(), ..job };
        assert_eq!(originate(&far, vec![route], "").unwrap_err(), "no outbound route dials this number");
    }
}
