//! The queues' state: callers waiting in line, agents' states, offers in flight, today's
//! counters. No I/O and no clock of its own (time comes in as engine milliseconds), so the
//! same code runs under the churn test, the benchmark and the live handle in [`super`].
//!
//! An agent's state is never stored as a flag something must remember to clear: offered
//! and in a queue call are the offers and calls the engine holds (each tied to a waiting
//! caller's ticket, which leaves when its task ends, however it ends), wrap-up and the
//! reject delay are deadlines that pass by themselves. Only logged in / on break / logged
//! out is the agent's own choice, and the store keeps it.

use std::collections::HashMap;

use super::strategy::{order, tiers_open, Candidate, Strategy};

pub type CallerId = u64;

/// An agent's own choice (kept in the store; survives a restart).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    LoggedOut,
    Available,
    OnBreak,
}

impl Status {
    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "logged_out" => Some(Status::LoggedOut),
            "available" => Some(Status::Available),
            "on_break" => Some(Status::OnBreak),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::LoggedOut => "logged_out",
            Status::Available => "available",
            Status::OnBreak => "on_break",
        }
    }
}

/// What an agent is doing, as the monitor shows it: the choice, refined by the engine's
/// own offers and calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    LoggedOut,
    OnBreak,
    Available,
    /// Ringing with a caller's offer.
    Offered,
    InQueueCall,
    WrapUp,
}

impl From<Status> for State {
    /// What an agent with this choice and no call of the engine's is doing.
    fn from(s: Status) -> State {
        match s {
            Status::LoggedOut => State::LoggedOut,
            Status::Available => State::Available,
            Status::OnBreak => State::OnBreak,
        }
    }
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::LoggedOut => "logged_out",
            State::OnBreak => "on_break",
            State::Available => "available",
            State::Offered => "offered",
            State::InQueueCall => "in_queue_call",
            State::WrapUp => "wrap_up",
        }
    }
}

/// A queue as the engine needs it (the store's row, read when a caller joins; the latest
/// caller's copy is the one used).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueSpec {
    pub id: i64,
    pub tenant_id: i64,
    pub strategy: Strategy,
    /// How long one offer rings.
    pub agent_timeout_secs: u64,
    pub wrap_up_secs: u64,
    pub reject_delay_secs: u64,
    /// Unanswered offers in a row that put an agent on break (0: never).
    pub max_no_answer: u32,
    /// Callers waiting at most (0: no limit).
    pub max_callers: usize,
    /// A caller waiting this long is offered the next tier too (0: all tiers at once).
    pub tier_escalation_secs: u64,
    /// Ring progressively: one more agent every this many seconds.
    pub progressive_step_secs: u64,
    /// A call answered within this many seconds counts towards the service level.
    pub service_level_secs: u64,
    pub agents: Vec<AgentSpec>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentSpec {
    pub user_id: i64,
    pub name: String,
    pub tier: u8,
    pub position: u32,
    /// The agent's phones (extension numbers); none: the agent cannot be offered a call.
    pub extensions: Vec<String>,
    /// Do-not-disturb on every one of the agent's phones.
    pub dnd: bool,
    /// The agent's choice as the store has it, for an agent the engine has not met yet.
    pub status: Status,
}

/// What the switch says of a phone, for offers: an agent on another call, or whose phones
/// are all unregistered, is not offered one.
pub trait Presence {
    /// Whether `extension` of `tenant` is on a call (any: internal, outbound, another
    /// queue's).
    fn on_a_call(&self, tenant: i64, extension: &str) -> bool;
    /// Whether it is registered; None when the switch's state is not known (no control
    /// connection), where offering is the better guess than a queue that never rings.
    fn registered(&self, tenant: i64, extension: &str) -> Option<bool>;
}

/// Nothing known about the switch: every phone may be offered.
pub struct Unknown;

impl Presence for Unknown {
    fn on_a_call(&self, _: i64, _: &str) -> bool {
        false
    }
    fn registered(&self, _: i64, _: &str) -> Option<bool> {
        None
    }
}

/// One offer: the agents to ring (at once; `delay_secs` holds a leg back, for ringing
/// progressively) and for how long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    pub agents: Vec<Offered>,
    pub timeout_secs: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offered {
    pub user_id: i64,
    pub extensions: Vec<String>,
    pub delay_secs: u64,
}

/// How an offer ended, as the caller's bridge saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OfferEnd {
    /// `user_id` answered: the caller is talking to them.
    Answered { user_id: i64 },
    /// Nobody answered in time.
    NoAnswer,
    /// `user_id` declined (busy or rejected from the phone).
    Rejected { user_id: i64 },
    /// The offer failed for a reason that is no agent's doing (the switch).
    Failed,
}

