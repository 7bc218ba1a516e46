//! Bulk fax campaigns' SQL: a campaign, its recipients and where each is, and the fax jobs
//! the runner makes of them one at a time (`crate::fax_jobs::campaigns`). Every state lives
//! here, so a campaign survives a `kill -9`: a recipient's fax is made once (its `fax_id`),
//! and the fax's own tries are the fax runner's (a try is started and ended in one write
//! each, with the recipient's state beside it).

use rusqlite::OptionalExtension;
use serde_json::json;

use super::{now, Result, Store, StoreError, TenantId};

/// One recipient asked for: a contact of a group, or a row of an uploaded list.
#[derive(Debug, Clone, Default)]
pub struct NewRecipient {
    pub contact_id: Option<i64>,
    pub name: String,
    pub company: String,
    pub number: String,
}

/// A campaign to make.
#[derive(Debug, Clone, Default)]
pub struct NewCampaign {
    pub user: Option<i64>,
    pub name: String,
    pub document_name: String,
    /// The campaign's own links to the document's files (under the fax directory).
    pub pdf: String,
    pub tiff: String,
    pub pages: i64,
    pub cover_page_id: Option<i64>,
    pub subject: String,
    pub message: String,
    pub start_at: String,
    pub window_start: i64,
    pub window_end: i64,
    pub window_days: String,
    pub max_concurrent: i64,
    pub max_retries: i64,
    pub retry_delay: i64,
    /// The contact groups whose members are recipients.
    pub groups: Vec<i64>,
    /// Recipients of an uploaded list.
    pub recipients: Vec<NewRecipient>,
}

/// A campaign the runner drives (running or paused).
#[derive(Debug, Clone)]
pub struct LiveCampaign {
    pub id: i64,
    pub tenant: TenantId,
    pub user: Option<i64>,
    pub status: String,
    pub paused_reason: String,
    pub start_at: String,
    pub window_start: i64,
    pub window_end: i64,
    pub window_days: String,
    pub max_concurrent: i64,
    pub max_retries: i64,
    pub retry_delay: i64,
    pub pdf: String,
    pub tiff: String,
    pub pages: i64,
    pub cover_page_id: Option<i64>,
    pub subject: String,
    pub message: String,
}

/// A recipient the runner is to fax next.
#[derive(Debug, Clone)]
pub struct Due {
    pub id: i64,
    pub name: String,
    pub company: String,
    pub number: String,
}

/// Why a paused campaign waits: its credit (resumed by the runner when the balance allows),
/// as opposed to a user's pause (resumed by a user).
pub const PAUSED_FOR_CREDIT: &str = "no credit left (prepaid): resumes when the balance allows";

const COUNTS: &str = "(SELECT COUNT(*) FROM fax_campaign_recipients r WHERE r.campaign_id = c.id),
     (SELECT COUNT(*) FROM fax_campaign_recipients r WHERE r.campaign_id = c.id AND r.state = 'queued'),
     (SELECT COUNT(*) FROM fax_campaign_recipients r WHERE r.campaign_id = c.id AND r.state = 'sending'),
     (SELECT COUNT(*) FROM fax_campaign_recipients r WHERE r.campaign_id = c.id AND r.state = 'sent'),
     (SELECT COUNT(*) FROM fax_campaign_recipients r WHERE r.campaign_id = c.id AND r.state = 'failed'),
     (SELECT COUNT(*) FROM fax_campaign_recipients r WHERE r.campaign_id = c.id AND r.state = 'skipped')";

fn columns() -> String {
    format!(
        "c.id, c.tenant_id, c.user_id, c.name, c.document_name, c.pages, c.cover_page_id, c.subject, c.message, c.status, c.paused_reason, c.start_at,
         c.window_start, c.window_end, c.window_days, c.max_concurrent, c.max_retries, c.retry_delay, c.created_at, c.finished_at, {COUNTS}"
    )
}

