//! mod_spandsp's `rxfax` and `txfax` (mod_spandsp_fax.c). The fax itself takes the
//! scenario's time; when T.30 ends — completed, failed, or the call dropped — phase E sets
//! the result variables on the channel (phase_e_handler, :555–690: fax_success,
//! fax_result_code, fax_result_text, fax_ecm_used, fax_remote_station_id,
//! fax_document_transferred_pages, fax_document_total_pages, fax_transfer_rate) and fires
//! `spandsp::rxfaxresult` / `spandsp::txfaxresult` with the same as headers. `rxfax` writes
//! the scenario's TIFF (a real file) where it was told; `txfax` reads the file it is given
//! and counts its pages. Failures: the call dropped mid-page (the scenario's hangup, only the
//! pages before it), no fax machine at the far end ([`FaxRun::no_fax_tone`]), and T.38
//! refused by the far end (the fax goes on in audio, `fax_t38_status=refused`).

use std::sync::Arc;

use super::super::call::Core;

/// What the far machine does.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaxRun {
    /// rxfax: the TIFF the far machine's pages arrive as (a file, copied to rxfax's path).
    pub tiff: String,
    /// spandsp's T.30 completion code: 0 is success.
    pub result_code: i64,
    pub result_text: String,
    /// Pages that made it (rxfax: of the TIFF; txfax: of the document, all when 0 and the
    /// fax succeeded).
    pub pages: i64,
    pub remote_station: String,
    pub rate: i64,
    pub ecm: bool,
    pub duration_ms: u64,
    /// The far end refuses the T.38 re-INVITE spandsp asks for (with
    /// `fax_enable_t38_request`): the fax goes on over G.711 (mod_spandsp_fax.c:1103,1141
    /// set T38_MODE_REFUSED and carry on in audio).
    pub t38_refused: bool,
}

impl FaxRun {
    /// A far end that answers but is no fax machine (a person, a voice line): spandsp hears
    /// no T.30 and gives up (T30_ERR_T0_EXPIRED, 2 in spandsp's t30.h).
    pub fn no_fax_tone() -> FaxRun {
        FaxRun {
            result_code: 2,
            result_text: "Timed out waiting for initial communication".into(),
            remote_station: String::new(),
            ..FaxRun::default()
        }
    }
}

impl Default for FaxRun {
    fn default() -> FaxRun {
        FaxRun {
            tiff: String::new(),
            result_code: 0,
            result_text: "OK".into(),
            pages: 0,
            remote_station: "SIM FAX".into(),
            rate: 14400,
            ecm: true,
            duration_ms: 50,
            t38_refused: false,
        }
    }
}

/// Pages of a TIFF (its chain of directories), None when it is not one.
pub fn tiff_pages(b: &[u8]) -> Option<i64> {
    tiff_links(b).map(|l| l.len() as i64)
}

/// The TIFF with only its first `n` pages (spandsp writes each page as it arrives, so a
/// fax cut off holds the pages before the cut): the n-th directory's link to the next
/// becomes 0.
fn tiff_first_pages(mut b: Vec<u8>, n: i64) -> Vec<u8> {
    if let Some(at) = tiff_links(&b).and_then(|l| l.get((n.max(1) - 1) as usize).copied()) {
        b[at..at + 4].copy_from_slice(&[0; 4]);
    }
    b
}

/// Where each directory's link to the next is, page by page.
fn tiff_links(b: &[u8]) -> Option<Vec<usize>> {
    let le = match b.get(0..4)? {
        [b'I', b'I', 42, 0] => true,
        [b'M', b'M', 0, 42] => false,
        _ => return None,
    };
    let u16_at = |i: usize| b.get(i..i + 2).map(|s| if le { u16::from_le_bytes([s[0], s[1]]) } else { u16::from_be_bytes([s[0], s[1]]) });
    let u32_at = |i: usize| {
        b.get(i..i + 4).map(|s| if le { u32::from_le_bytes([s[0], s[1], s[2], s[3]]) } else { u32::from_be_bytes([s[0], s[1], s[2], s[3]]) })
    };
    let mut next = u32_at(4)? as usize;
    let mut links = Vec::new();
    while next != 0 && links.len() < 10_000 {
        let n = u16_at(next)? as usize;
        let link = next + 2 + 12 * n;
        links.push(link);
        next = u32_at(link)? as usize;
    }
    Some(links)
}

