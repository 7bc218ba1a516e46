//! Packages, subscriptions and quotas: what a tenant may create and use.

use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;

use super::{Result, Store, StoreError, TenantId};

/// A countable kind of object a package limits. The name is the package column and the
/// allocation key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Slot {
    Extensions,
    Devices,
    RingGroups,
    CallQueues,
    IvrMenus,
    Voicemails,
    Conferences,
    MusicOnHold,
}

impl Slot {
    pub const ALL: [Slot; 8] =
        [Slot::Extensions, Slot::Devices, Slot::RingGroups, Slot::CallQueues, Slot::IvrMenus, Slot::Voicemails, Slot::Conferences, Slot::MusicOnHold];

    pub fn name(self) -> &'static str {
        match self {
            Slot::Extensions => "extensions",
            Slot::Devices => "devices",
            Slot::RingGroups => "ring_groups",
            Slot::CallQueues => "call_queues",
            Slot::IvrMenus => "ivr_menus",
            Slot::Voicemails => "voicemails",
            Slot::Conferences => "conferences",
            Slot::MusicOnHold => "music_on_hold",
        }
    }
    pub fn title(self) -> &'static str {
        match self {
            Slot::Extensions => "extensions",
            Slot::Devices => "devices",
            Slot::RingGroups => "ring groups",
            Slot::CallQueues => "call queues",
            Slot::IvrMenus => "IVR menus",
            Slot::Voicemails => "voicemail boxes",
            Slot::Conferences => "conference rooms",
            Slot::MusicOnHold => "music-on-hold classes",
        }
    }
    /// The table whose rows this slot counts.
    pub fn table(self) -> &'static str {
        match self {
            Slot::Extensions => "extensions",
            Slot::Devices => "devices",
            Slot::RingGroups => "ring_groups",
            Slot::CallQueues => "call_queues",
            Slot::IvrMenus => "ivr_menus",
            Slot::Voicemails => "voicemail_boxes",
            Slot::Conferences => "conferences",
            Slot::MusicOnHold => "moh_classes",
        }
    }
    pub fn parse(s: &str) -> Option<Slot> {
        Slot::ALL.into_iter().find(|x| x.name() == s)
    }
}

/// The active package's name and its limit for `slot`; None without an active subscription
/// (billing not set up for the tenant: nothing to enforce).
pub fn package_limit(c: &Connection, tenant: TenantId, slot: Slot) -> Result<Option<(String, i64)>> {
    let sql = format!(
        "SELECT p.name, p.{} FROM subscriptions s JOIN packages p ON p.id = s.package_id WHERE s.tenant_id = ?1 AND s.active = 1",
        slot.name()
    );
    Ok(c.query_row(&sql, [tenant.0], |r| Ok((r.get(0)?, r.get(1)?))).optional()?)
}

/// How many `slot` objects the tenant has (only those `owner` created, when given).
pub fn slot_used(c: &Connection, tenant: TenantId, slot: Slot, owner: Option<i64>) -> Result<i64> {
    Ok(match owner {
        None => c.query_row(&format!("SELECT COUNT(*) FROM {} WHERE tenant_id = ?1", slot.table()), [tenant.0], |r| r.get(0))?,
        Some(u) => {
            c.query_row(&format!("SELECT COUNT(*) FROM {} WHERE tenant_id = ?1 AND owner_user_id = ?2", slot.table()), (tenant.0, u), |r| r.get(0))?
        }
    })
}

#[derive(Debug, Serialize)]
pub struct Subscription {
    pub id: i64,
    pub tenant_id: i64,
    pub package_id: i64,
    pub package: String,
    pub active: bool,
    pub started_at: String,
    pub ended_at: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct SlotUsage {
    pub slot: Slot,
    pub used: i64,
    /// None: no active package.
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize)]
pub struct UsageQuota {
    pub kind: String,
    pub allocated: i64,
    pub used: i64,
    pub period_start: String,
}

/// One transaction limit's use in its current period.
#[derive(Debug, Serialize)]
pub struct LimitUse {
    pub used: i64,
    /// -1: unlimited.
    pub limit: i64,
}

/// The transaction limits' use today and this month, in the tenant's time zone.
#[derive(Debug, Serialize)]
pub struct Transactions {
    pub daily: LimitUse,
    pub monthly: LimitUse,
}

#[derive(Debug, Serialize)]
pub struct Quota {
    pub tenant_id: i64,
    pub package: Option<String>,
    pub slots: Vec<SlotUsage>,
    pub usage: Vec<UsageQuota>,
    pub transactions: Transactions,
}

fn subscription_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Subscription> {
    Ok(Subscription {
        id: r.get(0)?,
        tenant_id: r.get(1)?,
        package_id: r.get(2)?,
        package: r.get(3)?,
        active: r.get::<_, i64>(4)? != 0,
        started_at: r.get(5)?,
        ended_at: r.get(6)?,
    })
}

const SUBSCRIPTION_COLS: &str = "s.id, s.tenant_id, s.package_id, p.name, s.active, s.started_at, s.ended_at";