/// Why a caller was not let in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    Full,
    NoAgents,
}

pub use crate::pbx::queue::{Counters, Outcome};

/// How a caller left the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Left {
    /// Hung up while waiting.
    Abandoned,
    TimedOut,
    /// Pressed the exit key.
    Exited,
}

impl From<Left> for Outcome {
    fn from(l: Left) -> Outcome {
        match l {
            Left::Abandoned => Outcome::Abandoned,
            Left::TimedOut => Outcome::TimedOut,
            Left::Exited => Outcome::Exited,
        }
    }
}

impl From<Refused> for Outcome {
    fn from(r: Refused) -> Outcome {
        match r {
            Refused::Full => Outcome::Full,
            Refused::NoAgents => Outcome::NoAgents,
        }
    }
}

/// Something the engine decided that the world must hear of: an offer to deliver, an
/// agent put on break by their unanswered offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Offer { caller: CallerId, offer: Offer },
    OnBreak { user_id: i64, queue_id: i64, unanswered: u32 },
}

#[derive(Debug)]
struct Waiting {
    id: CallerId,
    priority: i64,
    arrived: u64,
    caller: String,
    /// The agents ringing for it now.
    offer: Vec<i64>,
}

#[derive(Debug, Default)]
struct Queue {
    spec: Option<std::sync::Arc<QueueSpec>>,
    waiting: Vec<Waiting>,
    /// Round robin's place: the last agent offered (position, user id).
    last_offered: Option<(u32, i64)>,
    strikes: HashMap<i64, u32>,
    /// Answered waits (ms), the most recent last, for the estimated wait.
    recent_waits: std::collections::VecDeque<u64>,
    today: Counters,
}

#[derive(Debug)]
struct Agent {
    status: Status,
    since: u64,
    /// The caller whose offer rings this agent, and since when.
    offered: Option<CallerId>,
    offered_at: u64,
    /// The caller this agent is talking to, and since when.
    talking: Option<(CallerId, i64, u64)>,
    /// Wrap-up: from the end of the last queue call until `wrap_until`.
    wrap_from: u64,
    wrap_until: u64,
    reject_until: u64,
    idle_since: Option<u64>,
    talk_ms_today: u64,
    calls_today: u32,
}

impl Agent {
    fn new(status: Status, now: u64) -> Agent {
        Agent {
            status,
            since: now,
            offered: None,
            offered_at: 0,
            talking: None,
            wrap_from: 0,
            wrap_until: 0,
            reject_until: 0,
            idle_since: None,
            talk_ms_today: 0,
            calls_today: 0,
        }
    }
}

/// A caller the engine let in or put through: where it is.
#[derive(Debug, Clone, Copy)]
enum Place {
    Waiting(i64),
    /// `waited`: ms in line before the agent answered.
    Talking {
        queue: i64,
        agent: i64,
        waited: u64,
    },
}

/// How many answered waits the estimate averages.
const RECENT: usize = 20;

#[derive(Debug, Default)]
pub struct Engine {
    queues: HashMap<i64, Queue>,
    agents: HashMap<i64, Agent>,
    callers: HashMap<CallerId, Place>,
    next_id: CallerId,
    day: u64,
    roll: u64,
}

const DAY_MS: u64 = 86_400_000;

impl Engine {
    pub fn new() -> Engine {
        Engine::default()
    }

    /// The day the counters are for changes at midnight UTC of engine time.
    fn roll_day(&mut self, now: u64) {
        let day = now / DAY_MS;
        if day != self.day {
            self.day = day;
            for q in self.queues.values_mut() {
                q.today = Counters::default();
            }
            for a in self.agents.values_mut() {
                a.talk_ms_today = 0;
                a.calls_today = 0;
            }
        }
    }

    fn learn(&mut self, spec: &QueueSpec, now: u64) {
        for a in &spec.agents {
            self.agents.entry(a.user_id).or_insert_with(|| Agent::new(a.status, now));
        }
        self.queues.entry(spec.id).or_default().spec = Some(std::sync::Arc::new(spec.clone()));
    }

