//! What a call costs: billing increments, the connection charge and the free tier.
//!
//! A rate bills `first_increment` seconds at least, then whole `next_increment` steps
//! (60/60 bills by the minute, 30/6 the first half minute then every 6 s, 1/1 by the
//! second). The free tier (the package's voice minutes) is spent before credit, in billed
//! seconds; only seconds beyond it cost credit, and only such a call pays the connection
//! charge. Money is integer micro-units; a part of a micro-unit is charged as a whole one.

/// One rate of a plan, as the store keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Rate {
    /// Micro-units per 60 billed seconds.
    pub per_minute: i64,
    pub connection_charge: i64,
    pub first_increment: i64,
    pub next_increment: i64,
}

/// What a call of some length costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct Charge {
    /// Seconds billed (the increments applied).
    pub billed: i64,
    /// Of those, seconds taken from the free tier.
    pub free: i64,
    /// Credit, in micro-units.
    pub amount: i64,
}

impl Rate {
    /// Whether calls at this rate can cost anything (else they need no metering).
    pub fn is_free(&self) -> bool {
        self.per_minute <= 0 && self.connection_charge <= 0
    }

    fn increments(&self) -> (i64, i64) {
        (self.first_increment.max(1), self.next_increment.max(1))
    }

    /// Seconds billed for `talk` seconds: none for an unanswered call.
    pub fn billed_seconds(&self, talk: i64) -> i64 {
        let (first, next) = self.increments();
        if talk <= 0 {
            0
        } else if talk <= first {
            first
        } else {
            first + (talk - first + next - 1) / next * next
        }
    }

    /// The cost of `talk` seconds with `free_left` seconds of free tier.
    pub fn charge(&self, talk: i64, free_left: i64) -> Charge {
        let billed = self.billed_seconds(talk);
        let free = billed.min(free_left.max(0));
        let paid = billed - free;
        let amount = if paid > 0 { self.connection_charge.max(0) + ceil_div(self.per_minute.max(0) * paid, 60) } else { 0 };
        Charge { billed, free, amount }
    }

    /// The longest talk, in seconds, that `free_left` free seconds and `credit` micro-units
    /// pay for, up to `cap`: always a whole number of increments (a call cut there is
    /// billed exactly what it was allowed).
    pub fn affordable(&self, free_left: i64, credit: i64, cap: i64) -> i64 {
        if self.is_free() {
            return cap;
        }
        let (first, next) = self.increments();
        let free_left = free_left.max(0);
        // Paid seconds the credit covers, beyond the free tier.
        let paid = if credit < self.connection_charge.max(0) {
            0
        } else if self.per_minute <= 0 {
            cap
        } else {
            // per_minute * paid / 60 rounded up must stay <= credit - connection.
            ((credit - self.connection_charge.max(0)) * 60) / self.per_minute
        };
        let billable = free_left.saturating_add(paid);
        let t = if billable < first { 0 } else { first + (billable - first) / next * next };
        t.min(cap)
    }
}

fn ceil_div(a: i64, b: i64) -> i64 {
    (a + b - 1) / b
}

/// The prefixes a rate for `number` may be kept under, shortest ('') first: every prefix
/// of its first 20 digits (the store looks each up rather than scanning a plan).
pub fn prefixes(number: &str) -> Vec<String> {
    let digits: String = number.chars().filter(char::is_ascii_digit).take(20).collect();
    (0..=digits.len()).map(|n| digits[..n].to_string()).collect()
}