fn campaign_json(r: &rusqlite::Row<'_>) -> rusqlite::Result<serde_json::Value> {
    let n = |i: usize| r.get::<_, i64>(i);
    let (total, queued, sending, sent, failed, skipped) = (n(20)?, n(21)?, n(22)?, n(23)?, n(24)?, n(25)?);
    Ok(json!({
        "id": r.get::<_, i64>(0)?, "tenant_id": r.get::<_, i64>(1)?, "user_id": r.get::<_, Option<i64>>(2)?, "name": r.get::<_, String>(3)?,
        "document_name": r.get::<_, String>(4)?, "pages": r.get::<_, i64>(5)?, "cover_page_id": r.get::<_, Option<i64>>(6)?,
        "subject": r.get::<_, String>(7)?, "message": r.get::<_, String>(8)?, "status": r.get::<_, String>(9)?,
        "paused_reason": r.get::<_, String>(10)?, "start_at": r.get::<_, String>(11)?,
        "window_start": hhmm(r.get(12)?), "window_end": hhmm(r.get(13)?), "window_days": r.get::<_, String>(14)?,
        "max_concurrent": r.get::<_, i64>(15)?, "max_retries": r.get::<_, i64>(16)?, "retry_delay": r.get::<_, i64>(17)?,
        "created_at": r.get::<_, String>(18)?, "finished_at": r.get::<_, Option<String>>(19)?,
        "counts": { "total": total, "queued": queued, "sending": sending, "sent": sent, "failed": failed, "skipped": skipped,
                    "done": sent + failed + skipped },
    }))
}

const LIVE_COLUMNS: &str = "c.id, c.tenant_id, c.user_id, c.status, c.paused_reason, c.start_at, c.window_start, c.window_end, c.window_days, \
     c.max_concurrent, c.max_retries, c.retry_delay, c.pdf, c.tiff, c.pages, c.cover_page_id, c.subject, c.message";

fn live_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<LiveCampaign> {
    Ok(LiveCampaign {
        id: r.get(0)?,
        tenant: TenantId(r.get(1)?),
        user: r.get(2)?,
        status: r.get(3)?,
        paused_reason: r.get(4)?,
        start_at: r.get(5)?,
        window_start: r.get(6)?,
        window_end: r.get(7)?,
        window_days: r.get(8)?,
        max_concurrent: r.get(9)?,
        max_retries: r.get(10)?,
        retry_delay: r.get(11)?,
        pdf: r.get(12)?,
        tiff: r.get(13)?,
        pages: r.get(14)?,
        cover_page_id: r.get(15)?,
        subject: r.get(16)?,
        message: r.get(17)?,
    })
}

/// Minutes after midnight as `HH:MM` (1440 is `24:00`, the day's end).
pub fn hhmm(minutes: i64) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

const RECIPIENT_COLUMNS: &str = "id, contact_id, name, company, number, state, reason, tries, fax_id, updated_at";

fn recipient_json(r: &rusqlite::Row<'_>) -> rusqlite::Result<serde_json::Value> {
    Ok(json!({
        "id": r.get::<_, i64>(0)?, "contact_id": r.get::<_, Option<i64>>(1)?, "name": r.get::<_, String>(2)?, "company": r.get::<_, String>(3)?,
        "number": r.get::<_, String>(4)?, "state": r.get::<_, String>(5)?, "reason": r.get::<_, String>(6)?, "tries": r.get::<_, i64>(7)?,
        "fax_id": r.get::<_, Option<i64>>(8)?, "updated_at": r.get::<_, String>(9)?,
    }))
}

/// What a campaign's creation did with the recipients asked for.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Made {
    pub id: i64,
    pub queued: usize,
    pub skipped: usize,
}

/// The most recipients one campaign may have.
pub const MAX_RECIPIENTS: usize = 100_000;

