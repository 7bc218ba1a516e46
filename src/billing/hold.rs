//! Holding credit ahead for a prepaid call, and the meter's decisions while it is up.
//!
//! Before a rated call of a prepaid tenant rings, one window of talk is held: as much of it
//! as the free tier and the available credit pay for, in whole increments (a call cut there
//! is billed exactly what it was allowed). A call that cannot pay for its first increment
//! is refused. The switch's `sched_hangup` failsafe is armed at the end of what is held
//! (plus the ring time until the answer); from the answer on, `LEAD` seconds before the
//! covered time runs out, the hold grows by another window, and the failsafe moves with it.
//! When it cannot grow, the parties are warned and the switch ends the call where its money
//! does. The I/O (the store's transaction, the switch's commands, the timers) is
//! `call::meter`'s.

use std::time::Duration;

use super::rating::Rate;

/// Talk seconds held ahead at a time.
pub const WINDOW: i64 = 60;
/// How long before the covered time runs out the next window is held (and, when that
/// fails, the warning plays).
pub const LEAD: i64 = 20;

/// What a call holds: the talk it covers, and the credit and free seconds that pay for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Hold {
    /// Seconds of talk covered (0: not even the first increment).
    pub covered: i64,
    /// Credit held, micro-units.
    pub amount: i64,
    /// Free-tier seconds held.
    pub free: i64,
}

/// Sizes a hold for up to `want` seconds at `rate` with `free_left` free seconds and
/// `available` credit (what other calls hold already taken out): the longest talk they pay
/// for in whole increments, and what that talk costs.
pub fn size(rate: &Rate, free_left: i64, available: i64, want: i64) -> Hold {
    let covered = rate.affordable(free_left, available.max(0), want.max(0));
    let charge = rate.charge(covered, free_left);
    Hold { covered, amount: charge.amount, free: charge.free }
}

/// The talk the first hold asks for: one window, or the first increment when it is longer
/// (a call must be able to pay for at least that much to ring).
pub fn first_want(rate: &Rate) -> i64 {
    WINDOW.max(rate.first_increment)
}

/// A prepaid call's covered time, counted from its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meter {
    covered: i64,
}

impl Meter {
    /// The meter of a call whose first hold covers `covered` seconds; None when that is
    /// nothing (the call is refused before it rings).
    pub fn start(covered: i64) -> Option<Meter> {
        (covered > 0).then_some(Meter { covered })
    }

    /// Seconds of talk paid for so far.
    pub fn covered(&self) -> i64 {
        self.covered
    }

    /// The switch's failsafe before the answer, seconds from now: the call may ring for at
    /// most `ring_secs`, then talk its covered time (a call answered while switchboard is
    /// gone still ends in time).
    pub fn failsafe_before_answer(&self, ring_secs: i64) -> i64 {
        ring_secs + self.covered
    }

    /// When, in seconds after the answer, the next window is held.
    pub fn extend_at(&self) -> i64 {
        self.covered - LEAD
    }

    /// The talk the next hold asks for: one more window.
    pub fn want(&self) -> i64 {
        self.covered + WINDOW
    }

    /// Takes what the next hold covers; false when it covers no more (the credit is
    /// exhausted: warn the parties, the failsafe ends the call at the covered time).
    pub fn extended(&mut self, covered: i64) -> bool {
        if covered > self.covered {
            self.covered = covered;
            true
        } else {
            false
        }
    }
}

/// The failsafe's seconds from now when `left` of the covered time remains, on a clock
/// whose second is `second` long (shorter in tests): a started second counts, so the switch
/// never ends the call before its money does.
pub fn failsafe_secs(left: Duration, second: Duration) -> i64 {
    left.as_millis().div_ceil(second.as_millis().max(1)) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    const PER_MINUTE: Rate = Rate { per_minute: 60_000, connection_charge: 0, first_increment: 1, next_increment: 1 };

    #[test]
    fn a_hold_covers_what_the_free_tier_and_the_credit_pay_for() {
        assert_eq!(size(&PER_MINUTE, 0, 1_000_000, 60), Hold { covered: 60, amount: 60_000, free: 0 }, "the window, paid");
        assert_eq!(size(&PER_MINUTE, 0, 30_500, 60), Hold { covered: 30, amount: 30_000, free: 0 }, "whole increments only");
        assert_eq!(size(&PER_MINUTE, 40, 10_000, 60), Hold { covered: 50, amount: 10_000, free: 40 }, "free seconds first");
        assert_eq!(size(&PER_MINUTE, 0, -5_000, 60), Hold::default(), "an overdrawn tenant holds nothing");
        assert_eq!(size(&PER_MINUTE, 0, 1_000_000, -1), Hold::default(), "nothing wanted");
        let by_minute = Rate { first_increment: 60, next_increment: 60, ..PER_MINUTE };
        assert_eq!(size(&by_minute, 0, 59_999, 60).covered, 0, "not the first minute: refused");
    }

    #[test]
    fn the_first_hold_asks_for_a_window_or_the_first_increment() {
        assert_eq!(first_want(&PER_MINUTE), WINDOW);
        assert_eq!(first_want(&Rate { first_increment: 90, ..PER_MINUTE }), 90);
    }

    #[test]
    fn the_meter_extends_a_window_ahead_until_the_credit_stops_growing() {
        assert_eq!(Meter::start(0), None, "nothing covered: refused");
        let mut m = Meter::start(60).unwrap();
        assert_eq!(m.failsafe_before_answer(60), 120, "ring time, then the covered talk");
        assert_eq!((m.extend_at(), m.want()), (40, 120));
        assert!(m.extended(120));
        assert_eq!((m.covered(), m.extend_at(), m.want()), (120, 100, 180));
        assert!(!m.extended(120), "no more covered: exhausted");
        assert!(!m.extended(0), "a failed hold");
        assert_eq!(m.covered(), 120, "what was covered stays");
    }

    #[test]
    fn the_failsafe_rounds_a_started_second_up() {
        let s = Duration::from_secs(1);
        assert_eq!(failsafe_secs(Duration::from_millis(40_000), s), 40);
        assert_eq!(failsafe_secs(Duration::from_millis(40_001), s), 41);
        assert_eq!(failsafe_secs(Duration::ZERO, s), 0);
        assert_eq!(failsafe_secs(Duration::from_millis(250), Duration::from_millis(100)), 3, "a test clock's short second");
        assert_eq!(failsafe_secs(Duration::from_millis(5), Duration::ZERO), 5, "a zero second is taken as 1 ms");
    }
}
