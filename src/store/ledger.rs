//! Credit: the append-only ledger with the balance kept in the same transaction, credit held
//! by live calls (reservations), and settling a call — its record, its charge, its free-tier
//! use — in one transaction keyed by the call's UUID.

use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;

use super::cdr::Cdr;
use super::{Result, Store, StoreError, TenantId};
use crate::billing::credit::{self, Account, FreeTier, LowCredit, Policy};
use crate::billing::rating::{self, Rate};
use crate::billing::{hold, period, settle};

/// Kept here too: reconciliation names it from the store it calls.
pub use crate::billing::settle::Talked;

/// A tenant's credit now: cheap enough for every open UI to poll.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Credit {
    pub tenant_id: i64,
    pub balance: i64,
    /// Held by calls that are up (prepaid).
    pub held: i64,
    pub available: i64,
    /// `flag` or `prepaid`.
    pub policy: String,
    pub low_credit_threshold: i64,
    /// Below the threshold (the alert went out).
    pub low_credit: bool,
}

/// What settling a call did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Settled {
    /// False: the call was settled before (a repeated hangup); nothing changed.
    pub new: bool,
    pub charge: i64,
    pub free_seconds: i64,
    pub flagged: bool,
    /// The balance fell below the tenant's threshold with this charge.
    pub crossed_low_credit: bool,
}

/// Credit and free seconds a call holds.
#[derive(Debug, Clone, Serialize)]
pub struct Reservation {
    pub call_uuid: String,
    pub tenant: TenantId,
    pub amount: i64,
    pub free_secs: i64,
    pub updated_at: String,
    /// When the call was answered, if it was while switchboard watched.
    pub answered_at: Option<String>,
}

/// A payment as the API takes it.
#[derive(Debug, Clone)]
pub struct Payment {
    pub amount: i64,
    /// `online`, `bank_transfer` or `cash`.
    pub payment_type: String,
    /// When it was paid (a date or RFC 3339 time); now when empty.
    pub date: String,
    pub note: String,
    pub user_id: Option<i64>,
}

pub const PAYMENT_TYPES: &[&str] = &["online", "bank_transfer", "cash"];

/// The kinds of ledger entry (the schema's CHECK).
pub const LEDGER_KINDS: &[&str] = &["payment", "charge", "refund", "adjustment"];

/// What the money rules need of a tenant, read in the transaction that moves its credit.
struct Terms {
    account: Account,
    tz: String,
    billing_day: i64,
}

/// The tenant's terms, with the credit held by its calls other than `except_call`.
fn terms(c: &Connection, tenant: i64, except_call: &str) -> Result<Terms> {
    c.prepare_cached(
        "SELECT credit_policy, timezone, billing_day, balance,
                (SELECT COALESCE(SUM(amount), 0) FROM reservations WHERE tenant_id = ?1 AND call_uuid <> ?2)
         FROM tenants WHERE id = ?1",
    )?
    .query_row((tenant, except_call), |r| {
        let account = Account { policy: Policy::parse(&r.get::<_, String>(0)?), balance: r.get(3)?, held_by_others: r.get(4)? };
        Ok(Terms { account, tz: r.get(1)?, billing_day: r.get(2)? })
    })
    .optional()?
    .ok_or(StoreError::NotFound)
}

/// Restarts the voice free tier when its period is over (lazily, inside the caller's
/// transaction), then reads it, with the free seconds held by calls other than `except_call`.
fn free_tier(c: &Connection, tenant: i64, t: &Terms, except_call: &str) -> Result<FreeTier> {
    restart_period(c, tenant, t, "voice_minutes")?;
    let tier = c
        .prepare_cached(
            "SELECT allocated, used_seconds,
                    (SELECT COALESCE(SUM(free_secs), 0) FROM reservations WHERE tenant_id = ?1 AND call_uuid <> ?2)
             FROM quotas WHERE tenant_id = ?1 AND kind = 'voice_minutes'",
        )?
        .query_row((tenant, except_call), |r| Ok(FreeTier { allocated_minutes: r.get(0)?, used_seconds: r.get(1)?, held_by_others: r.get(2)? }))
        .optional()?;
    Ok(tier.unwrap_or_default())
}