impl Store {
    /// Makes a campaign and its recipients, in one transaction: the groups' members (those
    /// `owner` may see, when given) and the uploaded rows, each queued, or skipped with why
    /// (not a dialable E.164 number, twice in the campaign, on the do-not-contact list).
    pub fn create_campaign(&self, tenant: TenantId, owner: Option<i64>, c: &NewCampaign) -> Result<Made> {
        self.write(|tx| {
            let mut asked: Vec<NewRecipient> = Vec::new();
            {
                let mut members = tx.prepare_cached(
                    "SELECT k.id, k.name, k.company, k.fax FROM fax_groups g JOIN fax_group_members m ON m.parent_id = g.id
                     JOIN fax_contacts k ON k.id = m.contact_id
                     WHERE g.id = ?1 AND g.tenant_id = ?2 AND (?3 IS NULL OR g.owner_user_id = ?3) ORDER BY m.position",
                )?;
                let mut group_exists =
                    tx.prepare_cached("SELECT 1 FROM fax_groups WHERE id = ?1 AND tenant_id = ?2 AND (?3 IS NULL OR owner_user_id = ?3)")?;
                for g in &c.groups {
                    if !group_exists.exists((g, tenant.0, owner))? {
                        return Err(StoreError::invalid("groups", format!("no contact group {g} of yours")));
                    }
                    let rows = members.query_map((g, tenant.0, owner), |r| {
                        Ok(NewRecipient { contact_id: Some(r.get(0)?), name: r.get(1)?, company: r.get(2)?, number: r.get(3)? })
                    })?;
                    for row in rows {
                        asked.push(row?);
                    }
                }
            }
            asked.extend(c.recipients.iter().cloned());
            if asked.is_empty() {
                return Err(StoreError::invalid("recipients", "no recipients: choose a contact group or upload a list"));
            }
            if asked.len() > MAX_RECIPIENTS {
                return Err(StoreError::invalid("recipients", format!("at most {MAX_RECIPIENTS} recipients a campaign")));
            }
            let at = now();
            tx.prepare_cached(
                "INSERT INTO fax_campaigns (tenant_id, user_id, name, document_name, pdf, tiff, pages, cover_page_id, subject, message, status,
                                            start_at, window_start, window_end, window_days, max_concurrent, max_retries, retry_delay, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'running', ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
            )?
            .execute(rusqlite::params![
                tenant.0,
                c.user,
                c.name,
                c.document_name,
                c.pdf,
                c.tiff,
                c.pages,
                c.cover_page_id,
                c.subject,
                c.message,
                c.start_at,
                c.window_start,
                c.window_end,
                c.window_days,
                c.max_concurrent,
                c.max_retries,
                c.retry_delay,
                at
            ])?;
            let id = tx.last_insert_rowid();
            let mut add = tx.prepare_cached(
                "INSERT INTO fax_campaign_recipients (campaign_id, contact_id, name, company, number, state, reason, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            let mut seen = std::collections::HashSet::new();
            let (mut queued, mut skipped) = (0, 0);
            for r in asked {
                // The number as it is dialed (spaces, dashes, brackets dropped, 00 as +): what
                // the duplicate and do-not-contact checks and the fax see.
                let (number, why) = match crate::pbx::dial::e164(r.number.trim()) {
                    Err(e) => (r.number.trim().to_string(), Some(format!("invalid number: {e}"))),
                    Ok(n) if !seen.insert(n.clone()) => (n, Some("duplicate: already a recipient of this campaign".to_string())),
                    Ok(n) => {
                        let listed = super::fax_dnc::listing(tx, tenant, &n)?
                            .map(|(l, prefix)| format!("on the do-not-contact list ({})", if prefix { format!("numbers beginning {l}") } else { l }));
                        (n, listed)
                    }
                };
                let name: String = r.name.chars().filter(|c| !c.is_control()).take(200).collect();
                let company: String = r.company.chars().filter(|c| !c.is_control()).take(200).collect();
                let number: String = number.chars().filter(|c| !c.is_control()).take(40).collect();
                let state = if why.is_some() { "skipped" } else { "queued" };
                add.execute(rusqlite::params![id, r.contact_id, name, company, number, state, why.as_deref().unwrap_or(""), at])?;
                if why.is_some() {
                    skipped += 1;
                } else {
                    queued += 1;
                }
            }
            Ok(Made { id, queued, skipped })
        })
    }

    /// A tenant's campaigns, newest first, with their recipients' counts; with `owner`,
    /// only the ones that user made.
    pub fn campaigns(&self, tenant: TenantId, owner: Option<i64>, page: u32, per_page: u32) -> Result<super::Page> {
        let c = self.conn()?;
        let mut w = super::Where::new();
        w.and("c.tenant_id =", rusqlite::types::Value::Integer(tenant.0));
        if let Some(user) = owner {
            w.and("c.user_id =", rusqlite::types::Value::Integer(user));
        }
        w.page(&c, "fax_campaigns c", &columns(), "c.created_at DESC, c.id DESC", page, per_page.clamp(1, 500), campaign_json)
    }

    /// One campaign, with its counts.
    pub fn campaign(&self, tenant: TenantId, id: i64, owner: Option<i64>) -> Result<serde_json::Value> {
        let c = self.conn()?;
        let row = c
            .prepare_cached(&format!(
                "SELECT {} FROM fax_campaigns c WHERE c.id = ?1 AND c.tenant_id = ?2 AND (?3 IS NULL OR c.user_id = ?3)",
                columns()
            ))?
            .query_row((id, tenant.0, owner), campaign_json)
            .optional()?;
        row.ok_or(StoreError::NotFound)
    }

    /// A campaign's recipients in the order they were added; `state` filters.
    pub fn campaign_recipients(
        &self,
        tenant: TenantId,
        id: i64,
        owner: Option<i64>,
        state: Option<&str>,
        page: u32,
        per_page: u32,
    ) -> Result<super::Page> {
        self.campaign(tenant, id, owner)?;
        let c = self.conn()?;
        let mut w = super::Where::new();
        w.and("campaign_id =", rusqlite::types::Value::Integer(id));
        if let Some(s) = state {
            if !["queued", "sending", "sent", "failed", "skipped"].contains(&s) {
                return Err(StoreError::invalid("state", "queued, sending, sent, failed or skipped"));
            }
            w.and("state =", rusqlite::types::Value::Text(s.to_string()));
        }
        w.page(&c, "fax_campaign_recipients", RECIPIENT_COLUMNS, "id", page, per_page.clamp(1, 1000), recipient_json)
    }

    /// Every recipient of a campaign with how it ended (for the results CSV), in order.
    pub fn campaign_results(&self, tenant: TenantId, id: i64, owner: Option<i64>, each: &mut dyn FnMut(&serde_json::Value)) -> Result<()> {
        self.campaign(tenant, id, owner)?;
        let c = self.conn()?;
        let mut q = c.prepare(&format!("SELECT {RECIPIENT_COLUMNS} FROM fax_campaign_recipients WHERE campaign_id = ?1 ORDER BY id"))?;
        let mut rows = q.query([id])?;
        while let Some(r) = rows.next()? {
            each(&recipient_json(r)?);
        }
        Ok(())
    }

    /// Pause (`running` → `paused`), resume (`paused` → `running`) or cancel (→ `cancelled`:
    /// its queued recipients skipped, their waiting faxes failed; a fax being sent finishes).
    /// The campaign afterwards; a conflict when it is not in a state to do that.
    pub fn campaign_action(&self, tenant: TenantId, id: i64, owner: Option<i64>, action: &str) -> Result<serde_json::Value> {
        self.write(|tx| {
            let status: Option<String> = tx
                .query_row(
                    "SELECT status FROM fax_campaigns WHERE id = ?1 AND tenant_id = ?2 AND (?3 IS NULL OR user_id = ?3)",
                    (id, tenant.0, owner),
                    |r| r.get(0),
                )
                .optional()?;
            let status = status.ok_or(StoreError::NotFound)?;
            let refuse = |m: String| Err(StoreError::Conflict { field: None, message: m });
            match (action, status.as_str()) {
                ("pause", "running") => {
                    tx.execute("UPDATE fax_campaigns SET status = 'paused', paused_reason = 'paused by a user' WHERE id = ?1", [id])?;
                }
                ("resume", "paused") => {
                    tx.execute("UPDATE fax_campaigns SET status = 'running', paused_reason = '' WHERE id = ?1", [id])?;
                    // Its faxes put off while it was paused are due again now.
                    tx.execute(
                        "UPDATE faxes SET next_attempt_at = ?2 WHERE campaign_id = ?1 AND status = 'queued' AND next_attempt_at > ?2",
                        (id, now()),
                    )?;
                }
                ("cancel", "running" | "paused") => {
                    let at = now();
                    tx.execute("UPDATE fax_campaigns SET status = 'cancelled', paused_reason = '', finished_at = ?2 WHERE id = ?1", (id, &at))?;
                    tx.execute(
                        "UPDATE faxes SET status = 'failed', result_text = 'the campaign was cancelled', finished_at = ?2, next_attempt_at = NULL
                         WHERE campaign_id = ?1 AND status = 'queued'",
                        (id, &at),
                    )?;
                    tx.execute(
                        "UPDATE fax_campaign_recipients SET state = 'skipped', reason = 'the campaign was cancelled', updated_at = ?2
                         WHERE campaign_id = ?1 AND state = 'queued'",
                        (id, &at),
                    )?;
                }
                ("pause" | "resume" | "cancel", s) => return refuse(format!("the campaign is {s}: it cannot be {action}d")),
                _ => return Err(StoreError::invalid("action", "pause, resume or cancel")),
            }
            Ok(())
        })?;
        self.campaign(tenant, id, owner)
    }

    /// Campaigns the runner drives: running, or paused for credit.
    pub fn live_campaigns(&self) -> Result<Vec<LiveCampaign>> {
        let c = self.conn()?;
        let rows = c
            .prepare_cached(&format!("SELECT {LIVE_COLUMNS} FROM fax_campaigns c WHERE c.status = 'running' OR (c.status = 'paused' AND c.paused_reason = ?1) ORDER BY c.id"))?
            .query_map([PAUSED_FOR_CREDIT], live_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// The campaign's faxes under way, due at `now`, or never tried yet (put off at a full
    /// cap: they count, or a campaign waiting at its tenant's cap would make its whole list
    /// into faxes meanwhile) — what counts against its `max_concurrent` before another
    /// recipient's fax is made — and whether any recipient
    /// is still to be tried (queued or sending).
    pub fn campaign_load(&self, id: i64, now: &str) -> Result<(i64, bool)> {
        let c = self.conn()?;
        let open: i64 = c
            .prepare_cached(
                "SELECT COUNT(*) FROM faxes WHERE campaign_id = ?1 AND (status = 'sending' OR (status = 'queued' AND (next_attempt_at <= ?2 OR attempts = 0)))",
            )?
            .query_row((id, now), |r| r.get(0))?;
        let left = c
            .prepare_cached("SELECT 1 FROM fax_campaign_recipients WHERE campaign_id = ?1 AND state IN ('queued', 'sending') LIMIT 1")?
            .exists([id])?;
        Ok((open, left))
    }

    /// Up to `n` recipients whose fax is still to be made, in order.
    pub fn campaign_next(&self, id: i64, n: i64) -> Result<Vec<Due>> {
        let c = self.conn()?;
        let rows = c
            .prepare_cached(
                "SELECT id, name, company, number FROM fax_campaign_recipients WHERE campaign_id = ?1 AND state = 'queued' AND fax_id IS NULL
                 ORDER BY id LIMIT ?2",
            )?
            .query_map((id, n), |r| Ok(Due { id: r.get(0)?, name: r.get(1)?, company: r.get(2)?, number: r.get(3)? }))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// Queues a recipient's fax (due now, with the campaign's retries), once: the recipient
    /// gets its id in the same write. None when the recipient already has one or is no
    /// longer queued (a cancel).
    pub fn queue_campaign_fax(&self, tenant: TenantId, campaign: &LiveCampaign, recipient: i64, f: &super::fax::Outgoing) -> Result<Option<i64>> {
        self.write(|tx| {
            let free: bool = tx
                .prepare_cached("SELECT 1 FROM fax_campaign_recipients WHERE id = ?1 AND campaign_id = ?2 AND state = 'queued' AND fax_id IS NULL")?
                .exists((recipient, campaign.id))?;
            if !free {
                return Ok(None);
            }
            let at = now();
            tx.prepare_cached(
                "INSERT INTO faxes (tenant_id, direction, status, number, pages, file, created_at, user_id, subject, tiff, next_attempt_at,
                                    campaign_id, recipient_id, max_retries, retry_delay)
                 VALUES (?1, 'out', 'queued', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?5, ?9, ?10, ?11, ?12)",
            )?
            .execute(rusqlite::params![
                tenant.0,
                f.number,
                f.pages,
                f.pdf,
                at,
                f.user,
                f.subject,
                f.tiff,
                campaign.id,
                recipient,
                campaign.max_retries,
                campaign.retry_delay
            ])?;
            let fax = tx.last_insert_rowid();
            tx.execute("UPDATE fax_campaign_recipients SET fax_id = ?2, updated_at = ?3 WHERE id = ?1", (recipient, fax, &at))?;
            Ok(Some(fax))
        })
    }

    /// A recipient the runner will not fax (listed since the campaign was made, a number no
    /// route dials …): skipped or failed, with why.
    pub fn end_recipient(&self, recipient: i64, state: &str, reason: &str) -> Result<()> {
        let reason: String = reason.chars().filter(|c| !c.is_control()).take(200).collect();
        self.write(|tx| {
            tx.execute(
                "UPDATE fax_campaign_recipients SET state = ?2, reason = ?3, updated_at = ?4 WHERE id = ?1 AND state = 'queued'",
                (recipient, state, reason, now()),
            )?;
            Ok(())
        })
    }

    /// Pauses a running campaign for credit, or resumes one that was (`pause` false).
    pub fn campaign_credit(&self, id: i64, pause: bool) -> Result<()> {
        self.write(|tx| {
            if pause {
                tx.execute(
                    "UPDATE fax_campaigns SET status = 'paused', paused_reason = ?2 WHERE id = ?1 AND status = 'running'",
                    (id, PAUSED_FOR_CREDIT),
                )?;
            } else {
                tx.execute(
                    "UPDATE fax_campaigns SET status = 'running', paused_reason = '' WHERE id = ?1 AND status = 'paused' AND paused_reason = ?2",
                    (id, PAUSED_FOR_CREDIT),
                )?;
                tx.execute(
                    "UPDATE faxes SET next_attempt_at = ?2 WHERE campaign_id = ?1 AND status = 'queued' AND next_attempt_at > ?2",
                    (id, now()),
                )?;
            }
            Ok(())
        })
    }

    /// Marks a running campaign completed once no recipient is queued or sending.
    pub fn complete_campaign(&self, id: i64) -> Result<bool> {
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE fax_campaigns SET status = 'completed', finished_at = ?2 WHERE id = ?1 AND status = 'running'
                 AND NOT EXISTS (SELECT 1 FROM fax_campaign_recipients WHERE campaign_id = ?1 AND state IN ('queued', 'sending'))",
                (id, now()),
            )?;
            Ok(n == 1)
        })
    }

