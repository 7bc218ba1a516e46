//! Faxes' SQL: the log of faxes received and sent, each tenant's fax settings, and the
//! outbox of received faxes to mail (mailed by `crate::alerts`, retried like alerts).

use rusqlite::OptionalExtension;
use serde::Serialize;

use super::{now, Result, Store, StoreError, TenantId};

/// A tenant's fax settings (the defaults until the tenant saves its own).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaxSettings {
    pub caller_id: String,
    /// The station ID this side sends (T.30 TSI/CSI), at most 20 characters.
    pub station_id: String,
    pub header: String,
    pub max_retries: i64,
    pub retry_delay: i64,
    pub ecm: bool,
    pub t38: bool,
    pub delivery_email: String,
    pub retention_days: i64,
}

impl Default for FaxSettings {
    fn default() -> FaxSettings {
        FaxSettings {
            caller_id: String::new(),
            station_id: String::new(),
            header: String::new(),
            max_retries: 3,
            retry_delay: 300,
            ecm: true,
            t38: false,
            delivery_email: String::new(),
            retention_days: 90,
        }
    }
}

/// A fax received (or not: a failed reception is logged too).
#[derive(Debug, Clone, Default)]
pub struct Received {
    pub tenant: Option<TenantId>,
    pub extension_id: i64,
    /// The sender's caller ID.
    pub number: String,
    pub remote_station: String,
    pub pages: i64,
    /// `received`, `partial` or `failed`.
    pub status: &'static str,
    pub result_code: Option<i64>,
    pub result_text: String,
    pub rate: Option<i64>,
    pub ecm: Option<bool>,
    /// spandsp's `fax_t38_status`: off, requested, negotiated, refused.
    pub t38: Option<String>,
    /// The PDF, relative to the fax directory ('' when no page arrived).
    pub file: String,
    pub call_uuid: String,
}

/// A received fax due to be mailed, with what the mail needs.
#[derive(Debug, Clone)]
pub struct DueFax {
    pub fax_id: i64,
    pub tenant_id: i64,
    pub company: String,
    pub email: String,
    pub number: String,
    pub remote_station: String,
    pub pages: i64,
    pub file: String,
    pub received_at: String,
    pub attempts: i64,
}

const FAX_COLUMNS: &str =
    "id, tenant_id, direction, status, extension_id, number, remote_station, pages, result_code, result_text, rate, ecm, file, call_uuid, \
                           created_at, finished_at, user_id, subject, attempts, next_attempt_at, t38";

fn fax_json(r: &rusqlite::Row<'_>) -> rusqlite::Result<serde_json::Value> {
    Ok(serde_json::json!({
        "id": r.get::<_, i64>(0)?, "tenant_id": r.get::<_, i64>(1)?, "direction": r.get::<_, String>(2)?, "status": r.get::<_, String>(3)?,
        "extension_id": r.get::<_, Option<i64>>(4)?, "number": r.get::<_, String>(5)?, "remote_station": r.get::<_, String>(6)?,
        "pages": r.get::<_, i64>(7)?, "result_code": r.get::<_, Option<i64>>(8)?, "result_text": r.get::<_, String>(9)?,
        "rate": r.get::<_, Option<i64>>(10)?, "ecm": r.get::<_, Option<bool>>(11)?, "has_document": !r.get::<_, String>(12)?.is_empty(),
        "call_uuid": r.get::<_, String>(13)?, "created_at": r.get::<_, String>(14)?, "finished_at": r.get::<_, Option<String>>(15)?,
        "user_id": r.get::<_, Option<i64>>(16)?, "subject": r.get::<_, String>(17)?, "attempts": r.get::<_, i64>(18)?,
        "next_attempt_at": r.get::<_, Option<String>>(19)?, "t38": r.get::<_, Option<String>>(20)?,
    }))
}