    /// Lets a caller into `spec`'s line (refused when it is full, or when no agent is
    /// logged in and `wait_without_agents` is false).
    pub fn join(&mut self, spec: &QueueSpec, caller: &str, priority: i64, wait_without_agents: bool, now: u64) -> Result<CallerId, Refused> {
        self.roll_day(now);
        self.learn(spec, now);
        let q = &self.queues[&spec.id];
        let logged_in = spec.agents.iter().any(|a| self.agents.get(&a.user_id).is_some_and(|g| g.status != Status::LoggedOut));
        let refused = if spec.max_callers > 0 && q.waiting.len() >= spec.max_callers {
            Some(Refused::Full)
        } else {
            (!logged_in && !wait_without_agents).then_some(Refused::NoAgents)
        };
        if let Some(r) = refused {
            self.queues.get_mut(&spec.id).expect("learned").today.left(r.into(), 0, 0);
            return Err(r);
        }
        self.next_id += 1;
        let id = self.next_id;
        let q = self.queues.get_mut(&spec.id).expect("learned");
        // By priority, then arrival: a caller goes after everyone of its priority or higher.
        let at = q.waiting.iter().position(|w| w.priority < priority).unwrap_or(q.waiting.len());
        q.waiting.insert(at, Waiting { id, priority, arrived: now, caller: caller.to_string(), offer: Vec::new() });
        q.today.entered();
        self.callers.insert(id, Place::Waiting(spec.id));
        Ok(id)
    }

    /// A caller's place in line (1 = next), and the line's length.
    pub fn position(&self, caller: CallerId) -> Option<(usize, usize)> {
        let Some(Place::Waiting(q)) = self.callers.get(&caller) else { return None };
        let q = &self.queues[q];
        q.waiting.iter().position(|w| w.id == caller).map(|i| (i + 1, q.waiting.len()))
    }

    /// The expected wait of the caller `position` places from the front: the average of the
    /// queue's recent answered waits, times the places; None with no history yet.
    pub fn estimated_wait_ms(&self, queue: i64, position: usize) -> Option<u64> {
        let q = self.queues.get(&queue)?;
        if q.recent_waits.is_empty() {
            return None;
        }
        let avg = q.recent_waits.iter().sum::<u64>() / q.recent_waits.len() as u64;
        Some(avg.max(1000) * position as u64)
    }

    fn free_offer(&mut self, queue: i64, caller: CallerId) -> Vec<i64> {
        let Some(q) = self.queues.get_mut(&queue) else { return Vec::new() };
        let Some(w) = q.waiting.iter_mut().find(|w| w.id == caller) else { return Vec::new() };
        let agents = std::mem::take(&mut w.offer);
        for a in &agents {
            if let Some(g) = self.agents.get_mut(a) {
                if g.offered == Some(caller) {
                    g.offered = None;
                }
            }
        }
        agents
    }

    /// How the caller's offer ended. Returns agents put on break by it.
    pub fn offer_ended(&mut self, caller: CallerId, end: OfferEnd, now: u64) -> Vec<Effect> {
        let Some(Place::Waiting(queue)) = self.callers.get(&caller).copied() else { return Vec::new() };
        let rung = self.free_offer(queue, caller);
        let mut effects = Vec::new();
        let q = self.queues.get_mut(&queue).expect("a caller's queue");
        let spec = q.spec.clone().expect("a queue with callers has its spec");
        match end {
            OfferEnd::Answered { user_id } => {
                let i = q.waiting.iter().position(|w| w.id == caller).expect("waiting");
                let w = q.waiting.remove(i);
                let waited = now.saturating_sub(w.arrived);
                q.today.left(Outcome::Answered, waited, spec.service_level_secs);
                q.recent_waits.push_back(waited);
                if q.recent_waits.len() > RECENT {
                    q.recent_waits.pop_front();
                }
                q.strikes.remove(&user_id);
                self.callers.insert(caller, Place::Talking { queue, agent: user_id, waited });
                if let Some(a) = self.agents.get_mut(&user_id) {
                    a.talking = Some((caller, queue, now));
                }
            }
            OfferEnd::NoAnswer => {
                for user_id in rung {
                    let n = q.strikes.entry(user_id).or_default();
                    *n += 1;
                    if spec.max_no_answer > 0 && *n >= spec.max_no_answer {
                        let unanswered = *n;
                        q.strikes.remove(&user_id);
                        if let Some(a) = self.agents.get_mut(&user_id) {
                            if a.status == Status::Available {
                                a.status = Status::OnBreak;
                                a.since = now;
                                effects.push(Effect::OnBreak { user_id, queue_id: queue, unanswered });
                            }
                        }
                    }
                }
            }
            OfferEnd::Rejected { user_id } => {
                if let Some(a) = self.agents.get_mut(&user_id) {
                    a.reject_until = now + spec.reject_delay_secs * 1000;
                }
            }
            OfferEnd::Failed => {}
        }
        effects
    }

