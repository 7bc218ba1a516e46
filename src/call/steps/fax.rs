//! A fax extension receives: the call is answered and mod_spandsp's `rxfax` writes the
//! pages to a TIFF in the switch's `temp_dir` (one box: both processes see it), with T.38
//! and ECM as the tenant's fax settings say. The TIFF becomes a PDF under the data
//! directory's `fax/` (its CCITT data wrapped as it is, `crate::fax`), the fax is logged
//! with spandsp's result, its pages charged, and its mail to the extension's delivery
//! address queued. A reception that failed is logged with its reason; pages that arrived
//! before the failure are kept (partial).

use std::path::PathBuf;

use tracing::{info, warn};

use crate::call::channel::Channel;
use crate::call::state::{Call, Next, RouteError};
use crate::esl::Event;
use crate::pbx::config::Extension;
use crate::store::fax::{Received, Tried};
use crate::store::TenantId;

/// What spandsp said of a reception (mod_spandsp_fax.c phase_e_handler: the channel
/// variables it sets when T.30 ends, whatever ended it).
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Outcome {
    pub success: bool,
    pub result_code: Option<i64>,
    pub result_text: String,
    pub pages: i64,
    pub remote_station: String,
    pub rate: Option<i64>,
    pub ecm: Option<bool>,
    /// T.38 off, requested, negotiated or refused (the far end said no, and the fax went on in audio).
    pub t38: Option<String>,
}

/// The outcome as the completion (or hangup) event's channel variables carry it.
pub(crate) fn outcome(ev: &Event) -> Outcome {
    let var = |n: &str| ev.variable(n).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let num = |n: &str| var(n).and_then(|v| v.parse::<i64>().ok());
    Outcome {
        success: var("fax_success").as_deref() == Some("1"),
        result_code: num("fax_result_code"),
        result_text: var("fax_result_text").unwrap_or_default().chars().filter(|c| !c.is_control()).take(200).collect(),
        pages: num("fax_document_transferred_pages").unwrap_or(0),
        remote_station: var("fax_remote_station_id").unwrap_or_default().chars().filter(|c| !c.is_control()).take(40).collect(),
        rate: num("fax_transfer_rate"),
        ecm: var("fax_ecm_used").map(|v| v == "on"),
        t38: var("fax_t38_status").filter(|v| ["off", "requested", "negotiated", "refused"].contains(&v.as_str())),
    }
}

/// The tenant's fax settings as mod_spandsp's channel variables: ECM, T.38 (answering and
/// asking for it), the station ID sent (`ident`), and the page header (`header`: spandsp
/// prints it with the date and page n of N on every page sent). Both texts are always set,
/// empty when the tenant has none, so that spandsp.conf's own ("SpanDSP Fax Ident",
/// "SpanDSP Fax Header") never reach a tenant's far end.
fn spandsp_vars(s: &crate::store::fax::FaxSettings, ident: &str, header: &str) -> Vec<(&'static str, String)> {
    let on = |b: bool| if b { "true" } else { "false" }.to_string();
    let header: String = header.chars().filter(|c| c.is_ascii_graphic() || *c == ' ').collect();
    vec![
        ("fax_use_ecm", on(s.ecm)),
        ("fax_enable_t38", on(s.t38)),
        ("fax_enable_t38_request", on(s.t38)),
        ("fax_ident", spandsp_text(&station_id(ident))),
        // spandsp takes at most 50 characters of header, and none at all when given more
        // (T30_MAX_PAGE_HEADER_INFO, t30_api.c t30_set_tx_page_header_info).
        ("fax_header", spandsp_text(header.get(..header.len().min(50)).unwrap_or(""))),
    ]
}

/// A text for mod_spandsp's `fax_ident` or `fax_header`, to arrive as it was typed.
/// mod_spandsp URL-decodes both (mod_spandsp_fax.c:1421–1442, `switch_url_decode`), and the
/// switch expands `${…}` in an application's argument before that, where `${name(arg)}` runs
/// the api command `name`: every byte but a letter, digit or space goes %-encoded, so the
/// switch finds nothing to expand and spandsp gets the text back. Empty goes as `%00`, which
/// decodes to the empty string (an empty `set` would unset the variable, and spandsp.conf's
/// default would be used).
fn spandsp_text(s: &str) -> String {
    if s.is_empty() {
        return "%00".into();
    }
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b == b' ' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Runs `app` (`rxfax`, `txfax`) on `file` with `vars` set: spandsp's outcome, from the
/// application's completion event or, when the caller went away mid-page, from the
/// hangup's. A completed run's call is hung up.
async fn spandsp<C: Channel>(call: &mut Call<'_, C>, app: &str, file: &str, vars: Vec<(&'static str, String)>) -> Outcome {
    let done = match call.ch.set(&vars).await {
        Ok(()) => call.ch.run(app, file).await,
        Err(e) => Err(e),
    };
    let outcome = match &done {
        Ok(ev) => outcome(ev),
        Err(_) => call.ch.hangup_complete(std::time::Duration::from_secs(5)).await.map(|ev| outcome(&ev)).unwrap_or_default(),
    };
    if done.is_ok() {
        let _ = call.ch.hangup("NORMAL_CLEARING").await;
    }
    outcome
}

