//! Who is offered a waiting caller, in which order: mod_callcenter's strategies as pure
//! functions over the agents that may take the call. Tiers come first (a lower tier is
//! always tried before a higher one), then the strategy's own key, then the agent's
//! position within the tier, so two agents alike in everything keep a stable order.

use std::cmp::Ordering;

/// A queue's strategy (the `strategy` column; mod_callcenter's names in brackets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Every agent at once (ring-all).
    RingAll,
    /// The agent whose last queue call ended longest ago (longest-idle-agent).
    LongestIdle,
    /// The agent after the one offered last, across calls (round-robin).
    RoundRobin,
    /// Always from the first agent (top-down).
    TopDown,
    /// The agent with the least talk time today (agent-with-least-talk-time).
    LeastTalkTime,
    /// The agent who answered the fewest calls today (agent-with-fewest-calls).
    FewestCalls,
    /// Any agent (random).
    Random,
    /// In order, one more agent every few seconds while the earlier ones keep ringing
    /// (ring-progressively).
    RingProgressively,
}

impl Strategy {
    pub fn parse(s: &str) -> Strategy {
        match s {
            "ring_all" => Strategy::RingAll,
            "round_robin" => Strategy::RoundRobin,
            "top_down" => Strategy::TopDown,
            "least_talk_time" => Strategy::LeastTalkTime,
            "fewest_calls" => Strategy::FewestCalls,
            "random" => Strategy::Random,
            "ring_progressively" => Strategy::RingProgressively,
            // The column's default, and what an unknown value falls back to.
            _ => Strategy::LongestIdle,
        }
    }

    /// Whether one offer rings several agents (the others are tried one at a time).
    pub fn rings_several(self) -> bool {
        matches!(self, Strategy::RingAll | Strategy::RingProgressively)
    }
}

/// An agent who may be offered the call now, with what the strategies weigh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub user_id: i64,
    /// 1–9: lower tiers are offered first.
    pub tier: u8,
    /// The agent's place within the queue's list.
    pub position: u32,
    /// When the agent last became free of a queue call (engine milliseconds); None: not
    /// since they logged in, which counts as idle the longest.
    pub idle_since: Option<u64>,
    pub talk_secs_today: u64,
    pub calls_today: u32,
}

/// The candidates in the order `strategy` offers them. `last_offered`: the place (position,
/// user id) of the agent a round robin offered last in this queue; `roll`: a random number for `Random` (the caller
/// passes one, so the order is a pure function of its inputs).
pub fn order(strategy: Strategy, mut agents: Vec<Candidate>, last_offered: Option<(u32, i64)>, roll: u64) -> Vec<Candidate> {
    let by_place = |a: &Candidate, b: &Candidate| a.tier.cmp(&b.tier).then(a.position.cmp(&b.position)).then(a.user_id.cmp(&b.user_id));
    match strategy {
        Strategy::RingAll | Strategy::TopDown | Strategy::RingProgressively => agents.sort_by(by_place),
        Strategy::LongestIdle => agents.sort_by(|a, b| {
            let idle = match (a.idle_since, b.idle_since) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (Some(x), Some(y)) => x.cmp(&y),
            };
            a.tier.cmp(&b.tier).then(idle).then(by_place(a, b))
        }),
        Strategy::LeastTalkTime => agents.sort_by(|a, b| a.tier.cmp(&b.tier).then(a.talk_secs_today.cmp(&b.talk_secs_today)).then(by_place(a, b))),
        Strategy::FewestCalls => agents.sort_by(|a, b| a.tier.cmp(&b.tier).then(a.calls_today.cmp(&b.calls_today)).then(by_place(a, b))),
        Strategy::RoundRobin => {
            agents.sort_by(by_place);
            // Within the lowest tier present, start after the place of the agent offered
            // last, whether or not that agent may be offered now.
            if let (Some(first_tier), Some(last)) = (agents.first().map(|a| a.tier), last_offered) {
                let in_tier = agents.iter().take_while(|a| a.tier == first_tier).count();
                let start = agents[..in_tier].iter().position(|a| (a.position, a.user_id) > last).unwrap_or(0);
                agents[..in_tier].rotate_left(start);
            }
        }
        Strategy::Random => {
            agents.sort_by(by_place);
            if let Some(first_tier) = agents.first().map(|a| a.tier) {
                let in_tier = agents.iter().take_while(|a| a.tier == first_tier).count();
                agents[..in_tier].rotate_left((roll % in_tier as u64) as usize);
            }
        }
    }
    agents
}

