//! Mailing the alert outbox, and received faxes as PDF attachments, through the configured SMTP relay (lettre: a maintained SMTP
//! client with STARTTLS/TLS and correct header encoding, which a hand-written client would
//! have to get right for every hostile company name).
//!
//! Alerts are queued by the store in the transaction that causes them (a balance crossing
//! below the low-credit threshold); this task mails what is due, marks each alert sent, and
//! retries a failure later with a growing delay. With no relay configured nothing is mailed
//! and the alerts wait (the UI shows the tenant's low-credit flag either way).

use std::time::Duration;

use lettre::message::{header::ContentType, Mailbox};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tracing::{info, warn};

use crate::config::{Smtp, SmtpSecurity};
use crate::store::fax::DueFax;
use crate::store::{alerts::DueAlert, Store};

/// Alerts mailed per pass at most.
const BATCH: u32 = 50;

/// `1234567` micro-units → `1.234567`; whole cents keep two decimals (`5.00`).
pub fn money(micro: i64) -> String {
    let sign = if micro < 0 { "-" } else { "" };
    let (units, frac) = (micro.unsigned_abs() / 1_000_000, micro.unsigned_abs() % 1_000_000);
    let mut f = format!("{frac:06}");
    while f.len() > 2 && f.ends_with('0') {
        f.pop();
    }
    format!("{sign}{units}.{f}")
}

/// The mail for one alert.
pub fn message(cfg: &Smtp, a: &DueAlert) -> Result<Message, String> {
    let from: Mailbox = cfg.from.parse().map_err(|e| format!("the configured From address {:?}: {e}", cfg.from))?;
    let to: Mailbox = a.email.parse().map_err(|e| format!("tenant {}'s contact address: {e}", a.tenant_id))?;
    let company: String = a.company.chars().filter(|c| !c.is_control()).take(100).collect();
    let body = format!(
        "The credit balance of {company} is {balance}, below the alert threshold of {threshold}.\n\n\
         Calls that cost credit may be refused or flagged for review once it runs out.\n\
         Top up your credit to keep service uninterrupted.\n\n\
         (Alert raised at {at}.)\n",
        balance = money(a.balance),
        threshold = money(a.threshold),
        at = a.created_at,
    );
    Message::builder()
        .from(from)
        .to(to)
        .subject(format!("Low credit: {company}"))
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(|e| e.to_string())
}

fn transport(cfg: &Smtp) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let b = match cfg.security {
        SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&cfg.relay),
        SmtpSecurity::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&cfg.relay).map_err(|e| e.to_string())?,
        SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&cfg.relay).map_err(|e| e.to_string())?,
    };
    let b = b.port(cfg.port).timeout(Some(Duration::from_secs(20)));
    let b = if cfg.username.is_empty() { b } else { b.credentials(Credentials::new(cfg.username.clone(), cfg.password.clone())) };
    Ok(b.build())
}

/// Delay before retry number `attempts` (1, 2, 4 … minutes, at most an hour).
fn backoff(attempts: i64) -> Duration {
    Duration::from_secs(60u64 << attempts.clamp(0, 6) as u32).min(Duration::from_secs(3600))
}

/// Mails every alert due at `now`; returns how many went out.
pub async fn once(store: &Store, cfg: &Smtp, now: jiff::Timestamp) -> Result<usize, String> {
    let s = store.clone();
    let now = now.round(jiff::Unit::Second).unwrap_or(now).to_string();
    let due = tokio::task::spawn_blocking(move || s.due_alerts(&now, BATCH)).await.map_err(|e| e.to_string())?.map_err(|e| e.to_string())?;
    if due.is_empty() {
        return Ok(0);
    }
    let smtp = transport(cfg)?;
    let mut sent = 0;
    for a in due {
        let result = match message(cfg, &a) {
            Ok(m) => smtp.send(m).await.map(|_| ()).map_err(|e| e.to_string()),
            Err(e) => Err(e),
        };
        let s = store.clone();
        let id = a.id;
        let recorded = match &result {
            Ok(()) => {
                info!(tenant = a.tenant_id, kind = %a.kind, "alert mailed");
                sent += 1;
                tokio::task::spawn_blocking(move || s.alert_sent(id)).await
            }
            Err(e) => {
                let retry = jiff::Timestamp::now() + jiff::SignedDuration::try_from(backoff(a.attempts)).unwrap_or_default();
                warn!(tenant = a.tenant_id, kind = %a.kind, error = %e, retry_at = %retry, "mailing an alert failed");
                let (e, retry) = (e.clone(), retry.round(jiff::Unit::Second).map(|t| t.to_string()).unwrap_or_default());
                tokio::task::spawn_blocking(move || s.alert_failed(id, &e, &retry)).await
            }
        };
        match recorded {
            Ok(Ok(())) => {}
            Ok(Err(e)) => warn!(error = %e, "recording an alert's delivery"),
            Err(e) => warn!(error = %e, "recording an alert's delivery"),
        }
    }
    Ok(sent)
}