/// The station ID sent to the far machine: T.30 allows 20 printable characters.
fn station_id(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_graphic() || *c == ' ').take(20).collect()
}

pub(crate) async fn receive<C: Channel>(call: &mut Call<'_, C>, e: &Extension) -> Result<Next, RouteError> {
    call.path.push(format!("fax {}", e.number));
    let (Some(dir), Some(tmp)) = (call.env.fax_dir.clone(), call.switch_dir("temp_dir").await) else {
        warn!(extension = %e.number, "no place to receive a fax into");
        let _ = call.ch.hangup("SERVICE_UNAVAILABLE").await;
        return Ok(Next::Done);
    };
    let settings = call.read(|st, t| st.fax_settings(t)).await?;
    let tiff = format!("{tmp}/switchboard-fax-{}.tif", call.ch.uuid());
    call.answer().await?;
    let result = spandsp(call, "rxfax", &tiff, spandsp_vars(&settings, &settings.station_id, "")).await;
    store_received(call, e, &dir, &tiff, result).await?;
    Ok(Next::Done)
}

/// The pages as a PDF, the fax logged, charged and its mail queued.
async fn store_received<C: Channel>(call: &mut Call<'_, C>, e: &Extension, dir: &std::path::Path, tiff: &str, o: Outcome) -> Result<(), RouteError> {
    let tenant = call.t();
    let name = format!("{}/in-{}.pdf", tenant.0, call.ch.uuid());
    let target: PathBuf = dir.join(&name);
    let tiff_path = PathBuf::from(tiff);
    // Read and converted off the call's thread: a large fax is a few hundred kilobytes.
    let converted = tokio::task::spawn_blocking(move || -> Result<usize, String> {
        let bytes = match std::fs::read(&tiff_path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(format!("reading {}: {e}", tiff_path.display())),
        };
        let _ = std::fs::remove_file(&tiff_path);
        let (pdf, pages) = crate::fax::tiff_to_pdf(&bytes).map_err(|e| e.to_string())?;
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        std::fs::write(&target, pdf).map_err(|e| format!("{}: {e}", target.display()))?;
        Ok(pages)
    })
    .await
    .unwrap_or_else(|e| Err(e.to_string()));
    let pages = match converted {
        Ok(n) => n as i64,
        Err(why) => {
            warn!(%why, "a received fax could not be kept");
            0
        }
    };
    let status = match (o.success, pages) {
        (true, p) if p > 0 => "received",
        (_, p) if p > 0 => "partial",
        _ => "failed",
    };
    info!(extension = %e.number, status, pages, result = %o.result_text, "fax received");
    let received = Received {
        tenant: Some(tenant),
        extension_id: e.id,
        number: call.caller.number.clone(),
        remote_station: o.remote_station,
        pages,
        status,
        result_code: o.result_code,
        result_text: o.result_text,
        rate: o.rate,
        ecm: o.ecm,
        t38: o.t38,
        file: if pages > 0 { name } else { String::new() },
        call_uuid: call.ch.uuid().to_string(),
    };
    let extension = e.id;
    let id = call
        .read(move |st, t| {
            let email = st.fax_delivery_address(t, extension)?;
            st.record_received_fax(&received, email.as_deref())
        })
        .await?;
    info!(fax = id, "fax logged");
    Ok(())
}