    /// The caller's conversation with its agent is over: the agent wraps up.
    fn talk_ended(&mut self, queue: i64, agent: i64, caller: CallerId, now: u64) {
        let wrap = self.queues.get(&queue).and_then(|q| q.spec.as_ref()).map_or(0, |s| s.wrap_up_secs);
        if let Some(a) = self.agents.get_mut(&agent) {
            if let Some((c, _, since)) = a.talking {
                if c == caller {
                    a.talking = None;
                    a.talk_ms_today += now.saturating_sub(since);
                    a.calls_today += 1;
                    a.wrap_from = now;
                    a.wrap_until = now + wrap * 1000;
                    a.idle_since = Some(a.wrap_until);
                }
            }
        }
    }

    /// The caller is gone from the engine: its conversation ended, or it left the line
    /// (`how` says why, for the counters; None when it was talking). Whatever it held —
    /// an offer, an agent — is released. Idempotent: a ticket's drop calls it again.
    pub fn leave(&mut self, caller: CallerId, how: Left, now: u64) {
        match self.callers.remove(&caller) {
            Some(Place::Talking { queue, agent, .. }) => self.talk_ended(queue, agent, caller, now),
            Some(Place::Waiting(queue)) => {
                self.free_offer(queue, caller);
                let q = self.queues.get_mut(&queue).expect("a caller's queue");
                if let Some(i) = q.waiting.iter().position(|w| w.id == caller) {
                    let w = q.waiting.remove(i);
                    q.today.left(how.into(), now.saturating_sub(w.arrived), 0);
                }
            }
            None => {}
        }
    }

    /// An agent's own choice changed (API, feature code, web page).
    pub fn set_status(&mut self, user_id: i64, status: Status, now: u64) {
        let a = self.agents.entry(user_id).or_insert_with(|| Agent::new(status, now));
        if a.status != status {
            a.status = status;
            a.since = now;
            if status == Status::Available && a.idle_since.is_none() {
                a.idle_since = Some(now);
            }
        }
        for q in self.queues.values_mut() {
            q.strikes.remove(&user_id);
        }
    }

    pub fn status(&self, user_id: i64) -> Option<Status> {
        self.agents.get(&user_id).map(|a| a.status)
    }

    /// What an agent is doing now, and since when (engine ms).
    pub fn state(&self, user_id: i64, now: u64) -> Option<(State, u64)> {
        let a = self.agents.get(&user_id)?;
        Some(match a.status {
            Status::LoggedOut => (State::LoggedOut, a.since),
            _ if a.talking.is_some() => (State::InQueueCall, a.talking.map_or(a.since, |t| t.2)),
            _ if a.offered.is_some() => (State::Offered, a.offered_at),
            _ if now < a.wrap_until => (State::WrapUp, a.wrap_from),
            Status::OnBreak => (State::OnBreak, a.since),
            Status::Available => (State::Available, a.idle_since.unwrap_or(a.since).max(a.since)),
        })
    }

    /// Whether `agent` may be offered a call of `spec` now.
    fn can_take(&self, spec: &QueueSpec, agent: &AgentSpec, presence: &dyn Presence, now: u64) -> bool {
        let Some(a) = self.agents.get(&agent.user_id) else { return false };
        a.status == Status::Available
            && a.offered.is_none()
            && a.talking.is_none()
            && now >= a.wrap_until
            && now >= a.reject_until
            && !agent.dnd
            && !agent.extensions.is_empty()
            && !agent.extensions.iter().any(|e| presence.on_a_call(spec.tenant_id, e))
            && agent.extensions.iter().any(|e| presence.registered(spec.tenant_id, e) != Some(false))
    }

