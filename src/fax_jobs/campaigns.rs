//! Bulk fax campaigns, driven: each second, every running campaign inside its sending
//! window gets faxes made for its next recipients, as many as its `max_concurrent` leaves
//! room for (faxes under way or due count against it). Each recipient's fax is made once
//! (the store gives the recipient its fax's id in the same write), then it is a fax like
//! any other: the fax runner tries it ([`super::once`]), within its campaign's limit, and
//! its tries end in the recipient's state. A recipient put on the do-not-contact list after
//! the campaign was made is skipped here; a prepaid tenant with no credit left has its
//! campaigns paused, and resumed when the balance allows.

use std::path::Path;

use tracing::{info, warn};

use crate::store::fax_campaigns::{Due, LiveCampaign};
use crate::store::{Store, StoreError, TenantId};

/// Whether a campaign may send at `now`: None when it may; else when it next may (its
/// start, or the next opening of its window in the tenant's zone `tz`).
pub fn window_opens(c: &LiveCampaign, tz: &str, now: jiff::Timestamp) -> Option<jiff::Timestamp> {
    if let Ok(start) = c.start_at.parse::<jiff::Timestamp>() {
        if start > now {
            return Some(start);
        }
    }
    let zone = jiff::tz::TimeZone::get(tz).unwrap_or(jiff::tz::TimeZone::UTC);
    let here = now.to_zoned(zone.clone());
    let day_ok = |d: jiff::civil::Date| c.window_days.contains(char::from(b'0' + d.weekday().to_monday_one_offset() as u8));
    let minute = i64::from(here.hour()) * 60 + i64::from(here.minute());
    if day_ok(here.date()) && (c.window_start..c.window_end).contains(&minute) {
        return None;
    }
    for ahead in 0..8 {
        let Ok(date) = here.date().checked_add(jiff::Span::new().days(ahead)) else { break };
        if !day_ok(date) {
            continue;
        }
        let at = date.at((c.window_start / 60) as i8, (c.window_start % 60) as i8, 0, 0);
        if let Ok(opens) = at.to_zoned(zone.clone()) {
            if opens.timestamp() > now {
                return Some(opens.timestamp());
            }
        }
    }
    // No day of the week is allowed (refused when the campaign is made): a day later.
    Some(now + jiff::SignedDuration::from_hours(24))
}

/// A document with its cover page: the TIFF to send, the PDF of the same pages, the pages.
pub type Covered = (Vec<u8>, Vec<u8>, i64);

/// A cover page ready to put before a document, for one recipient after another.
pub struct Cover {
    heading: String,
    body: String,
    paper: crate::fax::cover::Paper,
    sender_name: String,
    sender_company: String,
    sender_fax: String,
    zone: jiff::tz::TimeZone,
}

impl Cover {
    /// Cover page `id` of the tenant as `owner` may use it, sent by `user`.
    pub fn load(st: &Store, tenant: TenantId, id: i64, owner: Option<i64>, user: Option<i64>) -> Result<Cover, StoreError> {
        let (heading, body, paper) = st.cover_page(tenant, id, owner)?;
        let (sender_name, sender_company, sender_fax, tz) = st.cover_sender(tenant, user)?;
        Ok(Cover {
            heading,
            body: if body.trim().is_empty() { crate::pbx::merge::SAMPLE.to_string() } else { body },
            paper: crate::fax::cover::Paper::parse(&paper),
            sender_name,
            sender_company,
            sender_fax,
            zone: jiff::tz::TimeZone::get(&tz).unwrap_or(jiff::tz::TimeZone::UTC),
        })
    }

    /// The cover page's PDF for a recipient of a fax of `pages` pages (the cover page not
    /// counted), filled in at `now`.
    pub fn pdf(&self, to: &Due, subject: &str, message: &str, pages: i64, now: jiff::Timestamp) -> Vec<u8> {
        let values = crate::pbx::merge::Values {
            recipient_name: to.name.clone(),
            recipient_company: to.company.clone(),
            recipient_fax: to.number.clone(),
            sender_name: self.sender_name.clone(),
            sender_company: self.sender_company.clone(),
            sender_fax: self.sender_fax.clone(),
            date: now.to_zoned(self.zone.clone()).date().to_string(),
            subject: subject.to_string(),
            message: message.to_string(),
            pages: pages + 1,
        };
        crate::fax::cover::pdf(&values.fill(&self.heading), &values.fill(&self.body), self.paper)
    }