impl FaxSettings {
    /// Every field checked (all refusals reported at once).
    pub fn check(&self) -> Result<()> {
        use super::validate;
        let mut bad: Vec<(String, String)> = Vec::new();
        let mut field = |name: &str, r: std::result::Result<(), String>| {
            if let Err(m) = r {
                bad.push((name.to_string(), m));
            }
        };
        field("caller_id", if self.caller_id.is_empty() { Ok(()) } else { crate::pbx::dial::e164(&self.caller_id).map(drop) });
        // spandsp hands the far end's station ID back as a channel variable, which the
        // switch refuses to hold when it contains `${` (switch_channel.c:1508, "contains a
        // variable"): a `$` would leave the far end's log without it.
        field(
            "station_id",
            if self.station_id.chars().count() <= 20 && self.station_id.chars().all(|c| (c.is_ascii_graphic() && c != '$') || c == ' ') {
                Ok(())
            } else {
                Err("at most 20 printable ASCII characters (T.30), no $".into())
            },
        );
        // spandsp prints at most 50 characters, in its own font of printable ASCII
        // (T30_MAX_PAGE_HEADER_INFO; a longer header is not printed at all).
        field(
            "header",
            if self.header.chars().count() <= 50 && self.header.chars().all(|c| c.is_ascii_graphic() || c == ' ') {
                Ok(())
            } else {
                Err("at most 50 printable ASCII characters (spandsp prints no more)".into())
            },
        );
        field("max_retries", if (0..=10).contains(&self.max_retries) { Ok(()) } else { Err("must be 0 to 10".into()) });
        field("retry_delay", if (30..=86_400).contains(&self.retry_delay) { Ok(()) } else { Err("must be 30 to 86400 seconds".into()) });
        field("delivery_email", if self.delivery_email.is_empty() { Ok(()) } else { validate::email(&self.delivery_email).map(drop) });
        field("retention_days", if (1..=3650).contains(&self.retention_days) { Ok(()) } else { Err("must be 1 to 3650 days".into()) });
        match bad.len() {
            0 => Ok(()),
            _ => Err(StoreError::Fields(bad)),
        }
    }
}

impl Store {
    pub fn fax_settings(&self, tenant: TenantId) -> Result<FaxSettings> {
        let c = self.conn()?;
        let s = c
            .prepare_cached(
                "SELECT caller_id, station_id, header, max_retries, retry_delay, ecm, t38, delivery_email, retention_days
                 FROM fax_settings WHERE tenant_id = ?1",
            )?
            .query_row([tenant.0], |r| {
                Ok(FaxSettings {
                    caller_id: r.get(0)?,
                    station_id: r.get(1)?,
                    header: r.get(2)?,
                    max_retries: r.get(3)?,
                    retry_delay: r.get(4)?,
                    ecm: r.get(5)?,
                    t38: r.get(6)?,
                    delivery_email: r.get(7)?,
                    retention_days: r.get(8)?,
                })
            })
            .optional()?;
        Ok(s.unwrap_or_default())
    }

    /// Where a fax received on `extension` is mailed: its user's own fax address (My
    /// Account), else the tenant's fax settings' delivery address; None when neither is set.
    pub fn fax_delivery_address(&self, tenant: TenantId, extension: i64) -> Result<Option<String>> {
        let c = self.conn()?;
        let own: Option<String> = c
            .prepare_cached("SELECT u.fax_email FROM extensions e JOIN users u ON u.id = e.user_id WHERE e.id = ?1 AND e.tenant_id = ?2")?
            .query_row((extension, tenant.0), |r| r.get(0))
            .optional()?;
        let address = match own.filter(|e| !e.is_empty()) {
            Some(e) => e,
            None => self.fax_settings(tenant)?.delivery_email,
        };
        Ok(Some(address).filter(|a| !a.is_empty()))
    }