/// Restarts the `kind` counter when its period is over (lazily, in the caller's transaction).
fn restart_period(c: &Connection, tenant: i64, t: &Terms, kind: &str) -> Result<()> {
    let start = period::start(t.billing_day, &t.tz, jiff::Timestamp::now()).to_string();
    c.prepare_cached("UPDATE quotas SET used = 0, used_seconds = 0, period_start = ?2 WHERE tenant_id = ?1 AND kind = ?3 AND period_start < ?2")?
        .execute((tenant, &start, kind))?;
    Ok(())
}

/// Counts `secs` of the `kind` minutes counter, and its minutes as the rules count them.
fn use_seconds(c: &Connection, tenant: i64, kind: &str, secs: i64) -> Result<()> {
    if secs > 0 {
        let used: Option<i64> = c
            .prepare_cached("UPDATE quotas SET used_seconds = used_seconds + ?2 WHERE tenant_id = ?1 AND kind = ?3 RETURNING used_seconds")?
            .query_row((tenant, secs, kind), |r| r.get(0))
            .optional()?;
        if let Some(used) = used {
            c.prepare_cached("UPDATE quotas SET used = ?2 WHERE tenant_id = ?1 AND kind = ?3")?.execute((tenant, credit::minutes(used), kind))?;
        }
    }
    Ok(())
}