    /// Offers waiting callers to the agents who may take them, in each line's order.
    pub fn dispatch(&mut self, presence: &dyn Presence, now: u64) -> Vec<Effect> {
        self.roll_day(now);
        let mut effects = Vec::new();
        let ids: Vec<i64> = self.queues.iter().filter(|(_, q)| !q.waiting.is_empty()).map(|(id, _)| *id).collect();
        for qid in ids {
            let spec = match self.queues[&qid].spec.clone() {
                Some(s) => s,
                None => continue,
            };
            // Who could take a call of this queue now, whatever the tier: checked once, so
            // a long line with nobody free costs one pass over the agents, not one a caller.
            let mut free: Vec<&AgentSpec> = spec.agents.iter().filter(|a| self.can_take(&spec, a, presence, now)).collect();
            let mut i = 0;
            while i < self.queues[&qid].waiting.len() && !free.is_empty() {
                let (caller, arrived, has_offer) = {
                    let w = &self.queues[&qid].waiting[i];
                    (w.id, w.arrived, !w.offer.is_empty())
                };
                i += 1;
                if has_offer {
                    continue;
                }
                let open = tiers_open(now.saturating_sub(arrived) / 1000, spec.tier_escalation_secs);
                let candidates: Vec<Candidate> = free
                    .iter()
                    .filter(|a| a.tier <= open)
                    .map(|a| {
                        let g = &self.agents[&a.user_id];
                        Candidate {
                            user_id: a.user_id,
                            tier: a.tier,
                            position: a.position,
                            idle_since: g.idle_since,
                            talk_secs_today: g.talk_ms_today / 1000,
                            calls_today: g.calls_today,
                        }
                    })
                    .collect();
                if candidates.is_empty() {
                    continue;
                }
                self.roll = self.roll.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let ordered = order(spec.strategy, candidates, self.queues[&qid].last_offered, self.roll >> 33);
                let chosen: Vec<&Candidate> = if spec.strategy.rings_several() { ordered.iter().collect() } else { ordered.iter().take(1).collect() };
                let step = if spec.strategy == Strategy::RingProgressively { spec.progressive_step_secs } else { 0 };
                let offer = Offer {
                    agents: chosen
                        .iter()
                        .enumerate()
                        .map(|(n, c)| Offered {
                            user_id: c.user_id,
                            extensions: spec.agents.iter().find(|a| a.user_id == c.user_id).map(|a| a.extensions.clone()).unwrap_or_default(),
                            delay_secs: n as u64 * step,
                        })
                        .collect(),
                    // Ringing progressively, the last agent added still rings a whole timeout.
                    timeout_secs: spec.agent_timeout_secs + step * chosen.len().saturating_sub(1) as u64,
                };
                let users: Vec<i64> = chosen.iter().map(|c| c.user_id).collect();
                free.retain(|a| !users.contains(&a.user_id));
                if let Some(last) = chosen.last() {
                    self.queues.get_mut(&qid).expect("queue").last_offered = Some((last.position, last.user_id));
                }
                for u in &users {
                    let a = self.agents.get_mut(u).expect("a candidate is known");
                    a.offered = Some(caller);
                    a.offered_at = now;
                }
                let w = &mut self.queues.get_mut(&qid).expect("queue").waiting[i - 1];
                w.offer = users;
                effects.push(Effect::Offer { caller, offer });
            }
        }
        effects
    }

    /// The next moment something changes by itself (a wrap-up or reject delay ends, a
    /// waiting caller reaches the next tier), for the engine's timer.
    pub fn next_deadline(&self, now: u64) -> Option<u64> {
        let mut next: Option<u64> = None;
        let mut consider = |t: u64| {
            if t > now {
                next = Some(next.map_or(t, |n| n.min(t)));
            }
        };
        for a in self.agents.values() {
            consider(a.wrap_until);
            consider(a.reject_until);
        }
        for q in self.queues.values() {
            let Some(spec) = &q.spec else { continue };
            if spec.tier_escalation_secs == 0 {
                continue;
            }
            let step = spec.tier_escalation_secs * 1000;
            for w in &q.waiting {
                let waited = now.saturating_sub(w.arrived);
                if waited / step < 8 {
                    consider(w.arrived + (waited / step + 1) * step);
                }
            }
        }
        next
    }

    pub fn anyone_waiting(&self) -> bool {
        self.queues.values().any(|q| !q.waiting.is_empty())
    }

    /// A queue's callers (caller ID, waiting since) in line order.
    pub fn waiting(&self, queue: i64) -> Vec<(String, u64)> {
        self.queues.get(&queue).map(|q| q.waiting.iter().map(|w| (w.caller.clone(), w.arrived)).collect()).unwrap_or_default()
    }

    pub fn counters(&self, queue: i64) -> Counters {
        self.queues.get(&queue).map(|q| q.today.clone()).unwrap_or_default()
    }

    /// The agent a caller is talking to, once one answered.
    pub fn agent_of(&self, caller: CallerId) -> Option<i64> {
        self.answered(caller).map(|(agent, _)| agent)
    }

    /// The agent talking to `caller`, and how long (ms) it waited in line for them.
    pub fn answered(&self, caller: CallerId) -> Option<(i64, u64)> {
        match self.callers.get(&caller) {
            Some(Place::Talking { agent, waited, .. }) => Some((*agent, *waited)),
            _ => None,
        }
    }

