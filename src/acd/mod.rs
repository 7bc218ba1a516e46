//! Call queues (ACD): callers wait in line and agents are offered them by the queue's
//! strategy. [`engine`] holds the state and decides; [`strategy`] orders the agents; this
//! module is the live handle every call shares: it runs the engine under one lock, hands
//! each offer to the waiting caller's task (whose own bridge rings the agents, so the
//! caller keeps its music and its keys), and wakes the engine when a deadline passes.
//!
//! A caller in line holds a [`Ticket`]; however its task ends (the caller hangs up, the
//! switch goes away, a panic) the ticket's drop takes it out of the line and frees what
//! it held, so no agent is left offered or in a call that is not happening.

pub mod engine;
pub mod strategy;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, Notify};
use tokio::time::Instant;

pub use engine::{AgentSpec, Counters, Effect, Left, Offer, OfferEnd, Offered, Outcome, Presence, QueueSpec, Refused, State, Status, Unknown};

/// The switch's live model as the engine's view of the agents' phones.
pub struct SwitchPresence(pub crate::switch::Switch);

impl Presence for SwitchPresence {
    fn on_a_call(&self, tenant: i64, extension: &str) -> bool {
        self.0.phone_on_a_call(tenant, extension)
    }

    fn registered(&self, tenant: i64, extension: &str) -> Option<bool> {
        // Offline, the model knows nothing: offering is the better guess.
        self.0.online().then(|| self.0.phone_registered(tenant, extension))
    }
}

/// How often the engine looks again while callers wait, besides its own deadlines: the
/// switch's view of the agents' phones (a call ending elsewhere, a phone registering)
/// changes without telling it.
const RECHECK: Duration = Duration::from_secs(1);

/// What the engine wants done outside it (an agent put on break must be written and told).
pub type OnBreak = Box<dyn Fn(i64, i64, u32) + Send + Sync>;

struct Inner {
    engine: Mutex<engine::Engine>,
    offers: Mutex<HashMap<engine::CallerId, mpsc::UnboundedSender<Offer>>>,
    presence: Arc<dyn Presence + Send + Sync>,
    start: Instant,
    wake: Notify,
    on_break: Mutex<Option<OnBreak>>,
    /// The timer has been started.
    timer: std::sync::atomic::AtomicBool,
}

/// The queues, shared by every call. Cheap to clone.
#[derive(Clone)]
pub struct Acd {
    inner: Arc<Inner>,
}

impl Default for Acd {
    fn default() -> Acd {
        Acd::new(Arc::new(Unknown))
    }
}

impl Acd {
    pub fn new(presence: Arc<dyn Presence + Send + Sync>) -> Acd {
        Acd {
            inner: Arc::new(Inner {
                engine: Mutex::new(engine::Engine::new()),
                offers: Mutex::default(),
                presence,
                start: Instant::now(),
                wake: Notify::new(),
                on_break: Mutex::new(None),
                timer: std::sync::atomic::AtomicBool::new(false),
            }),
        }
    }

    /// Called with (user id, queue id, unanswered offers) when the engine puts an agent on
    /// break for not answering.
    pub fn on_break(&self, f: OnBreak) {
        *self.inner.on_break.lock().unwrap_or_else(|p| p.into_inner()) = Some(f);
    }

    /// Engine time: milliseconds since this handle was made (tokio's clock, so tests with
    /// a paused clock see wrap-up and delays pass at once).
    fn now(&self) -> u64 {
        self.inner.start.elapsed().as_millis() as u64
    }