/// The call a fax job's try placed (`crate::fax_jobs`), answered by the far machine and
/// handed to the socket: when it carries a try under way (`sb_fax_job` and its token), the
/// tenant's and the trunk's caps are taken, the job's TIFF is copied where the switch can
/// read it, `txfax` sends it, and the try is ended with spandsp's result. Its record is an
/// outbound call, not rated by the minute: the pages are charged when it is sent.
pub(crate) async fn send_job<C: Channel>(env: &crate::call::state::Env, ch: &C, data: &crate::esl::ChannelData) -> Result<(), RouteError> {
    let job_id = data.variable("sb_fax_job").and_then(|v| v.parse::<i64>().ok());
    let token = data.variable("sb_fax_token").map(|v| v.into_owned()).unwrap_or_default();
    let trunk = data.variable("sb_fax_trunk").and_then(|v| v.parse::<i64>().ok());
    let Some(id) = job_id else { return Ok(()) };
    let (tok, store) = (token.clone(), env.store.clone());
    let found = crate::call::state::db(&store, move |st| {
        let Some(job) = st.fax_try(id, &tok)? else { return Ok(None) };
        let tenant = st.routing_tenant(job.tenant)?;
        let settings = st.fax_settings(job.tenant)?;
        let trunk_max = match trunk {
            Some(t) => st.outbound_routes(job.tenant)?.iter().flat_map(|r| r.trunks.iter()).find(|x| x.trunk_id == t).map_or(0, |x| x.max_channels),
            None => 0,
        };
        Ok(Some((job, tenant, settings, trunk_max)))
    })
    .await?;
    let Some((job, tenant, settings, trunk_max)) = found else {
        // Not a try under way (an old call, variables a stranger sent): nothing is sent.
        warn!(job = id, "a fax call for no try under way");
        let _ = ch.hangup("CALL_REJECTED").await;
        return Ok(());
    };
    let uuid = ch.uuid().to_string();
    let ended = |reason: String, code: Option<i64>, retry: bool| Tried::Failed { reason, result_code: code, retry, call_uuid: uuid.clone() };
    let slots = (
        env.caps.tenant(&uuid, tenant.id, tenant.max_concurrent_calls),
        match trunk {
            Some(t) => env.caps.trunk(&uuid, t, trunk_max).map(Some),
            None => Some(None),
        },
    );
    let (Some(_tenant_slot), Some(_trunk_slot)) = slots else {
        let _ = ch.hangup("NORMAL_TEMPORARY_FAILURE").await;
        return finish(env, &job, ended("over the concurrent call cap".into(), None, true)).await;
    };
    let cdr = crate::store::cdr::Cdr {
        uuid: uuid.clone(),
        tenant: Some(TenantId(tenant.id)),
        direction: "outbound",
        callee: job.number.clone(),
        trunk_id: trunk,
        caller_number: settings.caller_id.clone(),
        started_at: crate::store::now(),
        ..Default::default()
    };
    let caller = crate::call::state::Caller { number: settings.caller_id.clone(), name: String::new(), from_phone: false };
    let mut call = Call::new(ch, env, tenant, caller, cdr);
    call.path.push(format!("fax {}", job.id));
    let tried = send(&mut call, &job, &settings).await;
    let how = match tried {
        Ok(o) if o.success && o.pages > 0 => Tried::Sent {
            pages: o.pages,
            result_code: o.result_code,
            result_text: o.result_text,
            remote_station: o.remote_station,
            rate: o.rate,
            ecm: o.ecm,
            t38: o.t38,
            call_uuid: uuid.clone(),
        },
        Ok(o) => ended(if o.result_text.is_empty() { "the fax did not go through".into() } else { o.result_text }, o.result_code, true),
        Err(why) => ended(why, None, true),
    };
    // A try that did not say it went (the socket lost mid-fax, spandsp's result not heard)
    // may still have: the switch's mark says. Not able to ask, the try is left as it is,
    // for the runner to settle through its own connection.
    let how = match how {
        Tried::Failed { .. } => match ch.api(&crate::esl::api::fax_sent(job.id, &job.token, crate::esl::api::HashAction::Select)).await {
            Ok(r) if r.trim() == "sent" => Tried::marked_sent(job.pages, &uuid),
            Ok(_) => how,
            Err(e) => {
                warn!(fax = job.id, error = %e, "a fax try's end could not be checked with the switch: left to the runner");
                call.end().await;
                return Ok(());
            }
        },
        sent => sent,
    };
    let sent = matches!(how, Tried::Sent { .. });
    // The try's end first, then the call's record: the far machine has the pages the
    // moment spandsp says so, and a crash between the two must not leave the fax to be
    // sent again.
    let done = finish(env, &job, how).await;
    if done.is_ok() && sent {
        // Recorded: the switch's mark is no longer needed.
        let _ = ch.api(&crate::esl::api::fax_sent(job.id, &job.token, crate::esl::api::HashAction::Delete)).await;
    }
    call.end().await;
    done
}

async fn finish(env: &crate::call::state::Env, job: &crate::store::fax::FaxJob, how: Tried) -> Result<(), RouteError> {
    info!(fax = job.id, outcome = ?how, "fax try ended");
    let (id, token) = (job.id, job.token.clone());
    crate::call::state::db(&env.store, move |st| st.end_fax_try(id, &token, &how)).await?;
    Ok(())
}