pub(super) async fn rxfax(core: &Arc<Core>, path: &str) {
    let run = core.scenario.fax.clone().unwrap_or_default();
    let completed = core.wait(run.duration_ms).await;
    let mut pages = 0;
    if !run.tiff.is_empty() {
        if let Ok(bytes) = std::fs::read(&run.tiff) {
            let all = tiff_pages(&bytes).unwrap_or(0);
            // What arrived is on disk, whatever happened after: every page of a fax that
            // completed, else the scenario's count.
            pages = if completed && run.result_code == 0 { all } else { run.pages.min(all) };
            if pages > 0 {
                let _ = std::fs::write(path.trim(), tiff_first_pages(bytes, pages));
            }
        }
    }
    phase_e(core, "spandsp::rxfaxresult", &run, completed, pages, pages);
    core.lock().report.faxes.push(("rxfax".into(), path.trim().to_string(), pages));
}

pub(super) async fn txfax(core: &Arc<Core>, path: &str) {
    let run = core.scenario.fax.clone().unwrap_or_default();
    let total = std::fs::read(path.trim()).ok().and_then(|b| tiff_pages(&b));
    let Some(total) = total else {
        // spandsp cannot open the file: the fax fails before any tone (T30_ERR_FILEERROR,
        // 41 in spandsp's t30_api.h).
        let failed = FaxRun { result_code: 41, result_text: "TIFF/F file cannot be opened".into(), ..run };
        phase_e(core, "spandsp::txfaxresult", &failed, true, 0, 0);
        return;
    };
    let completed = core.wait(run.duration_ms).await;
    let sent = if run.result_code == 0 && completed { total } else { run.pages.min(total) };
    phase_e(core, "spandsp::txfaxresult", &run, completed, sent, total);
    if run.result_code == 0 && completed {
        // The far machine has the whole fax from here on, whatever switchboard does next.
        let (endpoint, api_on) = {
            let st = core.lock();
            (st.ch.var("sim_endpoint").map(str::to_string), st.ch.var("api_on_fax_success").map(str::to_string))
        };
        if let Some(e) = endpoint {
            core.switch.faxed(&e);
        }
        // After the result event, in the channel's own thread: the api named
        // (mod_spandsp_fax.c:703–714, switch_channel_api_on).
        if let Some(cmd) = api_on {
            core.switch.api(&cmd, None).await;
        }
    }
    core.lock().report.faxes.push(("txfax".into(), path.trim().to_string(), sent));
}

/// phase_e_handler: the result on the channel and in the event. A call dropped before the
/// end is a failure whatever the far machine would have done (T30_ERR_CALLDROPPED, 49 in
/// spandsp's t30_api.h, "The call dropped prematurely").
fn phase_e(core: &Arc<Core>, subclass: &str, run: &FaxRun, completed: bool, pages: i64, total: i64) {
    let (code, text) = if completed { (run.result_code, run.result_text.clone()) } else { (49, "The call dropped prematurely".to_string()) };
    let success = if code == 0 { "1" } else { "0" };
    // get_t38_status (mod_spandsp_fax.c:62): asked for and refused, negotiated, or off.
    let asked = core.lock().ch.var("fax_enable_t38_request") == Some("true");
    let t38 = match (asked, run.t38_refused) {
        (true, true) => "refused",
        (true, false) => "negotiated",
        (false, _) => "off",
    };
    let vars = [
        ("fax_t38_status", t38.to_string()),
        ("fax_success", success.to_string()),
        ("fax_result_code", code.to_string()),
        ("fax_result_text", text),
        ("fax_ecm_used", if run.ecm { "on" } else { "off" }.to_string()),
        ("fax_remote_station_id", run.remote_station.clone()),
        ("fax_document_transferred_pages", pages.to_string()),
        ("fax_document_total_pages", total.to_string()),
        ("fax_transfer_rate", run.rate.to_string()),
    ];
    {
        let mut st = core.lock();
        for (k, v) in &vars {
            st.ch.set_var(k, v);
        }
    }
    let headers: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.replace('_', "-"), v.clone())).collect();
    let mut pre = vec![("Event-Subclass".to_string(), subclass.to_string())];
    pre.extend(headers);
    core.fire_a("CUSTOM", ("mod_spandsp_fax.c", "phase_e_handler", 676), pre, Vec::new());
}