    fn engine(&self) -> std::sync::MutexGuard<'_, engine::Engine> {
        self.inner.engine.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` on the engine, then offers whatever can be offered.
    fn with<T>(&self, f: impl FnOnce(&mut engine::Engine, u64) -> (T, Vec<Effect>)) -> T {
        let now = self.now();
        let (out, mut effects) = {
            let mut e = self.engine();
            let (out, mut effects) = f(&mut e, now);
            effects.extend(e.dispatch(self.inner.presence.as_ref(), now));
            (out, effects)
        };
        self.deliver(&mut effects);
        self.inner.wake.notify_one();
        out
    }

    fn deliver(&self, effects: &mut Vec<Effect>) {
        for effect in effects.drain(..) {
            match effect {
                Effect::Offer { caller, offer } => {
                    let sent = self.inner.offers.lock().unwrap_or_else(|p| p.into_inner()).get(&caller).map(|tx| tx.send(offer).is_ok());
                    if sent != Some(true) {
                        // The caller's task is gone (its ticket is being dropped): nobody
                        // rings, and the agents are free again.
                        let now = self.now();
                        self.engine().leave(caller, Left::Abandoned, now);
                    }
                }
                Effect::OnBreak { user_id, queue_id, unanswered } => {
                    if let Some(f) = self.inner.on_break.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
                        f(user_id, queue_id, unanswered);
                    }
                }
            }
        }
    }

    /// Joins `spec`'s line; offers arrive on the ticket.
    pub fn join(&self, spec: &QueueSpec, caller: &str, priority: i64, wait_without_agents: bool) -> Result<Ticket, Refused> {
        let (tx, rx) = mpsc::unbounded_channel();
        // The sender is in place before the engine can offer anything to the new caller.
        let id = {
            let now = self.now();
            let mut e = self.engine();
            let id = e.join(spec, caller, priority, wait_without_agents, now)?;
            self.inner.offers.lock().unwrap_or_else(|p| p.into_inner()).insert(id, tx);
            id
        };
        self.ensure_timer();
        let ticket = Ticket { acd: self.clone(), id, queue: spec.id, offers: rx, left: None };
        self.with(|_, _| ((), Vec::new()));
        Ok(ticket)
    }

    pub fn set_status(&self, user_id: i64, status: Status) {
        self.with(|e, now| {
            e.set_status(user_id, status, now);
            ((), Vec::new())
        })
    }

    pub fn status(&self, user_id: i64) -> Option<Status> {
        self.engine().status(user_id)
    }

    /// What an agent is doing, and for how long.
    pub fn state(&self, user_id: i64) -> Option<(State, Duration)> {
        let now = self.now();
        self.engine().state(user_id, now).map(|(s, since)| (s, Duration::from_millis(now.saturating_sub(since))))
    }

    /// A queue's callers in line: caller ID and how long each has waited.
    pub fn waiting(&self, queue: i64) -> Vec<(String, Duration)> {
        let now = self.now();
        self.engine().waiting(queue).into_iter().map(|(c, at)| (c, Duration::from_millis(now.saturating_sub(at)))).collect()
    }

    pub fn counters(&self, queue: i64) -> Counters {
        self.engine().counters(queue)
    }

    /// How many queue calls an agent is in now (the engine never makes it more than one).
    pub fn talking(&self, user_id: i64) -> usize {
        self.engine().talking(user_id)
    }

    /// Starts the engine's timer once, on the runtime of the first caller: it keeps offering
    /// as deadlines pass (wrap-ups and reject delays ending, callers reaching the next
    /// tier) and, while anyone waits, every [`RECHECK`]. It ends with the runtime.
    fn ensure_timer(&self) {
        if self.inner.timer.swap(true, std::sync::atomic::Ordering::AcqRel) {
            return;
        }
        let acd = self.clone();
        tokio::spawn(async move {
            loop {
                let now = acd.now();
                let next = {
                    let e = acd.engine();
                    let recheck = e.anyone_waiting().then(|| now + RECHECK.as_millis() as u64);
                    match (e.next_deadline(now), recheck) {
                        (Some(a), Some(b)) => a.min(b),
                        (a, b) => a.or(b).unwrap_or(now + 60_000),
                    }
                };
                tokio::select! {
                    _ = tokio::time::sleep_until(acd.inner.start + Duration::from_millis(next)) => acd.with(|_, _| ((), Vec::new())),
                    // Something changed: the next deadline is worked out again.
                    _ = acd.inner.wake.notified() => {}
                }
            }
        });
    }
}

/// A caller's place in a queue, from joining until its conversation with an agent ends.
pub struct Ticket {
    acd: Acd,
    id: engine::CallerId,
    queue: i64,
    offers: mpsc::UnboundedReceiver<Offer>,
    /// How the caller left the line, once it has.
    left: Option<Left>,
}

impl Ticket {
    /// The next offer for this caller.
    pub async fn offer(&mut self) -> Option<Offer> {
        self.offers.recv().await
    }

    /// An offer already waiting, if there is one.
    pub fn try_offer(&mut self) -> Option<Offer> {
        self.offers.try_recv().ok()
    }

    /// How the offer ended; the caller either talks to an agent now or waits on.
    pub fn offer_ended(&self, end: OfferEnd) {
        self.acd.with(|e, now| ((), e.offer_ended(self.id, end, now)));
    }

    /// A handle that tells the engine an agent answered, from inside the bridge.
    pub fn reporter(&self) -> Reporter {
        Reporter { acd: self.acd.clone(), id: self.id }
    }

    /// The agent the caller is talking to, once one answered.
    pub fn agent(&self) -> Option<i64> {
        self.acd.engine().agent_of(self.id)
    }

    /// The agent who answered, and how long the caller waited in line for them.
    pub fn answered(&self) -> Option<(i64, Duration)> {
        self.acd.engine().answered(self.id).map(|(a, w)| (a, Duration::from_millis(w)))
    }

    /// Place in line (1 = next) and the line's length; None once answered.
    pub fn position(&self) -> Option<(usize, usize)> {
        self.acd.engine().position(self.id)
    }

    /// The expected wait at the caller's place in line.
    pub fn estimated_wait(&self) -> Option<Duration> {
        let e = self.acd.engine();
        let (pos, _) = e.position(self.id)?;
        e.estimated_wait_ms(self.queue, pos).map(Duration::from_millis)
    }

    /// The caller left the line (timed out, exit key); the drop after it counts nothing more.
    pub fn leave(mut self, how: Left) {
        self.left = Some(how);
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.acd.inner.offers.lock().unwrap_or_else(|p| p.into_inner()).remove(&self.id);
        let how = self.left.unwrap_or(Left::Abandoned);
        let id = self.id;
        self.acd.with(|e, now| {
            e.leave(id, how, now);
            ((), Vec::new())
        });
    }
}

/// Tells the engine that an agent answered a caller's offer.
pub struct Reporter {
    acd: Acd,
    id: engine::CallerId,
}

impl Reporter {
    pub fn answered(&self, user_id: i64) {
        self.acd.with(|e, now| ((), e.offer_ended(self.id, OfferEnd::Answered { user_id }, now)));
    }
}