/// Moves the balance by `amount` with its ledger entry; true when the tenant's balance
/// crossed below its low-credit threshold (flag set, alert queued), and the flag cleared
/// when it is back ([`LowCredit`] decides).
#[allow(clippy::too_many_arguments)]
fn post(
    c: &Connection,
    tenant: i64,
    kind: &str,
    amount: i64,
    call: Option<&str>,
    payment_type: Option<&str>,
    at: &str,
    note: &str,
    user: Option<i64>,
) -> Result<bool> {
    let (balance, threshold, was_low): (i64, i64, bool) = c
        .prepare_cached("UPDATE tenants SET balance = balance + ?2 WHERE id = ?1 RETURNING balance, low_credit_threshold, low_credit")?
        .query_row((tenant, amount), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    c.prepare_cached(
        "INSERT INTO ledger (tenant_id, at, kind, amount, balance_after, call_uuid, payment_type, note, user_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(rusqlite::params![tenant, at, kind, amount, balance, call, payment_type, note, user])?;
    let low = LowCredit::after(balance, threshold, was_low);
    if low.low != was_low {
        c.execute("UPDATE tenants SET low_credit = ?2 WHERE id = ?1", (tenant, low.low))?;
    }
    if low.crossed {
        // The mail goes out from the outbox (crate::alerts): written here, it is sent once
        // per crossing whatever happens to the process or the relay.
        super::alerts::queue(c, tenant, "low_credit", balance, threshold)?;
    }
    Ok(low.crossed)
}

impl Store {
    pub fn credit(&self, tenant: TenantId) -> Result<Credit> {
        let c = self.conn()?;
        c.query_row(
            "SELECT balance, (SELECT COALESCE(SUM(amount), 0) FROM reservations WHERE tenant_id = t.id), credit_policy, low_credit_threshold, low_credit
             FROM tenants t WHERE id = ?1",
            [tenant.0],
            |r| {
                let (balance, held, policy): (i64, i64, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
                Ok(Credit {
                    tenant_id: tenant.0,
                    balance,
                    held,
                    available: Account { policy: Policy::parse(&policy), balance, held_by_others: held }.available(),
                    policy,
                    low_credit_threshold: r.get(3)?,
                    low_credit: r.get(4)?,
                })
            },
        )
        .optional()?
        .ok_or(StoreError::NotFound)
    }

    /// The rate for a call: `plan` (an outbound route's) or the tenant's, the longest
    /// prefix of `number` for `direction`. None: the call is not rated.
    pub fn rate_for(&self, tenant: TenantId, plan: Option<i64>, direction: &str, number: &str) -> Result<Option<Rate>> {
        let c = self.conn()?;
        let plan = match plan {
            Some(p) => Some(p),
            None => c
                .prepare_cached("SELECT rate_plan_id FROM tenants WHERE id = ?1")?
                .query_row([tenant.0], |r| r.get::<_, Option<i64>>(0))
                .optional()?
                .flatten(),
        };
        let Some(plan) = plan else { return Ok(None) };
        // Every prefix the rate may be kept under: one index probe each.
        let prefixes = rating::prefixes(number);
        let marks = (0..prefixes.len()).map(|i| format!("?{}", i + 3)).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "SELECT prefix, per_minute, connection_charge, first_increment, next_increment FROM rate_plan_rates
             WHERE parent_id = ?1 AND direction = ?2 AND prefix IN ({marks})"
        );
        let mut args: Vec<rusqlite::types::Value> = vec![plan.into(), direction.to_string().into()];
        args.extend(prefixes.into_iter().map(rusqlite::types::Value::from));
        let rates: Vec<(String, Rate)> = c
            .prepare_cached(&sql)?
            .query_map(rusqlite::params_from_iter(args.iter()), |r| {
                Ok((r.get(0)?, Rate { per_minute: r.get(1)?, connection_charge: r.get(2)?, first_increment: r.get(3)?, next_increment: r.get(4)? }))
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rating::pick(&rates, number).copied())
    }

    /// Holds credit and free seconds for up to `want` seconds of the call `uuid` at `rate`,
    /// replacing what it held: as much as the tenant can still pay for ([`hold::size`]),
    /// checked and taken in one transaction so concurrent calls never hold more than the
    /// balance. Returns the seconds now covered (0: not even the first increment).
    pub fn hold(&self, tenant: TenantId, uuid: &str, rate: &Rate, want: i64) -> Result<i64> {
        self.write(|tx| {
            // A call already settled holds nothing more: the meter's extension can run on
            // the blocking pool after its task was dropped and land after the settlement,
            // and a reservation left behind would be charged again as an orphan.
            let settled: bool = tx.prepare_cached("SELECT EXISTS (SELECT 1 FROM cdrs WHERE uuid = ?1)")?.query_row([uuid], |r| r.get(0))?;
            if settled {
                return Ok(0);
            }
            let terms = terms(tx, tenant.0, uuid)?;
            let free = free_tier(tx, tenant.0, &terms, uuid)?.left();
            let held = hold::size(rate, free, terms.account.available(), want);
            let now = super::now();
            // The rate goes with the hold: a reservation a crash leaves behind is settled on
            // the call's real length when the switch tells it.
            tx.prepare_cached(
                "INSERT INTO reservations (call_uuid, tenant_id, amount, free_secs, created_at, updated_at,
                                           per_minute, connection_charge, first_increment, next_increment)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (call_uuid) DO UPDATE SET amount = excluded.amount, free_secs = excluded.free_secs, updated_at = excluded.updated_at",
            )?
            .execute((
                uuid,
                tenant.0,
                held.amount,
                held.free,
                &now,
                rate.per_minute,
                rate.connection_charge,
                rate.first_increment,
                rate.next_increment,
            ))?;
            Ok(held.covered)
        })
    }

    /// Writes the call's record and, for a rated call, its charge: free tier first, then the
    /// ledger and the balance; the call's reservation is released. One transaction, keyed by
    /// the UUID: a repeated hangup changes nothing. [`settle::call`] decides the charge and
    /// whether it is flagged (under the `flag` policy a charge the credit did not cover
    /// still goes through, flagged for review).
    pub fn settle(&self, cdr: &Cdr, rate: Option<&Rate>) -> Result<Settled> {
        self.write(|tx| {
            let new = Self::insert_cdr(tx, cdr)?;
            let mut out = Settled { new, ..Default::default() };
            if let (true, Some(rate), Some(t)) = (new, rate, cdr.tenant) {
                let terms = terms(tx, t.0, &cdr.uuid)?;
                let free = free_tier(tx, t.0, &terms, &cdr.uuid)?.left();
                let c = settle::call(rate, cdr.billsec, free, &terms.account);
                (out.charge, out.free_seconds, out.flagged) = (c.charge.amount, c.charge.free, c.flagged);
                use_seconds(tx, t.0, "voice_minutes", c.charge.free)?;
                if c.charge.amount > 0 {
                    out.crossed_low_credit = post(tx, t.0, "charge", -c.charge.amount, Some(&cdr.uuid), None, &super::now(), "call", None)?;
                }
                tx.prepare_cached("UPDATE cdrs SET charge = ?2, free_seconds = ?3, flagged = ?4 WHERE uuid = ?1")?.execute((
                    &cdr.uuid,
                    out.charge,
                    out.free_seconds,
                    out.flagged,
                ))?;
            }
            let conference = settle::conference_seconds(cdr.conference, cdr.billsec);
            if let (true, true, Some(t)) = (new, conference > 0, cdr.tenant) {
                restart_period(tx, t.0, &terms(tx, t.0, &cdr.uuid)?, "conference_minutes")?;
                use_seconds(tx, t.0, "conference_minutes", conference)?;
            }
            tx.prepare_cached("DELETE FROM reservations WHERE call_uuid = ?1")?.execute([&cdr.uuid])?;
            Ok(out)
        })
    }

    /// Charges a fax job's `pages` ([`settle::fax`]: the package's free fax pages of the
    /// period first, then the tenant's `fax_page_rate` a page), in one transaction keyed by
    /// the job (`fax:<job>` in the ledger): charging a job again changes nothing. Under the
    /// `flag` policy a charge the credit does not cover is flagged like a call's.
    pub fn charge_fax(&self, tenant: TenantId, job: &str, pages: i64) -> Result<Settled> {
        self.write(|tx| charge_fax_in(tx, tenant, job, pages))
    }

    /// Every credit reservation, oldest first (reconciliation finds the ones no call owns).
    pub fn reservations(&self) -> Result<Vec<Reservation>> {
        let c = self.conn()?;
        let rows = c
            .prepare("SELECT call_uuid, tenant_id, amount, free_secs, updated_at, answered_at FROM reservations ORDER BY created_at")?
            .query_map([], |r| {
                Ok(Reservation {
                    call_uuid: r.get(0)?,
                    tenant: TenantId(r.get(1)?),
                    amount: r.get(2)?,
                    free_secs: r.get(3)?,
                    updated_at: r.get(4)?,
                    answered_at: r.get(5)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// Notes when a call holding credit was answered (the first time only).
    pub fn reservation_answered(&self, uuid: &str) -> Result<()> {
        self.write(|tx| {
            tx.prepare_cached("UPDATE reservations SET answered_at = ?2 WHERE call_uuid = ?1 AND answered_at IS NULL")?
                .execute((uuid, super::now()))?;
            Ok(())
        })
    }

    /// Settles a call that ended while no task of switchboard owned it (a crash), once, on
    /// what it `talked` ([`settle::orphan`]: at the rate it held at, never more than it held;
    /// when that is unknown, what it held). False: nothing was held under `uuid`.
    pub fn settle_orphan(&self, uuid: &str, talked: Talked) -> Result<bool> {
        self.write(|tx| {
            let held: Option<(i64, settle::Held)> = tx
                .query_row(
                    "DELETE FROM reservations WHERE call_uuid = ?1
                     RETURNING tenant_id, amount, free_secs, per_minute, connection_charge, first_increment, next_increment",
                    [uuid],
                    |r| {
                        let rate = match (r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?) {
                            (Some(per_minute), Some(connection_charge), Some(first_increment), Some(next_increment)) => {
                                Some(Rate { per_minute, connection_charge, first_increment, next_increment })
                            }
                            _ => None,
                        };
                        Ok((r.get(0)?, settle::Held { rate, amount: r.get(1)?, free: r.get(2)? }))
                    },
                )
                .optional()?;
            let Some((tenant, held)) = held else { return Ok(false) };
            let charged: bool =
                tx.query_row("SELECT EXISTS (SELECT 1 FROM ledger WHERE call_uuid = ?1 AND kind = 'charge')", [uuid], |r| r.get(0))?;
            if charged {
                return Ok(true);
            }
            let o = settle::orphan(&held, talked);
            use_seconds(tx, tenant, "voice_minutes", o.free)?;
            if o.amount > 0 {
                post(tx, tenant, "charge", -o.amount, Some(uuid), None, &super::now(), &o.note, None)?;
            }
            Ok(true)
        })
    }

    /// Records a payment; it raises the balance at once.
    pub fn pay(&self, tenant: TenantId, p: &Payment) -> Result<serde_json::Value> {
        if p.amount <= 0 {
            return Err(StoreError::invalid("amount", "must be more than zero"));
        }
        if !PAYMENT_TYPES.contains(&p.payment_type.as_str()) {
            return Err(StoreError::invalid("payment_type", "must be online, bank_transfer or cash"));
        }
        if p.note.chars().count() > 500 {
            return Err(StoreError::invalid("note", "at most 500 characters"));
        }
        let at = if p.date.is_empty() {
            super::now()
        } else if let Ok(t) = p.date.parse::<jiff::Timestamp>() {
            t.to_string()
        } else if let Ok(d) = p.date.parse::<jiff::civil::Date>() {
            format!("{d}T00:00:00Z")
        } else {
            return Err(StoreError::invalid("date", "must be a date (YYYY-MM-DD) or an RFC 3339 time"));
        };
        self.write(|tx| {
            tx.query_row("SELECT 1 FROM tenants WHERE id = ?1", [tenant.0], |_| Ok(())).optional()?.ok_or(StoreError::NotFound)?;
            post(tx, tenant.0, "payment", p.amount, None, Some(&p.payment_type), &at, &p.note, p.user_id)?;
            let id = tx.last_insert_rowid();
            Ok(tx.query_row(&format!("SELECT {LEDGER_COLS} FROM ledger WHERE id = ?1"), [id], ledger_json)?)
        })
    }

    /// Ledger entries, newest first; `kind` narrows (payments).
    pub fn ledger(&self, tenant: Option<TenantId>, kind: Option<&str>, page: u32, per_page: u32) -> Result<super::Page> {
        use rusqlite::types::Value as Sql;
        let c = self.conn()?;
        let mut w = super::Where::new();
        if let Some(t) = tenant {
            w.and("tenant_id =", Sql::Integer(t.0));
        }
        if let Some(k) = kind {
            w.and("kind =", Sql::Text(k.to_string()));
        }
        w.page(&c, "ledger", LEDGER_COLS, "id DESC", page, per_page.clamp(1, super::resource::MAX_PER_PAGE), ledger_json)
    }
}

const LEDGER_COLS: &str = "id, tenant_id, at, kind, amount, balance_after, call_uuid, payment_type, note, user_id";

fn ledger_json(r: &rusqlite::Row<'_>) -> rusqlite::Result<serde_json::Value> {
    Ok(serde_json::json!({
        "id": r.get::<_, i64>(0)?,
        "tenant_id": r.get::<_, i64>(1)?,
        "at": r.get::<_, String>(2)?,
        "kind": r.get::<_, String>(3)?,
        "amount": r.get::<_, i64>(4)?,
        "balance_after": r.get::<_, i64>(5)?,
        "call_uuid": r.get::<_, Option<String>>(6)?,
        "payment_type": r.get::<_, Option<String>>(7)?,
        "note": r.get::<_, String>(8)?,
        "user_id": r.get::<_, Option<i64>>(9)?,
    }))
}

/// [`Store::charge_fax`] inside the caller's write transaction (a sent fax's record and its
/// charge are one transaction).
pub(super) fn charge_fax_in(tx: &rusqlite::Connection, tenant: TenantId, job: &str, pages: i64) -> Result<Settled> {
    let key = format!("fax:{job}");
    let done: bool = tx.query_row("SELECT EXISTS (SELECT 1 FROM fax_charges WHERE job = ?1)", [&key], |r| r.get(0))?;
    if done {
        return Ok(Settled::default());
    }
    let terms = terms(tx, tenant.0, "")?;
    restart_period(tx, tenant.0, &terms, "fax_pages")?;
    let free_left = tx
        .query_row("SELECT allocated, used FROM quotas WHERE tenant_id = ?1 AND kind = 'fax_pages'", [tenant.0], |r| {
            Ok(settle::fax_pages_left(r.get(0)?, r.get(1)?))
        })
        .optional()?
        .unwrap_or(0);
    let rate: i64 = tx.query_row("SELECT fax_page_rate FROM tenants WHERE id = ?1", [tenant.0], |r| r.get(0))?;
    let fax = settle::fax(pages, free_left, rate);
    if fax.free > 0 {
        tx.execute("UPDATE quotas SET used = used + ?2 WHERE tenant_id = ?1 AND kind = 'fax_pages'", (tenant.0, fax.free))?;
    }
    let mut out = Settled { new: true, charge: fax.amount, ..Default::default() };
    if fax.amount > 0 {
        out.flagged = terms.account.flags(fax.amount);
        out.crossed_low_credit = post(tx, tenant.0, "charge", -fax.amount, Some(&key), None, &super::now(), &format!("fax, {pages} pages"), None)?;
    }
    tx.execute(
        "INSERT INTO fax_charges (job, tenant_id, pages, free_pages, amount, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        rusqlite::params![key, tenant.0, pages, fax.free, fax.amount, super::now()],
    )?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::resource::{Actor, Within};
    use crate::store::resources as res;

    #[test]
    fn fax_pages_use_the_free_pages_then_the_page_rate_once_per_job() {
        let (st, _dir) = crate::store::temp_store();
        let t = TenantId(crate::store::seed::single_tenant(&st).unwrap().unwrap());
        let admin = Actor { user_id: 0, admin: true, enforce_packages: false };
        let body = |v: serde_json::Value| v.as_object().unwrap().clone();
        let pkg = st.create(&res::PACKAGES, None, &admin, &body(serde_json::json!({ "name": "Fax 3", "fax_pages": 3 }))).unwrap();
        st.subscribe(t, pkg["id"].as_i64().unwrap()).unwrap();
        st.update(&res::TENANTS, Within::Everything, None, t.0, &body(serde_json::json!({ "fax_page_rate": 40_000 }))).unwrap();
        let first = st.charge_fax(t, "job-1", 2).unwrap();
        assert_eq!((first.new, first.charge), (true, 0), "two of the three free pages");
        let second = st.charge_fax(t, "job-2", 5).unwrap();
        assert_eq!(second.charge, 4 * 40_000, "one free page left, then four at the page rate");
        assert!(second.flagged, "no credit under the flag policy: flagged");
        assert_eq!(st.charge_fax(t, "job-2", 5).unwrap(), Settled::default(), "charged once per job");
        assert_eq!(st.credit(t).unwrap().balance, -160_000);
        let charges = st.ledger(Some(t), Some("charge"), 1, 10).unwrap();
        assert_eq!((charges.total, charges.items[0]["call_uuid"].as_str()), (1, Some("fax:job-2")));
        let q = st.quota(t).unwrap();
        let fax = q.usage.iter().find(|u| u.kind == "fax_pages").unwrap();
        assert_eq!((fax.allocated, fax.used), (3, 3));
    }

    #[test]
    fn a_hold_that_lands_after_the_settlement_holds_nothing() {
        let (st, _dir) = crate::store::temp_store();
        let t = TenantId(crate::store::seed::single_tenant(&st).unwrap().unwrap());
        st.pay(t, &Payment { amount: 10_000_000, payment_type: "cash".into(), date: String::new(), note: String::new(), user_id: None }).unwrap();
        let rate = Rate { per_minute: 1_000_000, connection_charge: 0, first_increment: 1, next_increment: 1 };
        assert_eq!(st.hold(t, "call-1", &rate, 60).unwrap(), 60);
        let cdr = Cdr { uuid: "call-1".into(), tenant: Some(t), direction: "outbound", billsec: 30, disposition: "answered", ..Default::default() };
        st.settle(&cdr, Some(&rate)).unwrap();
        assert_eq!(st.credit(t).unwrap().held, 0);
        // The meter's extension, late.
        assert_eq!(st.hold(t, "call-1", &rate, 120).unwrap(), 0);
        assert_eq!(st.credit(t).unwrap().held, 0, "nothing held for a settled call");
        assert!(st.reservations().unwrap().is_empty());
    }

    #[test]
    fn an_orphan_is_settled_on_what_it_talked_never_more_than_it_held_and_once() {
        let (st, _dir) = crate::store::temp_store();
        let t = TenantId(crate::store::seed::single_tenant(&st).unwrap().unwrap());
        st.pay(t, &Payment { amount: 10_000_000, payment_type: "cash".into(), date: String::new(), note: String::new(), user_id: None }).unwrap();
        let rate = Rate { per_minute: 1_000_000, connection_charge: 0, first_increment: 1, next_increment: 1 };
        for uuid in ["exact", "at-most", "too-long", "unknown"] {
            assert_eq!(st.hold(t, uuid, &rate, 60).unwrap(), 60);
        }
        st.reservation_answered("at-most").unwrap();
        assert!(st.reservations().unwrap().iter().find(|r| r.call_uuid == "at-most").unwrap().answered_at.is_some());
        assert!(st.settle_orphan("exact", Talked::Exactly(12)).unwrap());
        assert!(st.settle_orphan("at-most", Talked::AtMost(30)).unwrap());
        assert!(st.settle_orphan("too-long", Talked::AtMost(600)).unwrap());
        assert!(st.settle_orphan("unknown", Talked::Unknown).unwrap());
        assert!(!st.settle_orphan("exact", Talked::Exactly(12)).unwrap(), "nothing left to settle");
        let charges = st.ledger(Some(t), Some("charge"), 1, 10).unwrap();
        let of = |u: &str| -charges.items.iter().find(|c| c["call_uuid"] == u).unwrap()["amount"].as_i64().unwrap();
        assert_eq!(of("exact"), 200_000, "12 s at 1.00 a minute");
        assert_eq!(of("at-most"), 500_000);
        assert_eq!(of("too-long"), 1_000_000, "never more than the 60 s held");
        assert_eq!(of("unknown"), 1_000_000, "what it held");
        assert_eq!(st.credit(t).unwrap().held, 0);
    }
}