    /// What a fax of a campaign may do now: whether its campaign is running, and its window
    /// and the tenant's zone (None for a fax of no campaign). One read: it is asked for
    /// every due fax.
    pub fn campaign_of_fax(&self, fax: i64) -> Result<Option<LiveCampaign>> {
        let c = self.conn()?;
        let row = c
            .prepare_cached(&format!("SELECT {LIVE_COLUMNS} FROM faxes f JOIN fax_campaigns c ON c.id = f.campaign_id WHERE f.id = ?1"))?
            .query_row([fax], live_row)
            .optional()?;
        Ok(row)
    }

    /// What a cover page sent by `user` of `tenant` says about its sender: the user's name,
    /// the tenant's company, the number faxes are sent from, the tenant's time zone.
    pub fn cover_sender(&self, tenant: TenantId, user: Option<i64>) -> Result<(String, String, String, String)> {
        let c = self.conn()?;
        let (company, tz): (String, String) =
            c.prepare_cached("SELECT company, timezone FROM tenants WHERE id = ?1")?.query_row([tenant.0], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let name: Option<String> = match user {
            Some(u) => c.prepare_cached("SELECT name FROM users WHERE id = ?1")?.query_row([u], |r| r.get(0)).optional()?,
            None => None,
        };
        let fax = self.fax_settings(tenant)?.caller_id;
        Ok((name.unwrap_or_default(), company, fax, tz))
    }

    /// A cover page of the tenant (`owner`: one that user may use: their own or the
    /// tenant's, made by an admin): heading, body, paper.
    pub fn cover_page(&self, tenant: TenantId, id: i64, owner: Option<i64>) -> Result<(String, String, String)> {
        let c = self.conn()?;
        let row = c
            .prepare_cached(
                "SELECT heading, body, paper FROM fax_cover_pages WHERE id = ?1 AND tenant_id = ?2
                 AND (?3 IS NULL OR owner_user_id IS NULL OR owner_user_id = ?3)",
            )?
            .query_row((id, tenant.0, owner), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        row.ok_or(StoreError::NotFound)
    }

    /// The contact kept for a number, if any: name and company (a cover page's recipient).
    /// With `owner`, only that user's own contact.
    pub fn contact_by_fax(&self, tenant: TenantId, number: &str, owner: Option<i64>) -> Result<Option<(String, String)>> {
        let c = self.conn()?;
        let row = c
            .prepare_cached("SELECT name, company FROM fax_contacts WHERE tenant_id = ?1 AND fax = ?2 AND (?3 IS NULL OR owner_user_id = ?3)")?
            .query_row((tenant.0, number, owner), |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        Ok(row)
    }
}