/// The mail for a received fax, its PDF (`pdf`) attached.
pub fn fax_message(cfg: &Smtp, f: &DueFax, pdf: Vec<u8>) -> Result<Message, String> {
    use lettre::message::{Attachment, MultiPart, SinglePart};
    let from: Mailbox = cfg.from.parse().map_err(|e| format!("the configured From address {:?}: {e}", cfg.from))?;
    let to: Mailbox = f.email.parse().map_err(|e| format!("the fax delivery address {:?}: {e}", f.email))?;
    // Strangers choose caller IDs and station IDs: printable, short, never a header.
    let clean = |s: &str, n: usize| -> String { s.chars().filter(|c| !c.is_control()).take(n).collect() };
    let (number, station, company) = (clean(&f.number, 40), clean(&f.remote_station, 40), clean(&f.company, 100));
    let from_whom = if station.is_empty() { number.clone() } else { format!("{number} ({station})") };
    let body = format!(
        "{company} received a fax from {from_whom}: {pages} page{s}, at {at}.\n\nThe fax is attached as a PDF.\n",
        pages = f.pages,
        s = if f.pages == 1 { "" } else { "s" },
        at = f.received_at,
    );
    let attachment = Attachment::new(format!("fax-{}.pdf", f.fax_id)).body(pdf, ContentType::parse("application/pdf").map_err(|e| e.to_string())?);
    Message::builder()
        .from(from)
        .to(to)
        .subject(format!("Fax from {number}, {} page{}", f.pages, if f.pages == 1 { "" } else { "s" }))
        .multipart(MultiPart::mixed().singlepart(SinglePart::plain(body)).singlepart(attachment))
        .map_err(|e| e.to_string())
}

/// Mails every received fax due at `now` (its PDF read from `fax_dir`); how many went out.
pub async fn faxes_once(store: &Store, cfg: &Smtp, fax_dir: &std::path::Path, now: jiff::Timestamp) -> Result<usize, String> {
    let s = store.clone();
    let now = now.round(jiff::Unit::Second).unwrap_or(now).to_string();
    let due = tokio::task::spawn_blocking(move || s.due_fax_deliveries(&now, BATCH)).await.map_err(|e| e.to_string())?.map_err(|e| e.to_string())?;
    if due.is_empty() {
        return Ok(0);
    }
    let smtp = transport(cfg)?;
    let mut sent = 0;
    for f in due {
        let result = match tokio::fs::read(fax_dir.join(&f.file)).await {
            Ok(pdf) => match fax_message(cfg, &f, pdf) {
                Ok(m) => smtp.send(m).await.map(|_| ()).map_err(|e| e.to_string()),
                Err(e) => Err(e),
            },
            Err(e) => Err(format!("the fax's PDF {}: {e}", f.file)),
        };
        let (s, id) = (store.clone(), f.fax_id);
        let recorded = match &result {
            Ok(()) => {
                info!(tenant = f.tenant_id, fax = id, "fax mailed");
                sent += 1;
                tokio::task::spawn_blocking(move || s.fax_delivered(id)).await
            }
            Err(e) => {
                let retry = jiff::Timestamp::now() + jiff::SignedDuration::try_from(backoff(f.attempts)).unwrap_or_default();
                warn!(tenant = f.tenant_id, fax = id, error = %e, retry_at = %retry, "mailing a fax failed");
                let (e, retry) = (e.clone(), retry.round(jiff::Unit::Second).map(|t| t.to_string()).unwrap_or_default());
                tokio::task::spawn_blocking(move || s.fax_delivery_failed(id, &e, &retry)).await
            }
        };
        match recorded {
            Ok(Ok(())) => {}
            Ok(Err(e)) => warn!(error = %e, "recording a fax's delivery"),
            Err(e) => warn!(error = %e, "recording a fax's delivery"),
        }
    }
    Ok(sent)
}

/// Runs [`once`] and [`faxes_once`] every `every` until `stop`; with no relay configured
/// it does nothing (alerts stay flagged, faxes stay listed on the Inbound Fax page).
pub async fn run(store: Store, cfg: Smtp, fax_dir: std::path::PathBuf, every: Duration, mut stop: tokio::sync::watch::Receiver<bool>) {
    if cfg.relay.is_empty() {
        info!("no SMTP relay configured: low-credit alerts are flagged and faxes listed, not mailed");
        return;
    }
    loop {
        if let Err(e) = once(&store, &cfg, jiff::Timestamp::now()).await {
            warn!(error = %e, "mailing alerts");
        }
        if let Err(e) = faxes_once(&store, &cfg, &fax_dir, jiff::Timestamp::now()).await {
            warn!(error = %e, "mailing faxes");
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_reads_as_units() {
        assert_eq!(money(5_000_000), "5.00");
        assert_eq!(money(1_234_567), "1.234567");
        assert_eq!(money(-250_000), "-0.25");
        assert_eq!(money(0), "0.00");
    }

    #[test]
    fn a_hostile_company_name_cannot_add_a_header() {
        let cfg = Smtp { from: "pbx@example.com".into(), ..Default::default() };
        let a = DueAlert {
            id: 1,
            tenant_id: 2,
            kind: "low_credit".into(),
            company: "Acme\r\nBcc: thief@example.net".into(),
            email: "billing@acme.example".into(),
            balance: 4_000_000,
            threshold: 5_000_000,
            attempts: 0,
            created_at: "2026-11-22T10:00:00Z".into(),
        };
        let text = String::from_utf8(message(&cfg, &a).unwrap().formatted()).unwrap();
        assert!(!text.lines().any(|l| l.to_ascii_lowercase().starts_with("bcc:")), "{text}");
        assert!(text.contains("4.00") && text.contains("5.00"), "{text}");
        let bad = DueAlert { email: "not an address".into(), ..a };
        assert!(message(&cfg, &bad).unwrap_err().contains("contact address"));
    }

    #[test]
    fn retries_back_off_to_an_hour() {
        assert_eq!(backoff(0), Duration::from_secs(60));
        assert_eq!(backoff(2), Duration::from_secs(240));
        assert_eq!(backoff(30), Duration::from_secs(3600));
    }
}
