//! A call queue's figures: how a caller leaves a queue, and the counts made of it. The
//! engine keeps today's live; the queue report counts the stored visits the same way, so
//! the wallboard and the report never disagree on what "service level" means.

use serde::Serialize;

/// How a call left a queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// An agent answered.
    Answered,
    /// The caller hung up in line (or while an agent's phone rang).
    Abandoned,
    /// The caller waited the queue's longest and went to its timeout destination.
    TimedOut,
    /// The caller pressed the exit key.
    Exited,
    /// The line was full: never entered.
    Full,
    /// Nobody was logged in and the queue does not wait without agents: never entered.
    NoAgents,
}

impl Outcome {
    pub const ALL: [Outcome; 6] = [Outcome::Answered, Outcome::Abandoned, Outcome::TimedOut, Outcome::Exited, Outcome::Full, Outcome::NoAgents];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Answered => "answered",
            Outcome::Abandoned => "abandoned",
            Outcome::TimedOut => "timed_out",
            Outcome::Exited => "exited",
            Outcome::Full => "full",
            Outcome::NoAgents => "no_agents",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.as_str() == s)
    }

    /// The caller entered the line (was offered to the queue's agents).
    pub fn entered(self) -> bool {
        !matches!(self, Outcome::Full | Outcome::NoAgents)
    }
}

/// One queue's figures for a period (today on the wallboard, a day in the report).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counters {
    /// Callers who entered the line.
    pub offered: u64,
    pub answered: u64,
    pub abandoned: u64,
    pub timed_out: u64,
    pub exited: u64,
    /// Callers turned away: the line full, or nobody logged in.
    pub refused: u64,
    pub answered_wait_ms: u64,
    pub longest_wait_ms: u64,
    /// Answered within the queue's service-level target.
    pub within_service_level: u64,
}

impl Counters {
    /// A caller entered the line.
    pub fn entered(&mut self) {
        self.offered += 1;
    }

    /// A caller left (`waited_ms` in line), counted by how; `service_level_secs` is the
    /// queue's target for an answer.
    pub fn left(&mut self, how: Outcome, waited_ms: u64, service_level_secs: u64) {
        match how {
            Outcome::Answered => {
                self.answered += 1;
                self.answered_wait_ms += waited_ms;
                if waited_ms <= service_level_secs * 1000 {
                    self.within_service_level += 1;
                }
            }
            Outcome::Abandoned => self.abandoned += 1,
            Outcome::TimedOut => self.timed_out += 1,
            Outcome::Exited => self.exited += 1,
            Outcome::Full | Outcome::NoAgents => {
                self.refused += 1;
                return;
            }
        }
        self.longest_wait_ms = self.longest_wait_ms.max(waited_ms);
    }

    /// Both periods' figures as one.
    pub fn add(&mut self, o: &Counters) {
        self.offered += o.offered;
        self.answered += o.answered;
        self.abandoned += o.abandoned;
        self.timed_out += o.timed_out;
        self.exited += o.exited;
        self.refused += o.refused;
        self.answered_wait_ms += o.answered_wait_ms;
        self.longest_wait_ms = self.longest_wait_ms.max(o.longest_wait_ms);
        self.within_service_level += o.within_service_level;
    }

    /// The answered callers' average wait, whole seconds.
    pub fn average_wait_secs(&self) -> u64 {
        self.answered_wait_ms.checked_div(self.answered).unwrap_or(0) / 1000
    }

    /// Answered within the target, out of every caller who waited for an answer and did
    /// not choose to leave (answered, abandoned, timed out; the exit key is the caller's
    /// own choice). None before anyone has.
    pub fn service_level_percent(&self) -> Option<u64> {
        (self.within_service_level * 100).checked_div(self.answered + self.abandoned + self.timed_out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_level_counts_answers_within_target_against_every_caller_who_wanted_one() {
        let mut c = Counters::default();
        for (how, waited) in [
            (Outcome::Answered, 5_000),
            (Outcome::Answered, 20_000),
            (Outcome::Answered, 20_001),
            (Outcome::Abandoned, 3_000),
            (Outcome::TimedOut, 60_000),
            (Outcome::Exited, 9_000),
        ] {
            c.entered();
            c.left(how, waited, 20);
        }
        c.left(Outcome::Full, 0, 20);
        assert_eq!((c.offered, c.answered, c.abandoned, c.timed_out, c.exited, c.refused), (6, 3, 1, 1, 1, 1));
        // 2 of 5 (3 answered, 1 abandoned, 1 timed out) answered within 20 s.
        assert_eq!(c.service_level_percent(), Some(40));
        assert_eq!(c.average_wait_secs(), 15);
        assert_eq!(c.longest_wait_ms, 60_000);
        assert_eq!(Counters::default().service_level_percent(), None);
    }

    #[test]
    fn outcomes_read_back_as_written() {
        for o in Outcome::ALL {
            assert_eq!(Outcome::parse(o.as_str()), Some(o));
        }
        assert!(!Outcome::Full.entered() && Outcome::Abandoned.entered());
    }
}