/// The highest tier a caller may be offered after waiting `waited_secs`: tier 1 at once,
/// one more tier every `escalate_secs` (0: every tier at once).
pub fn tiers_open(waited_secs: u64, escalate_secs: u64) -> u8 {
    if escalate_secs == 0 {
        return 9;
    }
    (1 + waited_secs / escalate_secs).min(9) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(user_id: i64, tier: u8, position: u32) -> Candidate {
        Candidate { user_id, tier, position, idle_since: Some(0), talk_secs_today: 0, calls_today: 0 }
    }

    fn ids(v: &[Candidate]) -> Vec<i64> {
        v.iter().map(|a| a.user_id).collect()
    }

    #[test]
    fn top_down_ring_all_and_progressive_go_by_tier_then_position() {
        let agents = vec![agent(3, 2, 0), agent(2, 1, 5), agent(1, 1, 9), agent(4, 1, 1)];
        for s in [Strategy::TopDown, Strategy::RingAll, Strategy::RingProgressively] {
            assert_eq!(ids(&order(s, agents.clone(), None, 0)), [4, 2, 1, 3], "{s:?}");
        }
    }

    #[test]
    fn longest_idle_offers_the_agent_free_longest_and_never_a_higher_tier_first() {
        let mut a = vec![agent(1, 1, 0), agent(2, 1, 1), agent(3, 1, 2), agent(4, 2, 0)];
        a[0].idle_since = Some(500);
        a[1].idle_since = Some(100);
        a[2].idle_since = None; // logged in, no queue call yet
        a[3].idle_since = Some(1);
        assert_eq!(ids(&order(Strategy::LongestIdle, a, None, 0)), [3, 2, 1, 4]);
    }

    #[test]
    fn least_talk_time_and_fewest_calls_weigh_today_s_figures() {
        let mut a = vec![agent(1, 1, 0), agent(2, 1, 1), agent(3, 1, 2)];
        a[0].talk_secs_today = 300;
        a[1].talk_secs_today = 20;
        a[2].talk_secs_today = 90;
        a[0].calls_today = 1;
        a[1].calls_today = 7;
        a[2].calls_today = 3;
        assert_eq!(ids(&order(Strategy::LeastTalkTime, a.clone(), None, 0)), [2, 3, 1]);
        assert_eq!(ids(&order(Strategy::FewestCalls, a, None, 0)), [1, 3, 2]);
    }

    #[test]
    fn round_robin_starts_after_the_agent_offered_last_and_wraps() {
        let a = vec![agent(10, 1, 0), agent(11, 1, 1), agent(12, 1, 2), agent(20, 2, 0)];
        assert_eq!(ids(&order(Strategy::RoundRobin, a.clone(), None, 0)), [10, 11, 12, 20]);
        assert_eq!(ids(&order(Strategy::RoundRobin, a.clone(), Some((0, 10)), 0)), [11, 12, 10, 20]);
        assert_eq!(ids(&order(Strategy::RoundRobin, a.clone(), Some((2, 12)), 0)), [10, 11, 12, 20]);
        // The one offered last is busy now: the next after its place still comes first.
        let without_11: Vec<_> = a.iter().filter(|c| c.user_id != 11).cloned().collect();
        assert_eq!(ids(&order(Strategy::RoundRobin, without_11, Some((1, 11)), 0)), [12, 10, 20]);
        let mut b = a.clone();
        b.retain(|c| c.user_id != 12);
        assert_eq!(ids(&order(Strategy::RoundRobin, b, Some((1, 11)), 0)), [10, 11, 20]);
    }

    #[test]
    fn random_picks_within_the_lowest_tier_only() {
        let a = vec![agent(1, 1, 0), agent(2, 1, 1), agent(3, 1, 2), agent(9, 2, 0)];
        let firsts: std::collections::BTreeSet<i64> = (0..6).map(|roll| order(Strategy::Random, a.clone(), None, roll)[0].user_id).collect();
        assert_eq!(firsts.into_iter().collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(order(Strategy::Random, a, None, 5).last().unwrap().user_id, 9);
    }

    #[test]
    fn tiers_open_one_at_a_time_as_the_caller_waits() {
        assert_eq!(tiers_open(0, 30), 1);
        assert_eq!(tiers_open(29, 30), 1);
        assert_eq!(tiers_open(30, 30), 2);
        assert_eq!(tiers_open(95, 30), 4);
        assert_eq!(tiers_open(10_000, 30), 9);
        assert_eq!(tiers_open(0, 0), 9);
    }

    #[test]
    fn strategies_read_from_their_column_names() {
        for (s, want) in [
            ("ring_all", Strategy::RingAll),
            ("longest_idle", Strategy::LongestIdle),
            ("round_robin", Strategy::RoundRobin),
            ("top_down", Strategy::TopDown),
            ("least_talk_time", Strategy::LeastTalkTime),
            ("fewest_calls", Strategy::FewestCalls),
            ("random", Strategy::Random),
            ("ring_progressively", Strategy::RingProgressively),
        ] {
            assert_eq!(Strategy::parse(s), want);
        }
    }
}