    /// Logs a received fax, charges its pages and, when it brought pages and there is an
    /// address to mail it to, queues its mail, in one transaction. Its id.
    pub fn record_received_fax(&self, f: &Received, email: Option<&str>) -> Result<i64> {
        let tenant = f.tenant.ok_or(StoreError::NotFound)?;
        self.write(|tx| {
            let at = now();
            tx.prepare_cached(
                "INSERT INTO faxes (tenant_id, direction, status, extension_id, number, remote_station, pages, result_code, result_text, rate, ecm,
                                    file, call_uuid, created_at, finished_at, t38)
                 VALUES (?1, 'in', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13, ?14)",
            )?
            .execute(rusqlite::params![
                tenant.0,
                f.status,
                f.extension_id,
                f.number,
                f.remote_station,
                f.pages,
                f.result_code,
                f.result_text,
                f.rate,
                f.ecm,
                f.file,
                f.call_uuid,
                at,
                f.t38
            ])?;
            let id = tx.last_insert_rowid();
            if let (Some(email), false) = (email, f.file.is_empty()) {
                tx.prepare_cached("INSERT INTO fax_deliveries (fax_id, email, next_attempt_at) VALUES (?1, ?2, ?3)")?.execute((id, email, &at))?;
            }
            // Received pages are billed like sent ones (docs/billing.md), with the record.
            if f.pages > 0 {
                super::ledger::charge_fax_in(tx, tenant, &format!("in-{id}"), f.pages)?;
            }
            Ok(id)
        })
    }

    /// A tenant's faxes of one direction, newest first; with `owner`, only that user's: sent
    /// by them, or received on the fax extensions assigned to them.
    pub fn faxes(&self, tenant: TenantId, direction: &str, owner: Option<i64>, page: u32, per_page: u32) -> Result<super::Page> {
        let c = self.conn()?;
        let mut w = super::Where::new();
        w.and("tenant_id =", rusqlite::types::Value::Integer(tenant.0));
        w.and("direction =", rusqlite::types::Value::Text(direction.to_string()));
        match (owner, direction) {
            (Some(user), "out") => w.and("user_id =", rusqlite::types::Value::Integer(user)),
            (Some(user), _) => w.and_raw(
                |n| format!("extension_id IN (SELECT id FROM extensions WHERE user_id = ?{n})"),
                vec![rusqlite::types::Value::Integer(user)],
            ),
            (None, _) => {}
        }
        w.page(&c, "faxes", FAX_COLUMNS, "created_at DESC, id DESC", page, per_page.clamp(1, 500), fax_json)
    }

    /// One fax of the tenant (with `owner`, only one to that user's fax lines), and its
    /// PDF's file name ('' when there is none).
    pub fn fax(&self, tenant: TenantId, id: i64, owner: Option<i64>) -> Result<(serde_json::Value, String)> {
        let c = self.conn()?;
        let row = c
            .prepare_cached(&format!(
                "SELECT {FAX_COLUMNS} FROM faxes WHERE id = ?1 AND tenant_id = ?2
                 AND (?3 IS NULL OR extension_id IN (SELECT id FROM extensions WHERE user_id = ?3))"
            ))?
            .query_row((id, tenant.0, owner), |r| Ok((fax_json(r)?, r.get::<_, String>(12)?)))
            .optional()?;
        row.ok_or(StoreError::NotFound)
    }

    /// Saves a tenant's fax settings, once every field is good.
    pub fn set_fax_settings(&self, tenant: TenantId, s: &FaxSettings) -> Result<()> {
        s.check()?;
        self.write(|tx| {
            tx.execute(
                "INSERT INTO fax_settings (tenant_id, caller_id, station_id, header, max_retries, retry_delay, ecm, t38, delivery_email, retention_days)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                 ON CONFLICT (tenant_id) DO UPDATE SET caller_id = excluded.caller_id, station_id = excluded.station_id, header = excluded.header,
                   max_retries = excluded.max_retries, retry_delay = excluded.retry_delay, ecm = excluded.ecm, t38 = excluded.t38,
                   delivery_email = excluded.delivery_email, retention_days = excluded.retention_days",
                rusqlite::params![
                    tenant.0,
                    s.caller_id,
                    s.station_id,
                    s.header,
                    s.max_retries,
                    s.retry_delay,
                    s.ecm,
                    s.t38,
                    s.delivery_email,
                    s.retention_days
                ],
            )?;
            Ok(())
        })
    }

    /// Received faxes whose (next) mail is due at `now`, oldest first.
    pub fn due_fax_deliveries(&self, now: &str, limit: u32) -> Result<Vec<DueFax>> {
        let c = self.conn()?;
        let rows = c
            .prepare_cached(
                "SELECT d.fax_id, f.tenant_id, t.company, d.email, f.number, f.remote_station, f.pages, f.file, f.created_at, d.attempts
                 FROM fax_deliveries d JOIN faxes f ON f.id = d.fax_id JOIN tenants t ON t.id = f.tenant_id
                 WHERE d.sent_at IS NULL AND d.next_attempt_at <= ?1 ORDER BY d.fax_id LIMIT ?2",
            )?
            .query_map((now, limit), |r| {
                Ok(DueFax {
                    fax_id: r.get(0)?,
                    tenant_id: r.get(1)?,
                    company: r.get(2)?,
                    email: r.get(3)?,
                    number: r.get(4)?,
                    remote_station: r.get(5)?,
                    pages: r.get(6)?,
                    file: r.get(7)?,
                    received_at: r.get(8)?,
                    attempts: r.get(9)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    pub fn fax_delivered(&self, fax_id: i64) -> Result<()> {
        self.write(|tx| {
            tx.execute("UPDATE fax_deliveries SET sent_at = ?2, attempts = attempts + 1, last_error = '' WHERE fax_id = ?1", (fax_id, now()))?;
            Ok(())
        })
    }

    /// Records a failed mailing; the next attempt is due at `retry_at`.
    pub fn fax_delivery_failed(&self, fax_id: i64, error: &str, retry_at: &str) -> Result<()> {
        let error: String = error.chars().take(500).collect();
        self.write(|tx| {
            tx.execute(
                "UPDATE fax_deliveries SET attempts = attempts + 1, last_error = ?2, next_attempt_at = ?3 WHERE fax_id = ?1",
                (fax_id, &error, retry_at),
            )?;
            Ok(())
        })
    }
}

/// A fax to queue: who sends it, to what number, its documents (relative to the fax
/// directory) and pages.
#[derive(Debug, Clone, Default)]
pub struct Outgoing {
    pub user: Option<i64>,
    pub number: String,
    pub subject: String,
    pub pdf: String,
    pub tiff: String,
    pub pages: i64,
}

/// A fax to send, as the job runner and the call that sends it see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaxJob {
    pub id: i64,
    pub tenant: TenantId,
    pub number: String,
    /// The TIFF `txfax` reads, relative to the fax directory.
    pub tiff: String,
    pub pages: i64,
    pub attempts: i64,
    pub token: String,
    /// The UUID of the try's call (chosen by the runner before it dials; not stored).
    pub call_uuid: String,
}

/// What [`Store::start_fax_try`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    Started,
    /// No longer queued: not this runner's to try.
    Gone,
    /// Its campaign has its most faxes under way, or is not running.
    Held,
}

/// How one try to send a fax ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Tried {
    /// spandsp sent every page.
    Sent {
        pages: i64,
        result_code: Option<i64>,
        result_text: String,
        remote_station: String,
        rate: Option<i64>,
        ecm: Option<bool>,
        t38: Option<String>,
        call_uuid: String,
    },
    /// It did not: why (spandsp's result, the call's cause); `retry` when another try may do better.
    Failed { reason: String, result_code: Option<i64>, retry: bool, call_uuid: String },
    /// Never dialed, and never will be (the number was put on the do-not-contact list
    /// after the fax was queued): failed, and a campaign's recipient skipped.
    Refused { reason: String },
}

impl Tried {
    /// Sent, as the switch's mark says (`crate::esl::api::fax_sent`): every page went,
    /// nothing more is known of the far machine.
    pub fn marked_sent(pages: i64, call_uuid: &str) -> Tried {
        Tried::Sent {
            pages,
            result_code: Some(0),
            result_text: "OK (marked sent by the switch)".into(),
            remote_station: String::new(),
            rate: None,
            ecm: None,
            t38: None,
            call_uuid: call_uuid.to_string(),
        }
    }
}

/// The campaign recipient whose fax `fax` is (if any) takes the fax's new state.
fn recipient(tx: &rusqlite::Transaction<'_>, fax: i64, state: &str, reason: &str) -> rusqlite::Result<usize> {
    tx.prepare_cached("UPDATE fax_campaign_recipients SET state = ?2, reason = ?3, updated_at = ?4 WHERE fax_id = ?1")?.execute((
        fax,
        state,
        reason,
        now(),
    ))
}

const JOB_COLUMNS: &str = "id, tenant_id, number, tiff, pages, attempts, token";

fn job(r: &rusqlite::Row<'_>) -> rusqlite::Result<FaxJob> {
    Ok(FaxJob {
        id: r.get(0)?,
        tenant: TenantId(r.get(1)?),
        number: r.get(2)?,
        tiff: r.get(3)?,
        pages: r.get(4)?,
        attempts: r.get(5)?,
        token: r.get(6)?,
        call_uuid: String::new(),
    })
}

impl Store {
    /// Queues a fax to send (its PDF and TIFF already kept); its id.
    pub fn queue_fax(&self, tenant: TenantId, f: &Outgoing) -> Result<i64> {
        self.write(|tx| {
            let at = now();
            tx.prepare_cached(
                "INSERT INTO faxes (tenant_id, direction, status, number, pages, file, created_at, user_id, subject, tiff, next_attempt_at)
                 VALUES (?1, 'out', 'queued', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?5)",
            )?
            .execute(rusqlite::params![tenant.0, f.number, f.pages, f.pdf, at, f.user, f.subject, f.tiff])?;
            Ok(tx.last_insert_rowid())
        })
    }

    /// Faxes due to be tried at `now`, oldest first.
    pub fn due_fax_jobs(&self, now: &str, limit: u32) -> Result<Vec<FaxJob>> {
        let c = self.conn()?;
        let rows = c
            .prepare_cached(&format!(
                "SELECT {JOB_COLUMNS} FROM faxes WHERE status = 'queued' AND next_attempt_at <= ?1 ORDER BY next_attempt_at, id LIMIT ?2"
            ))?
            .query_map((now, limit), job)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// Puts a queued job off until `until`, saying why, without counting a try.
    pub fn put_off_fax(&self, id: i64, until: &str, why: &str) -> Result<bool> {
        let why: String = why.chars().filter(|c| !c.is_control()).take(200).collect();
        self.write(|tx| {
            Ok(tx.execute("UPDATE faxes SET next_attempt_at = ?2, result_text = ?3 WHERE id = ?1 AND status = 'queued'", (id, until, why))? == 1)
        })
    }

    /// Starts a try: queued → sending with `token`, counted, its campaign's recipient
    /// with it. [`Start::Gone`] when the job is no longer queued (another runner, a cancel);
    /// [`Start::Held`] when it is a campaign's whose faxes under way are already its
    /// `max_concurrent`, or whose campaign is not running: counted and checked in this one
    /// write, so no two runners' tries together pass the limit.
    pub fn start_fax_try(&self, id: i64, token: &str, call_uuid: &str) -> Result<Start> {
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE faxes SET status = 'sending', token = ?2, call_uuid = ?3, attempts = attempts + 1, next_attempt_at = NULL
                 WHERE id = ?1 AND status = 'queued' AND (campaign_id IS NULL
                      OR (SELECT COUNT(*) FROM faxes o WHERE o.campaign_id = faxes.campaign_id AND o.status = 'sending')
                         < (SELECT c.max_concurrent FROM fax_campaigns c WHERE c.id = faxes.campaign_id AND c.status = 'running'))",
                (id, token, call_uuid),
            )?;
            if n == 1 {
                tx.execute(
                    "UPDATE fax_campaign_recipients SET state = 'sending', tries = tries + 1, updated_at = ?2 WHERE fax_id = ?1",
                    (id, now()),
                )?;
                return Ok(Start::Started);
            }
            let queued = tx.prepare_cached("SELECT 1 FROM faxes WHERE id = ?1 AND status = 'queued'")?.exists([id])?;
            Ok(if queued { Start::Held } else { Start::Gone })
        })
    }

    /// The job a call says it sends: only while that try is under way.
    pub fn fax_try(&self, id: i64, token: &str) -> Result<Option<FaxJob>> {
        let c = self.conn()?;
        let row = c
            .prepare_cached(&format!("SELECT {JOB_COLUMNS} FROM faxes WHERE id = ?1 AND status = 'sending' AND token = ?2 AND token <> ''"))?
            .query_row((id, token), job)
            .optional()?;
        Ok(row)
    }

    /// Records how try `token` of job `id` ended: sent (its pages charged once, in the same
    /// transaction as the record), or failed — queued again `retry_delay` later while the
    /// tenant's retries last, else failed for good. False when it was not that try's to end
    /// (already ended: a second report changes nothing).
    pub fn end_fax_try(&self, id: i64, token: &str, how: &Tried) -> Result<bool> {
        let ended = self.write(|tx| {
            let row: Option<(i64, i64)> = tx
                .query_row("SELECT tenant_id, attempts FROM faxes WHERE id = ?1 AND status = 'sending' AND token = ?2", (id, token), |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            let Some((tenant, attempts)) = row else { return Ok(None) };
            let at = now();
            match how {
                Tried::Sent { pages, result_code, result_text, remote_station, rate, ecm, t38, call_uuid } => {
                    tx.execute(
                        "UPDATE faxes SET status = 'sent', token = '', pages = ?2, result_code = ?3, result_text = ?4, remote_station = ?5, rate = ?6,
                                          ecm = ?7, call_uuid = ?8, finished_at = ?9, t38 = ?10 WHERE id = ?1",
                        rusqlite::params![id, pages, result_code, result_text, remote_station, rate, ecm, call_uuid, at, t38],
                    )?;
                    // Charged once, with the record that says it was sent.
                    super::ledger::charge_fax_in(tx, TenantId(tenant), &format!("out-{id}"), *pages)?;
                    recipient(tx, id, "sent", "")?;
                    Ok(Some(()))
                }
                Tried::Refused { reason } => {
                    let reason: String = reason.chars().filter(|c| !c.is_control()).take(200).collect();
                    tx.execute(
                        "UPDATE faxes SET status = 'failed', token = '', result_text = ?2, finished_at = ?3 WHERE id = ?1",
                        rusqlite::params![id, reason, at],
                    )?;
                    recipient(tx, id, "skipped", &reason)?;
                    Ok(Some(()))
                }
                Tried::Failed { reason, result_code, retry, call_uuid } => {
                    // A campaign's fax retries as its campaign says, any other as the tenant's settings.
                    let (max_retries, delay): (i64, i64) = tx
                        .query_row(
                            "SELECT COALESCE(f.max_retries, s.max_retries, ?2), COALESCE(f.retry_delay, s.retry_delay, ?3)
                             FROM faxes f LEFT JOIN fax_settings s ON s.tenant_id = f.tenant_id WHERE f.id = ?1",
                            (id, FaxSettings::default().max_retries, FaxSettings::default().retry_delay),
                            |r| Ok((r.get(0)?, r.get(1)?)),
                        )?;
                    let reason: String = reason.chars().filter(|c| !c.is_control()).take(200).collect();
                    // A fax of a campaign cancelled while this try was under way is not tried
                    // again: failed, its recipient skipped like the campaign's others.
                    let cancelled = tx
                        .prepare_cached("SELECT 1 FROM faxes f JOIN fax_campaigns c ON c.id = f.campaign_id WHERE f.id = ?1 AND c.status = 'cancelled'")?
                        .exists([id])?;
                    if cancelled {
                        tx.execute(
                            "UPDATE faxes SET status = 'failed', token = '', result_code = ?2, result_text = ?3, call_uuid = ?4, finished_at = ?5 WHERE id = ?1",
                            rusqlite::params![id, result_code, reason, call_uuid, at],
                        )?;
                        recipient(tx, id, "skipped", "the campaign was cancelled")?;
                    } else if *retry && attempts <= max_retries {
                        let next = (jiff::Timestamp::now() + jiff::SignedDuration::from_secs(delay)).round(jiff::Unit::Second).unwrap_or_else(|_| jiff::Timestamp::now());
                        tx.execute(
                            "UPDATE faxes SET status = 'queued', token = '', result_code = ?2, result_text = ?3, call_uuid = ?4, next_attempt_at = ?5 WHERE id = ?1",
                            rusqlite::params![id, result_code, reason, call_uuid, next.to_string()],
                        )?;
                        recipient(tx, id, "queued", &reason)?;
                    } else {
                        tx.execute(
                            "UPDATE faxes SET status = 'failed', token = '', result_code = ?2, result_text = ?3, call_uuid = ?4, finished_at = ?5 WHERE id = ?1",
                            rusqlite::params![id, result_code, reason, call_uuid, at],
                        )?;
                        recipient(tx, id, "failed", &reason)?;
                    }
                    Ok(Some(()))
                }
            }
        })?;
        Ok(ended.is_some())
    }

    /// Tries under way when switchboard stopped: whatever the switch did with them is not
    /// known, so each is ended as a failure to retry (the tenant's retries still count).
    pub fn interrupted_fax_tries(&self) -> Result<Vec<(i64, String, i64, String)>> {
        let c = self.conn()?;
        let rows = c
            .prepare("SELECT id, token, pages, call_uuid FROM faxes WHERE status = 'sending'")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }
}