    /// The document's TIFF with this cover page before it: the TIFF, the PDF of the same
    /// pages, the page count.
    pub fn prepend(
        &self,
        to: &Due,
        subject: &str,
        message: &str,
        document_tiff: &[u8],
        now: jiff::Timestamp,
    ) -> Result<(Vec<u8>, Vec<u8>, i64), String> {
        let doc_pages = crate::fax::tiff::read(document_tiff).map(|p| p.len() as i64).unwrap_or(0);
        let cover = self.pdf(to, subject, message, doc_pages, now);
        crate::fax::prepend_cover(&cover, document_tiff).map(|(t, p, n)| (t, p, n as i64))
    }
}

/// The most recipients' faxes one campaign gets made in a pass.
const BATCH: i64 = 50;

/// One pass over the live campaigns; how many recipients' faxes were made.
pub async fn once(store: &Store, fax_dir: &Path, now: jiff::Timestamp) -> usize {
    let (s, dir) = (store.clone(), fax_dir.to_path_buf());
    match tokio::task::spawn_blocking(move || pass(&s, &dir, now)).await {
        Ok(Ok(n)) => n,
        Ok(Err(e)) => {
            warn!(error = %e, "driving the fax campaigns");
            0
        }
        Err(e) => {
            warn!(error = %e, "driving the fax campaigns");
            0
        }
    }
}

fn pass(st: &Store, fax_dir: &Path, now: jiff::Timestamp) -> Result<usize, StoreError> {
    let mut made = 0;
    for c in st.live_campaigns()? {
        match drive(st, fax_dir, &c, now) {
            Ok(n) => made += n,
            Err(e) => warn!(campaign = c.id, error = %e, "a fax campaign"),
        }
    }
    Ok(made)
}

