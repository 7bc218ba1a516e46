//! Settling what a call or a fax job cost: the charge, whether it is flagged, and what a
//! reservation left behind by a crash is charged. The store runs these inside the one
//! transaction that writes the record, the ledger entry and the free-tier use.

use super::credit::Account;
use super::rating::{Charge, Rate};

/// What settling a call decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CallCharge {
    pub charge: Charge,
    /// Charged on credit it did not have, under the `flag` policy.
    pub flagged: bool,
}

/// A call that talked `billsec` seconds at `rate`: free tier first (`free_left` seconds),
/// then credit, flagged when the account's policy says so.
pub fn call(rate: &Rate, billsec: i64, free_left: i64, account: &Account) -> CallCharge {
    let charge = rate.charge(billsec, free_left);
    CallCharge { charge, flagged: account.flags(charge.amount) }
}

/// Seconds a call adds to the package's conference minutes: its talk, when it was a member
/// of a conference (usage, not money: no rate applies).
pub fn conference_seconds(in_conference: bool, billsec: i64) -> i64 {
    if in_conference && billsec > 0 {
        billsec
    } else {
        0
    }
}

/// What is known of how long a call that a crash left behind talked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Talked {
    /// Nothing: charge what it held (it could not outlive that: the switch's sched_hangup).
    Unknown,
    /// Exactly, from the switch (CHANNEL_HANGUP_COMPLETE's billsec).
    Exactly(i64),
    /// At most this long (from its answer to when it was found gone).
    AtMost(i64),
}

/// What an orphaned reservation held: the rate it was held at (None for a hold written
/// before rates were kept with it), credit and free seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    pub rate: Option<Rate>,
    pub amount: i64,
    pub free: i64,
}

/// What an orphaned reservation is charged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrphanCharge {
    pub amount: i64,
    pub free: i64,
    /// The ledger entry's note: on what it was settled.
    pub note: String,
}

/// An orphan is charged for what it `talked` at the rate it held at, never more than it
/// held; when that is unknown (or the rate is), for what it held.
pub fn orphan(held: &Held, talked: Talked) -> OrphanCharge {
    let (seconds, how) = match talked {
        Talked::Exactly(s) => (Some(s), format!("settled on the switch's record of the call ({s} s talked)")),
        Talked::AtMost(s) => (Some(s), format!("settled after a restart on at most {s} s talked (answer to found gone)")),
        Talked::Unknown => (None, String::new()),
    };
    match (held.rate, seconds) {
        (Some(rate), Some(s)) => {
            let c = rate.charge(s.max(0), held.free);
            OrphanCharge { amount: c.amount.min(held.amount), free: c.free.min(held.free), note: how }
        }
        _ => OrphanCharge { amount: held.amount, free: held.free, note: "settled after a restart on what the call held".into() },
    }
}

/// What a fax job's pages cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FaxCharge {
    /// Pages taken from the package's free fax pages.
    pub free: i64,
    /// Credit, micro-units.
    pub amount: i64,
}

/// The period's free fax pages left: allocated less used, none once used up.
pub fn fax_pages_left(allocated: i64, used: i64) -> i64 {
    (allocated - used).max(0)
}

/// A fax job of `pages`: the free pages first, then `page_rate` a page.
pub fn fax(pages: i64, free_left: i64, page_rate: i64) -> FaxCharge {
    let pages = pages.max(0);
    let free = pages.min(free_left);
    FaxCharge { free, amount: (pages - free) * page_rate }
}

#[cfg(test)]
mod tests {
    use super::super::credit::Policy;
    use super::*;

    const PER_SECOND: Rate = Rate { per_minute: 60_000, connection_charge: 0, first_increment: 1, next_increment: 1 };

    fn account(policy: Policy, balance: i64) -> Account {
        Account { policy, balance, held_by_others: 0 }
    }

    #[test]
    fn a_call_is_charged_free_seconds_first_and_flagged_on_credit_it_did_not_have() {
        let rich = account(Policy::Flag, 1_000_000);
        assert_eq!(call(&PER_SECOND, 30, 0, &rich), CallCharge { charge: Charge { billed: 30, free: 0, amount: 30_000 }, flagged: false });
        assert_eq!(call(&PER_SECOND, 30, 20, &rich).charge, Charge { billed: 30, free: 20, amount: 10_000 });
        assert!(call(&PER_SECOND, 30, 0, &account(Policy::Flag, 29_999)).flagged, "the credit did not cover it");
        assert!(!call(&PER_SECOND, 30, 30, &account(Policy::Flag, 0)).flagged, "all free: nothing to flag");
        assert!(!call(&PER_SECOND, 30, 0, &account(Policy::Prepaid, 0)).flagged, "prepaid is not flagged");
        assert_eq!(call(&PER_SECOND, 0, 0, &rich), CallCharge::default(), "unanswered: nothing");
    }

    #[test]
    fn conference_time_counts_only_for_a_member_that_talked() {
        assert_eq!(conference_seconds(true, 42), 42);
        assert_eq!(conference_seconds(true, 0), 0);
        assert_eq!(conference_seconds(false, 42), 0);
    }

    #[test]
    fn an_orphan_pays_for_what_it_talked_never_more_than_it_held() {
        let held = Held { rate: Some(PER_SECOND), amount: 60_000, free: 0 };
        let exact = orphan(&held, Talked::Exactly(12));
        assert_eq!((exact.amount, exact.free), (12_000, 0));
        assert!(exact.note.contains("switch's record") && exact.note.contains("12 s"), "{}", exact.note);
        let at_most = orphan(&held, Talked::AtMost(30));
        assert_eq!(at_most.amount, 30_000);
        assert!(at_most.note.contains("at most 30 s"), "{}", at_most.note);
        assert_eq!(orphan(&held, Talked::AtMost(600)).amount, 60_000, "capped at what it held");
        assert_eq!(orphan(&held, Talked::Exactly(-3)).amount, 0, "a negative figure talks nothing");
        let unknown = orphan(&held, Talked::Unknown);
        assert_eq!((unknown.amount, unknown.note.as_str()), (60_000, "settled after a restart on what the call held"));
    }

    #[test]
    fn an_orphan_spends_its_held_free_seconds_first_and_without_a_rate_pays_what_it_held() {
        let held = Held { rate: Some(PER_SECOND), amount: 30_000, free: 30 };
        let (long, short) = (orphan(&held, Talked::Exactly(40)), orphan(&held, Talked::Exactly(10)));
        assert_eq!((long.amount, long.free), (10_000, 30), "30 free seconds, then 10 paid");
        assert_eq!((short.amount, short.free), (0, 10));
        let old = Held { rate: None, amount: 45_000, free: 15 };
        let c = orphan(&old, Talked::Exactly(5));
        assert_eq!((c.amount, c.free), (45_000, 15), "no rate kept: what it held, whatever it talked");
    }

    #[test]
    fn fax_pages_use_the_free_pages_then_the_page_rate() {
        assert_eq!(fax(2, 3, 40_000), FaxCharge { free: 2, amount: 0 });
        assert_eq!(fax(5, 1, 40_000), FaxCharge { free: 1, amount: 160_000 });
        assert_eq!(fax(5, 0, 0), FaxCharge { free: 0, amount: 0 }, "no page rate");
        assert_eq!(fax(-2, 3, 40_000), FaxCharge::default(), "no pages");
        assert_eq!((fax_pages_left(3, 1), fax_pages_left(3, 5)), (2, 0));
    }
}