    /// How many queue calls an agent is in (never more than one).
    pub fn talking(&self, user_id: i64) -> usize {
        self.callers.values().filter(|p| matches!(p, Place::Talking { agent, .. } if *agent == user_id)).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(strategy: Strategy, agents: &[(i64, u8)]) -> QueueSpec {
        QueueSpec {
            id: 1,
            tenant_id: 7,
            strategy,
            agent_timeout_secs: 15,
            wrap_up_secs: 10,
            reject_delay_secs: 30,
            max_no_answer: 2,
            max_callers: 3,
            tier_escalation_secs: 20,
            progressive_step_secs: 5,
            service_level_secs: 20,
            agents: agents
                .iter()
                .enumerate()
                .map(|(i, &(user_id, tier))| AgentSpec {
                    user_id,
                    name: format!("agent {user_id}"),
                    tier,
                    position: i as u32,
                    extensions: vec![format!("{}", 1000 + user_id)],
                    dnd: false,
                    status: Status::Available,
                })
                .collect(),
        }
    }

    fn offers(effects: &[Effect]) -> Vec<(CallerId, Vec<i64>)> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::Offer { caller, offer } => Some((*caller, offer.agents.iter().map(|a| a.user_id).collect())),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_caller_is_offered_to_one_agent_at_a_time_and_the_next_after_no_answer() {
        let s = spec(Strategy::TopDown, &[(1, 1), (2, 1)]);
        let mut e = Engine::new();
        let c = e.join(&s, "555", 0, false, 0).unwrap();
        assert_eq!(offers(&e.dispatch(&Unknown, 0)), [(c, vec![1])]);
        assert_eq!(e.state(1, 0).unwrap().0, State::Offered);
        assert!(offers(&e.dispatch(&Unknown, 10)).is_empty(), "one offer in flight per caller");
        e.offer_ended(c, OfferEnd::NoAnswer, 15_000);
        // Top down starts from the top again: agent 1 is free, so it rings again.
        assert_eq!(offers(&e.dispatch(&Unknown, 15_000)), [(c, vec![1])]);
        e.offer_ended(c, OfferEnd::NoAnswer, 30_000);
        // Two unanswered in a row: agent 1 is on break, agent 2 is next.
        assert_eq!(e.status(1), Some(Status::OnBreak));
        assert_eq!(offers(&e.dispatch(&Unknown, 30_000)), [(c, vec![2])]);
    }

    #[test]
    fn an_unanswered_offer_puts_the_agent_on_break_after_the_queue_s_limit_and_says_so() {
        let s = spec(Strategy::TopDown, &[(1, 1)]);
        let mut e = Engine::new();
        let c = e.join(&s, "555", 0, false, 0).unwrap();
        e.dispatch(&Unknown, 0);
        assert!(e.offer_ended(c, OfferEnd::NoAnswer, 1).is_empty());
        e.dispatch(&Unknown, 1);
        assert_eq!(e.offer_ended(c, OfferEnd::NoAnswer, 2), [Effect::OnBreak { user_id: 1, queue_id: 1, unanswered: 2 }]);
        assert!(offers(&e.dispatch(&Unknown, 3)).is_empty());
    }

    #[test]
    fn an_answered_call_holds_the_agent_then_wrap_up_then_the_next_caller() {
        let s = spec(Strategy::TopDown, &[(1, 1)]);
        let mut e = Engine::new();
        let a = e.join(&s, "555", 0, false, 0).unwrap();
        let b = e.join(&s, "556", 0, false, 0).unwrap();
        assert_eq!(offers(&e.dispatch(&Unknown, 0)), [(a, vec![1])]);
        e.offer_ended(a, OfferEnd::Answered { user_id: 1 }, 3_000);
        assert_eq!(e.state(1, 3_000).unwrap().0, State::InQueueCall);
        assert_eq!(e.position(b), Some((1, 1)));
        assert!(offers(&e.dispatch(&Unknown, 4_000)).is_empty(), "the agent is talking");
        e.leave(a, Left::Abandoned, 60_000);
        assert_eq!(e.state(1, 60_000).unwrap().0, State::WrapUp);
        assert!(offers(&e.dispatch(&Unknown, 65_000)).is_empty(), "wrap-up is 10 s");
        assert_eq!(e.next_deadline(65_000), Some(70_000));
        assert_eq!(offers(&e.dispatch(&Unknown, 70_000)), [(b, vec![1])]);
        let today = e.counters(1);
        assert_eq!((today.offered, today.answered, today.abandoned, today.within_service_level), (2, 1, 0, 1));
    }

    #[test]
    fn a_rejecting_agent_is_not_offered_again_for_the_reject_delay() {
        let s = spec(Strategy::TopDown, &[(1, 1), (2, 1)]);
        let mut e = Engine::new();
        let c = e.join(&s, "555", 0, false, 0).unwrap();
        e.dispatch(&Unknown, 0);
        e.offer_ended(c, OfferEnd::Rejected { user_id: 1 }, 1_000);
        assert_eq!(offers(&e.dispatch(&Unknown, 1_000)), [(c, vec![2])]);
        e.offer_ended(c, OfferEnd::NoAnswer, 16_000);
        assert_eq!(offers(&e.dispatch(&Unknown, 16_000)), [(c, vec![2])], "1 is still in its reject delay");
        e.offer_ended(c, OfferEnd::NoAnswer, 31_000);
        assert_eq!(offers(&e.dispatch(&Unknown, 31_000)), [(c, vec![1])]);
    }

    #[test]
    fn ring_all_rings_everyone_free_and_progressive_adds_one_every_step() {
        let mut e = Engine::new();
        let s = spec(Strategy::RingAll, &[(1, 1), (2, 1), (3, 1)]);
        let c = e.join(&s, "555", 0, false, 0).unwrap();
        assert_eq!(offers(&e.dispatch(&Unknown, 0)), [(c, vec![1, 2, 3])]);
        e.leave(c, Left::Abandoned, 1);
        let mut s = spec(Strategy::RingProgressively, &[(1, 1), (2, 1), (3, 1)]);
        s.id = 2;
        let c = e.join(&s, "555", 0, false, 10).unwrap();
        let fx = e.dispatch(&Unknown, 10);
        let Effect::Offer { offer, .. } = &fx[0] else { panic!("an offer") };
        assert_eq!(offer.agents.iter().map(|a| a.delay_secs).collect::<Vec<_>>(), [0, 5, 10]);
        assert_eq!(offer.timeout_secs, 25, "the last one added rings a whole timeout");
        e.offer_ended(c, OfferEnd::Answered { user_id: 2 }, 6_000);
        assert_eq!(e.state(1, 6_000).unwrap().0, State::Available);
        assert_eq!(e.state(2, 6_000).unwrap().0, State::InQueueCall);
    }

    #[test]
    fn higher_tiers_open_as_the_caller_waits() {
        let s = spec(Strategy::RingAll, &[(1, 1), (2, 2), (3, 3)]);
        let mut e = Engine::new();
        e.set_status(1, Status::OnBreak, 0);
        let c = e.join(&s, "555", 0, false, 0).unwrap();
        assert!(offers(&e.dispatch(&Unknown, 0)).is_empty(), "tier 1 is on break; tier 2 not open yet");
        assert_eq!(e.next_deadline(0), Some(20_000));
        assert_eq!(offers(&e.dispatch(&Unknown, 20_000)), [(c, vec![2])]);
    }

    #[test]
    fn full_and_no_agent_lines_refuse_and_priority_goes_first() {
        let s = spec(Strategy::TopDown, &[(1, 1)]);
        let mut e = Engine::new();
        e.set_status(1, Status::LoggedOut, 0);
        assert_eq!(e.join(&s, "555", 0, false, 0), Err(Refused::NoAgents));
        let a = e.join(&s, "555", 0, true, 0).unwrap();
        let b = e.join(&s, "556", 0, true, 1).unwrap();
        let vip = e.join(&s, "557", 5, true, 2).unwrap();
        assert_eq!(e.join(&s, "558", 0, true, 3), Err(Refused::Full));
        assert_eq!([e.position(vip), e.position(a), e.position(b)], [Some((1, 3)), Some((2, 3)), Some((3, 3))]);
        e.set_status(1, Status::Available, 10);
        assert_eq!(offers(&e.dispatch(&Unknown, 10)), [(vip, vec![1])]);
    }

    struct Busy(&'static str);
    impl Presence for Busy {
        fn on_a_call(&self, _: i64, ext: &str) -> bool {
            ext == self.0
        }
        fn registered(&self, _: i64, ext: &str) -> Option<bool> {
            Some(ext != "1003")
        }
    }

    #[test]
    fn agents_on_another_call_on_dnd_or_unregistered_are_skipped() {
        let mut s = spec(Strategy::TopDown, &[(1, 1), (2, 1), (3, 1), (4, 1)]);
        s.agents[1].dnd = true;
        let mut e = Engine::new();
        let c = e.join(&s, "555", 0, false, 0).unwrap();
        // 1001 is on a call, 1002 on DND, 1003 unregistered: 1004 takes it.
        assert_eq!(offers(&e.dispatch(&Busy("1001"), 0)), [(c, vec![4])]);
    }

    #[test]
    fn leaving_in_any_phase_frees_the_agent_and_counts_once() {
        let s = spec(Strategy::RingAll, &[(1, 1), (2, 1)]);
        let mut e = Engine::new();
        let c = e.join(&s, "555", 0, false, 0).unwrap();
        e.dispatch(&Unknown, 0);
        e.leave(c, Left::Abandoned, 5);
        e.leave(c, Left::Abandoned, 6);
        for a in [1, 2] {
            assert_eq!(e.state(a, 6).unwrap().0, State::Available);
        }
        assert_eq!(e.counters(1).abandoned, 1);
        // An offer ending after its caller left changes nothing.
        assert!(e.offer_ended(c, OfferEnd::Answered { user_id: 1 }, 7).is_empty());
        assert_eq!(e.talking(1), 0);
    }

    /// Random joins, answers, no-answers, rejects and hangups on three queues sharing 20
    /// agents: nobody is ever offered twice at once or talks to two callers, and at the end
    /// every agent is free and the counters add up.
    #[test]
    fn churn_never_double_books_and_ends_with_everyone_free() {
        let mut rng = 0x9e3779b97f4a7c15u64;
        let mut next = move |n: u64| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng % n
        };
        let agents: Vec<(i64, u8)> = (1..=20).map(|i| (i, (i % 3 + 1) as u8)).collect();
        let specs: Vec<QueueSpec> = [Strategy::LongestIdle, Strategy::RingAll, Strategy::RoundRobin]
            .into_iter()
            .enumerate()
            .map(|(i, st)| {
                let mut s = spec(st, &agents[i * 5..i * 5 + 10]);
                s.id = i as i64 + 1;
                s.max_callers = 0;
                s.max_no_answer = 0;
                s
            })
            .collect();
        let mut e = Engine::new();
        let mut waiting: Vec<CallerId> = Vec::new();
        let mut ringing: HashMap<CallerId, Vec<i64>> = HashMap::new();
        let mut talking: Vec<CallerId> = Vec::new();
        let (mut joined, mut answered, mut abandoned) = (0u64, 0u64, 0u64);
        let mut now = 0;
        for step in 0..8_000 {
            now += next(500);
            if step < 6_000 && next(3) == 0 {
                let s = &specs[next(3) as usize];
                waiting.push(e.join(s, "555", 0, true, now).unwrap());
                joined += 1;
            }
            for fx in e.dispatch(&Unknown, now) {
                if let Effect::Offer { caller, offer } = fx {
                    assert!(ringing.insert(caller, offer.agents.iter().map(|a| a.user_id).collect()).is_none(), "two offers at once");
                }
            }
            let busy: Vec<i64> = ringing.values().flatten().copied().collect();
            let mut seen = std::collections::HashSet::new();
            assert!(busy.iter().all(|a| seen.insert(*a)), "an agent offered two callers at once");
            for a in 1..=20 {
                assert!(e.talking(a) <= 1);
            }
            match next(4) {
                0 if !ringing.is_empty() => {
                    let c = *ringing.keys().nth(next(ringing.len() as u64) as usize).unwrap();
                    let agents = ringing.remove(&c).unwrap();
                    match next(4) {
                        0 => e.offer_ended(c, OfferEnd::NoAnswer, now),
                        1 => e.offer_ended(c, OfferEnd::Rejected { user_id: agents[0] }, now),
                        _ => {
                            let who = agents[next(agents.len() as u64) as usize];
                            waiting.retain(|w| *w != c);
                            talking.push(c);
                            answered += 1;
                            e.offer_ended(c, OfferEnd::Answered { user_id: who }, now)
                        }
                    };
                }
                1 if !talking.is_empty() => {
                    let c = talking.swap_remove(next(talking.len() as u64) as usize);
                    e.leave(c, Left::Abandoned, now);
                }
                2 if !waiting.is_empty() && next(4) == 0 => {
                    let c = waiting.swap_remove(next(waiting.len() as u64) as usize);
                    ringing.remove(&c);
                    e.leave(c, Left::Abandoned, now);
                    abandoned += 1;
                }
                _ => {}
            }
        }
        for c in talking.drain(..).chain(waiting.drain(..)) {
            e.leave(c, Left::Abandoned, now);
        }
        now += 3_600_000;
        for a in 1..=20 {
            assert_eq!(e.state(a, now).unwrap().0, State::Available, "agent {a}");
            assert_eq!(e.talking(a), 0);
        }
        let total = specs.iter().map(|s| e.counters(s.id)).fold(Counters::default(), |mut t, c| {
            t.offered += c.offered;
            t.answered += c.answered;
            t.abandoned += c.abandoned;
            t
        });
        assert_eq!(total.offered, joined);
        assert_eq!(total.answered, answered);
        assert!(total.abandoned >= abandoned);
        assert_eq!(total.offered, total.answered + total.abandoned);
        assert!(answered > 500, "the churn answered calls ({answered})");
    }
}