/// One campaign's turn: resumed or paused for credit, completed, or its next recipients'
/// faxes made.
fn drive(st: &Store, fax_dir: &Path, c: &LiveCampaign, now: jiff::Timestamp) -> Result<usize, StoreError> {
    let tenant = st.routing_tenant(c.tenant)?;
    let broke = tenant.prepaid && st.credit(c.tenant)?.available <= 0;
    if c.status != "running" {
        // Paused for credit: resumed once the balance allows.
        if !broke {
            info!(campaign = c.id, "a fax campaign resumed: the tenant has credit again");
            st.campaign_credit(c.id, false)?;
        }
        return Ok(0);
    }
    let (open, left) = st.campaign_load(c.id, &crate::store::now())?;
    if !left {
        if st.complete_campaign(c.id)? {
            info!(campaign = c.id, "a fax campaign completed");
        }
        return Ok(0);
    }
    if window_opens(c, &tenant.timezone, now).is_some() {
        return Ok(0);
    }
    if broke {
        warn!(campaign = c.id, "a fax campaign paused: no credit left (prepaid)");
        st.campaign_credit(c.id, true)?;
        return Ok(0);
    }
    let room = (c.max_concurrent - open).min(BATCH);
    if room <= 0 {
        return Ok(0);
    }
    let next = st.campaign_next(c.id, room)?;
    if next.is_empty() {
        return Ok(0);
    }
    let cover = match c.cover_page_id {
        Some(id) => match Cover::load(st, c.tenant, id, None, c.user) {
            Ok(cover) => Some(cover),
            Err(StoreError::NotFound) => None,
            Err(e) => return Err(e),
        },
        None => None,
    };
    // The campaign's document gone from disk fails each recipient, with why; any other
    // trouble with files (a full disk) leaves the recipients queued for the next pass.
    let gone = [&c.pdf, &c.tiff].into_iter().find(|f| !fax_dir.join(f).exists());
    let document = match (&cover, gone) {
        (Some(_), None) => match super::files::read(fax_dir, &c.tiff) {
            Ok(d) => Some(d),
            Err(why) => {
                warn!(campaign = c.id, %why, "a campaign's document could not be read: tried again next pass");
                return Ok(0);
            }
        },
        _ => None,
    };
    let mut made = 0;
    for to in next {
        if let Some(listed) = st.dnc_listing(c.tenant, &to.number)? {
            st.end_recipient(to.id, "skipped", &format!("on the do-not-contact list ({listed})"))?;
            continue;
        }
        if let Some(f) = gone {
            st.end_recipient(to.id, "failed", &format!("the campaign's document is gone from the fax directory ({f})"))?;
            continue;
        }
        let files = super::files::Files::new(fax_dir, c.tenant, "out");
        let kept: Result<(String, String, i64), String> = match (&cover, &document) {
            (Some(cover), Some(doc)) => match cover.prepend(&to, &c.subject, &c.message, doc, now) {
                Ok((tiff, pdf, pages)) => files.write(&pdf, "pdf").and_then(|p| Ok((p, files.write(&tiff, "tif")?, pages))),
                // Not one this server rendered: no pass will do better.
                Err(why) => {
                    st.end_recipient(to.id, "failed", &format!("the cover page could not be put first: {why}"))?;
                    continue;
                }
            },
            _ => files.link(&c.pdf, "pdf").and_then(|pdf| Ok((pdf, files.link(&c.tiff, "tif")?, c.pages))),
        };
        let (pdf, tiff, pages) = match kept {
            Ok(k) => k,
            Err(why) => {
                warn!(campaign = c.id, recipient = to.id, %why, "a campaign's fax could not be kept: tried again next pass");
                files.remove(&[&format!("{}.pdf", files.name), &format!("{}.tif", files.name)]);
                break;
            }
        };
        let fax = crate::store::fax::Outgoing { user: c.user, number: to.number.clone(), subject: c.subject.clone(), pdf, tiff, pages };
        match st.queue_campaign_fax(c.tenant, c, to.id, &fax) {
            Ok(Some(_)) => made += 1,
            Ok(None) => files.remove(&[&fax.pdf, &fax.tiff]),
            Err(e) => {
                files.remove(&[&fax.pdf, &fax.tiff]);
                return Err(e);
            }
        }
    }
    Ok(made)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn campaign(start: i64, end: i64, days: &str) -> LiveCampaign {
        LiveCampaign {
            id: 1,
            tenant: TenantId(1),
            user: None,
            status: "running".into(),
            paused_reason: String::new(),
            start_at: "2026-01-01T00:00:00Z".into(),
            window_start: start,
            window_end: end,
            window_days: days.into(),
            max_concurrent: 2,
            max_retries: 1,
            retry_delay: 60,
            pdf: String::new(),
            tiff: String::new(),
            pages: 1,
            cover_page_id: None,
            subject: String::new(),
            message: String::new(),
        }
    }

    #[test]
    fn the_window_is_the_tenant_s_local_hours_on_its_days() {
        // Monday 7 December 2026, 14:30 UTC = 09:30 in New York.
        let now: jiff::Timestamp = "2026-12-07T14:30:00Z".parse().unwrap();
        let ny = "America/New_York";
        assert_eq!(window_opens(&campaign(9 * 60, 17 * 60, "12345"), ny, now), None, "09:30 on a Monday");
        // 10:00 New York today.
        assert_eq!(window_opens(&campaign(10 * 60, 17 * 60, "12345"), ny, now), Some("2026-12-07T15:00:00Z".parse().unwrap()));
        // Closed at 09:00: tomorrow 08:00.
        assert_eq!(window_opens(&campaign(8 * 60, 9 * 60, "12345"), ny, now), Some("2026-12-08T13:00:00Z".parse().unwrap()));
        // Weekends only: Saturday 12 December.
        assert_eq!(window_opens(&campaign(0, 1440, "67"), ny, now), Some("2026-12-12T05:00:00Z".parse().unwrap()));
        // Not started yet.
        let mut later = campaign(0, 1440, "1234567");
        later.start_at = "2026-12-24T00:00:00Z".into();
        assert_eq!(window_opens(&later, ny, now), Some("2026-12-24T00:00:00Z".parse().unwrap()));
    }
}