impl Store {
    /// Makes `package` the tenant's active subscription: the old one ends and the quota rows
    /// are seeded from the new package in the same transaction (usage so far is kept).
    pub fn subscribe(&self, tenant: TenantId, package: i64) -> Result<Subscription> {
        self.write(|tx| {
            let pkg: Option<(i64, i64, i64)> = tx
                .query_row("SELECT voice_minutes, fax_pages, conference_minutes FROM packages WHERE id = ?1", [package], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .optional()?;
            let (voice, fax, conf) = pkg.ok_or_else(|| StoreError::invalid("package_id", "no such package"))?;
            let now = super::now();
            tx.execute("UPDATE subscriptions SET active = 0, ended_at = ?2 WHERE tenant_id = ?1 AND active = 1", (tenant.0, &now))?;
            tx.execute("INSERT INTO subscriptions (tenant_id, package_id, active, started_at) VALUES (?1, ?2, 1, ?3)", (tenant.0, package, &now))
                .map_err(|e| super::resource::constraint(e, "subscription"))?;
            let id = tx.last_insert_rowid();
            for (kind, allocated) in [("voice_minutes", voice), ("fax_pages", fax), ("conference_minutes", conf)] {
                tx.execute(
                    "INSERT INTO quotas (tenant_id, kind, allocated, used, period_start) VALUES (?1, ?2, ?3, 0, ?4)
                     ON CONFLICT (tenant_id, kind) DO UPDATE SET allocated = excluded.allocated",
                    (tenant.0, kind, allocated, &now),
                )?;
            }
            Ok(tx.query_row(
                &format!("SELECT {SUBSCRIPTION_COLS} FROM subscriptions s JOIN packages p ON p.id = s.package_id WHERE s.id = ?1"),
                [id],
                subscription_row,
            )?)
        })
    }

    /// Subscriptions, newest first; one tenant's or all.
    pub fn subscriptions(&self, tenant: Option<TenantId>) -> Result<Vec<Subscription>> {
        let c = self.conn()?;
        let sql = format!(
            "SELECT {SUBSCRIPTION_COLS} FROM subscriptions s JOIN packages p ON p.id = s.package_id WHERE (?1 IS NULL OR s.tenant_id = ?1) ORDER BY s.id DESC"
        );
        let rows = c.prepare(&sql)?.query_map([tenant.map(|t| t.0)], subscription_row)?.collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// Slot usage against the package, the period's usage counters, and the transaction
    /// limits' use today and this month.
    pub fn quota(&self, tenant: TenantId) -> Result<Quota> {
        let c = self.conn()?;
        // The tenant first: one that does not exist is not found, not a query without rows.
        let (day, tz, daily, monthly): (i64, String, i64, i64) = c
            .query_row("SELECT billing_day, timezone, daily_limit, monthly_limit FROM tenants WHERE id = ?1", [tenant.0], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()?
            .ok_or(StoreError::NotFound)?;
        let package: Option<String> = c
            .query_row(
                "SELECT p.name FROM subscriptions s JOIN packages p ON p.id = s.package_id WHERE s.tenant_id = ?1 AND s.active = 1",
                [tenant.0],
                |r| r.get(0),
            )
            .optional()?;
        let mut slots = Vec::new();
        for slot in Slot::ALL {
            let used = slot_used(&c, tenant, slot, None)?;
            slots.push(SlotUsage { slot, used, limit: package_limit(&c, tenant, slot)?.map(|(_, l)| l) });
        }
        let now = jiff::Timestamp::now();
        let current = crate::billing::period::start(day, &tz, now).to_string();
        let mut usage: Vec<UsageQuota> = c
            .prepare("SELECT kind, allocated, used, period_start FROM quotas WHERE tenant_id = ?1 ORDER BY kind")?
            .query_map([tenant.0], |r| Ok(UsageQuota { kind: r.get(0)?, allocated: r.get(1)?, used: r.get(2)?, period_start: r.get(3)? }))?
            .collect::<rusqlite::Result<_>>()?;
        // Counters restart lazily, when the first use of a new period is counted; until then
        // the last period's count is not this period's.
        for u in usage.iter_mut().filter(|u| u.period_start < current) {
            u.used = 0;
            u.period_start = current.clone();
        }
        let (local_day, local_month) = crate::billing::limits::periods(&tz, now);
        let (today, this_month) = super::limits::counts(&c, tenant, &local_day, &local_month)?;
        let transactions = Transactions { daily: LimitUse { used: today, limit: daily }, monthly: LimitUse { used: this_month, limit: monthly } };
        Ok(Quota { tenant_id: tenant.0, package, slots, usage, transactions })
    }

    /// The package limit for `slot` (None: no active package).
    pub fn package_slot_limit(&self, tenant: TenantId, slot: Slot) -> Result<Option<i64>> {
        Ok(package_limit(&*self.conn()?, tenant, slot)?.map(|(_, l)| l))
    }
}