impl Store {
    /// Faxes kept longer than their tenant's `retention_days` (finished ones only): their
    /// ids and files, for [`Store::forget_faxes`] once the files are gone.
    pub fn expired_faxes(&self, now: jiff::Timestamp) -> Result<Vec<(i64, String, String)>> {
        let c = self.conn()?;
        let mut out = Vec::new();
        let mut tenants = c.prepare("SELECT t.id, COALESCE(s.retention_days, 90) FROM tenants t LEFT JOIN fax_settings s ON s.tenant_id = t.id")?;
        let rows: Vec<(i64, i64)> = tenants.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
        let mut old = c.prepare_cached(
            "SELECT id, file, tiff FROM faxes WHERE tenant_id = ?1 AND created_at < ?2 AND status IN ('received', 'partial', 'failed', 'sent') LIMIT 1000",
        )?;
        for (tenant, days) in rows {
            let before = now - jiff::SignedDuration::from_hours(24 * days.max(1));
            let before = before.round(jiff::Unit::Second).unwrap_or(before).to_string();
            out.extend(old.query_map((tenant, before), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<rusqlite::Result<Vec<_>>>()?);
        }
        Ok(out)
    }

    /// Removes faxes from the log (their charges and the calls' records stay).
    pub fn forget_faxes(&self, ids: &[i64]) -> Result<usize> {
        self.write(|tx| {
            let mut del = tx.prepare_cached("DELETE FROM faxes WHERE id = ?1")?;
            let mut n = 0;
            for id in ids {
                n += del.execute([id])?;
            }
            Ok(n)
        })
    }
}
