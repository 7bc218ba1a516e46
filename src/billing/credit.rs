//! A tenant's credit as the money rules see it: its policy, what it has available beside
//! what other live calls hold, when it is low, and the free tier's seconds. The store reads
//! these figures inside its transaction and writes what these rules decide.

/// What happens to a call the credit does not cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Calls are never cut; a charge the available credit did not cover is flagged for
    /// review (`/api/v1/flagged-calls`).
    Flag,
    /// Rated calls hold credit ahead and the switch ends them where it runs out
    /// ([`super::hold`]).
    Prepaid,
}

impl Policy {
    /// The tenant row's `credit_policy` (the schema allows `flag` and `prepaid` only).
    pub fn parse(s: &str) -> Policy {
        if s == "prepaid" {
            Policy::Prepaid
        } else {
            Policy::Flag
        }
    }
}

/// A tenant's credit, read in the transaction that will move it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Account {
    pub policy: Policy,
    pub balance: i64,
    /// Credit held by the tenant's other live calls (their reservations).
    pub held_by_others: i64,
}

impl Account {
    /// Credit not held by other calls.
    pub fn available(&self) -> i64 {
        self.balance - self.held_by_others
    }

    /// Whether a charge of `amount` is flagged for review: under the `flag` policy, when the
    /// credit available before it did not cover it. A prepaid call held its money ahead.
    pub fn flags(&self, amount: i64) -> bool {
        self.policy == Policy::Flag && amount > 0 && self.available() < amount
    }
}

/// The low-credit flag after the balance moved to `balance`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LowCredit {
    /// The tenant's flag as it must now be (below a threshold above zero).
    pub low: bool,
    /// It was not low before: this move crossed the threshold (one alert mail per crossing).
    pub crossed: bool,
}

impl LowCredit {
    /// `threshold` 0 (or less) means no alert; `was_low` is the flag before the move.
    pub fn after(balance: i64, threshold: i64, was_low: bool) -> LowCredit {
        let low = threshold > 0 && balance < threshold;
        LowCredit { low, crossed: low && !was_low }
    }
}

/// The package's voice minutes in the current period, counted in billed seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FreeTier {
    pub allocated_minutes: i64,
    pub used_seconds: i64,
    /// Free seconds the tenant's other live calls hold.
    pub held_by_others: i64,
}

impl FreeTier {
    /// Free seconds a call may still use (none once overdrawn).
    pub fn left(&self) -> i64 {
        (self.allocated_minutes * 60 - self.used_seconds - self.held_by_others).max(0)
    }
}

/// A minutes counter's value for `seconds` used: whole minutes, a started one counted.
pub fn minutes(seconds: i64) -> i64 {
    (seconds + 59) / 60
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(policy: Policy, balance: i64, held_by_others: i64) -> Account {
        Account { policy, balance, held_by_others }
    }

    #[test]
    fn the_policy_is_flag_unless_prepaid() {
        assert_eq!(Policy::parse("prepaid"), Policy::Prepaid);
        assert_eq!(Policy::parse("flag"), Policy::Flag);
    }

    #[test]
    fn a_charge_is_flagged_only_under_flag_when_the_available_credit_did_not_cover_it() {
        let a = account(Policy::Flag, 100, 30);
        assert_eq!(a.available(), 70);
        assert!(!a.flags(70), "covered exactly");
        assert!(a.flags(71), "what other calls hold is not available");
        assert!(!a.flags(0), "nothing charged, nothing to review");
        assert!(account(Policy::Flag, -5, 0).flags(1), "an overdrawn balance");
        assert!(!account(Policy::Prepaid, 0, 0).flags(1_000), "prepaid is never flagged");
    }

    #[test]
    fn the_low_credit_flag_is_set_below_the_threshold_and_alerts_once_per_crossing() {
        assert_eq!(LowCredit::after(99, 100, false), LowCredit { low: true, crossed: true });
        assert_eq!(LowCredit::after(50, 100, true), LowCredit { low: true, crossed: false }, "already low: no second mail");
        assert_eq!(LowCredit::after(100, 100, true), LowCredit { low: false, crossed: false }, "back at the threshold clears it");
        assert_eq!(LowCredit::after(-1_000, 0, false), LowCredit { low: false, crossed: false }, "no threshold, no alert");
    }

    #[test]
    fn the_free_tier_left_is_what_is_neither_used_nor_held() {
        let t = FreeTier { allocated_minutes: 10, used_seconds: 130, held_by_others: 70 };
        assert_eq!(t.left(), 400);
        assert_eq!(FreeTier { allocated_minutes: 1, used_seconds: 90, held_by_others: 0 }.left(), 0, "overdrawn: none");
        assert_eq!(FreeTier::default().left(), 0, "no package");
    }

    #[test]
    fn minutes_count_a_started_minute() {
        assert_eq!([0, 1, 59, 60, 61, 120].map(minutes), [0, 1, 1, 1, 2, 2]);
    }
}