/// The rate for `number` among `rates` (prefix, rate): the longest prefix of its digits.
pub fn pick<'a, T>(rates: &'a [(String, T)], number: &str) -> Option<&'a T> {
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    rates.iter().filter(|(p, _)| digits.starts_with(p.as_str())).max_by_key(|(p, _)| p.len()).map(|(_, r)| r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(per_minute: i64, first: i64, next: i64) -> Rate {
        Rate { per_minute, connection_charge: 0, first_increment: first, next_increment: next }
    }

    #[test]
    fn increments() {
        let by_minute = rate(60_000, 60, 60);
        assert_eq!([0, 1, 60, 61, 120, 121].map(|t| by_minute.billed_seconds(t)), [0, 60, 60, 120, 120, 180]);
        let thirty_six = rate(60_000, 30, 6);
        assert_eq!([1, 30, 31, 36, 37, 95].map(|t| thirty_six.billed_seconds(t)), [30, 30, 36, 36, 42, 96]);
        let by_second = rate(60_000, 1, 1);
        assert_eq!([1, 59, 61].map(|t| by_second.billed_seconds(t)), [1, 59, 61]);
        // 1,000 micro-units a second at 60,000 a minute.
        assert_eq!(thirty_six.charge(37, 0).amount, 42_000);
        assert_eq!(by_minute.charge(61, 0).amount, 120_000);
    }

    #[test]
    fn the_connection_charge_comes_with_paid_seconds_only() {
        let r = Rate { per_minute: 60_000, connection_charge: 5_000, first_increment: 60, next_increment: 60 };
        assert_eq!(r.charge(30, 0), Charge { billed: 60, free: 0, amount: 65_000 });
        assert_eq!(r.charge(30, 600), Charge { billed: 60, free: 60, amount: 0 }, "all free");
        assert_eq!(r.charge(0, 0).amount, 0, "an unanswered call costs nothing");
    }

    #[test]
    fn the_free_tier_runs_out_mid_call() {
        let r = rate(60_000, 6, 6);
        // 40 free seconds left, a 100-second call: 40 free, 60 paid.
        assert_eq!(r.charge(100, 40), Charge { billed: 102, free: 40, amount: 62_000 });
    }

    #[test]
    fn fractions_of_a_micro_unit_round_up() {
        let r = rate(1, 1, 1);
        assert_eq!(r.charge(1, 0).amount, 1);
        assert_eq!(r.charge(61, 0).amount, 2);
    }

    #[test]
    fn affordable_talk_is_whole_increments_the_credit_covers() {
        let r = Rate { per_minute: 60_000, connection_charge: 10_000, first_increment: 60, next_increment: 60 };
        assert_eq!(r.affordable(0, 9_999, 3600), 0, "not even the connection charge");
        assert_eq!(r.affordable(0, 69_999, 3600), 0, "not the first minute");
        assert_eq!(r.affordable(0, 70_000, 3600), 60);
        assert_eq!(r.affordable(0, 189_999, 3600), 120);
        assert_eq!(r.affordable(90, 0, 3600), 60, "free seconds alone, in whole increments");
        assert_eq!(r.affordable(0, 1_000_000_000, 300), 300, "capped");
        for credit in [70_000, 130_000, 500_000] {
            let t = r.affordable(0, credit, 100_000);
            assert!(r.charge(t, 0).amount <= credit, "{t} s cost {} > {credit}", r.charge(t, 0).amount);
            assert!(r.charge(t + 1, 0).amount > credit, "one more second would be unpaid");
        }
        assert_eq!(rate(0, 60, 60).affordable(0, 0, 77), 77, "a free rate");
    }

    #[test]
    fn the_longest_prefix_wins() {
        let rates = vec![("".to_string(), 1), ("1".to_string(), 2), ("1212".to_string(), 3), ("44".to_string(), 4)];
        assert_eq!(pick(&rates, "+12125550100"), Some(&3));
        assert_eq!(pick(&rates, "+13105550100"), Some(&2));
        assert_eq!(pick(&rates, "+33155550100"), Some(&1));
        assert_eq!(pick(&rates[1..], "+33155550100"), None);
    }

    #[test]
    fn the_prefixes_looked_up_are_those_of_the_first_twenty_digits() {
        assert_eq!(prefixes("+1 (212)"), ["", "1", "12", "121", "1212"]);
        assert_eq!(prefixes("sip:alice"), [""]);
        let long = prefixes("+123456789012345678901234");
        assert_eq!((long.len(), long.last().unwrap().as_str()), (21, "12345678901234567890"));
    }
}