/// `txfax` of the job's document with the tenant's settings; spandsp's outcome, or why
/// there was none.
async fn send<C: Channel>(
    call: &mut Call<'_, C>,
    job: &crate::store::fax::FaxJob,
    settings: &crate::store::fax::FaxSettings,
) -> Result<Outcome, String> {
    let (Some(dir), Some(tmp)) = (call.env.fax_dir.clone(), call.switch_dir("temp_dir").await) else {
        let _ = call.ch.hangup("SERVICE_UNAVAILABLE").await;
        return Err("no fax directory, or the switch names no temp_dir".into());
    };
    // The switch reads the document where it can (its temp_dir), not in the data directory.
    let shared = format!("{tmp}/switchboard-fax-out-{}-{}.tif", job.id, call.ch.uuid());
    let (from, to) = (dir.join(&job.tiff), PathBuf::from(&shared));
    let copied = tokio::task::spawn_blocking(move || std::fs::copy(&from, &to).map(drop).map_err(|e| format!("{}: {e}", from.display())))
        .await
        .unwrap_or_else(|e| Err(e.to_string()));
    if let Err(why) = copied {
        let _ = call.ch.hangup("NORMAL_TEMPORARY_FAILURE").await;
        return Err(format!("the document to send: {why}"));
    }
    let ident = if settings.station_id.is_empty() { &settings.caller_id } else { &settings.station_id };
    let mut vars = spandsp_vars(settings, ident, &settings.header);
    // The switch marks the try sent the moment the far machine has every page, in its own
    // memory: a switchboard that dies before recording it finds the mark when it starts
    // again (`crate::fax_jobs::recover`), and does not send the fax twice.
    let mark = crate::esl::api::fax_sent(job.id, &job.token, crate::esl::api::HashAction::Insert("sent".into()));
    if let Ok(line) = mark.line() {
        vars.push(("api_on_fax_success", line));
    }
    let outcome = spandsp(call, "txfax", &shared, vars).await;
    let _ = tokio::fs::remove_file(&shared).await;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::esl::Headers;

    #[test]
    fn spandsp_s_variables_read_as_the_outcome() {
        let ev = Event {
            headers: Headers::from_pairs(
                [
                    ("variable_fax_success", "1"),
                    ("variable_fax_result_code", "0"),
                    ("variable_fax_result_text", "OK"),
                    ("variable_fax_document_transferred_pages", "3"),
                    ("variable_fax_remote_station_id", "ACME\x07 FAX"),
                    ("variable_fax_transfer_rate", "14400"),
                    ("variable_fax_ecm_used", "on"),
                ],
                false,
            ),
            body: None,
        };
        let o = outcome(&ev);
        assert_eq!((o.success, o.result_code, o.pages, o.rate, o.ecm), (true, Some(0), 3, Some(14400), Some(true)));
        assert_eq!(o.remote_station, "ACME FAX", "control characters dropped");
        assert_eq!(outcome(&Event { headers: Headers::from_pairs(std::iter::empty::<(&str, &str)>(), false), body: None }), Outcome::default());
        assert_eq!(station_id("Acme <Fax> \u{1F4E0} line twenty-one chars"), "Acme <Fax>  line twe");
    }

    /// What the switch would do to the text: expand nothing (no `$` left), and what
    /// mod_spandsp then does (`switch_url_decode`, done here the same way).
    fn url_decode(s: &str) -> Vec<u8> {
        let (b, mut out, mut i) = (s.as_bytes(), Vec::new(), 0);
        while i < b.len() {
            if b[i] == b'%' && b.len() - i > 2 {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        out.split(|c| *c == 0).next().unwrap_or(&[]).to_vec()
    }

    #[test]
    fn the_station_id_and_header_reach_spandsp_as_typed_and_the_switch_expands_none_of_them() {
        let s = crate::store::fax::FaxSettings::default();
        let vars: std::collections::HashMap<_, _> = spandsp_vars(&s, "ACME ${uuid} 100%", "Acme ${system(id)} | 100% ^^ \\n").into_iter().collect();
        for v in vars.values() {
            assert!(!v.contains(['$', '|', '^', '\\', '{']), "{v}");
        }
        assert_eq!(url_decode(&vars["fax_ident"]), b"ACME ${uuid} 100%");
        assert_eq!(url_decode(&vars["fax_header"]), b"Acme ${system(id)} | 100% ^^ \\n");
        // None: empty, not unset (spandsp.conf's default header would be printed).
        let none: std::collections::HashMap<_, _> = spandsp_vars(&s, "", "").into_iter().collect();
        assert_eq!((none["fax_ident"].as_str(), none["fax_header"].as_str()), ("%00", "%00"));
        assert_eq!(url_decode("%00"), b"");
        // More than spandsp takes: cut to 50 (it would drop the whole header).
        let long: std::collections::HashMap<_, _> = spandsp_vars(&s, "", &"x".repeat(80)).into_iter().collect();
        assert_eq!(url_decode(&long["fax_header"]).len(), 50);
    }
}
