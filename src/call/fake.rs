//! A scripted [`Channel`] for unit tests of the steps: it answers each command from its
//! script (how each bridge ends, what each digit prompt collects, what each api command
//! says) and writes down every command it was given, in order, as the switch would have
//! received it, so a test asserts on the exact commands a branch sends.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use super::channel::{multiset_arg, Ask, Channel};
use crate::esl::{ApiCommand, Connection, EslError, Event, Headers};

pub(crate) const UUID: &str = "00000000-0000-4000-8000-000000000001";

#[derive(Default)]
pub(crate) struct Fake {
    log: Mutex<Vec<String>>,
    hung_up: AtomicBool,
    /// How each bridge ends (its originate_disposition), in order; a bridge past the script
    /// ends NO_ANSWER.
    bridges: Mutex<VecDeque<String>>,
    /// What each digit prompt collects, in order; past the script, nothing (a timeout).
    digits: Mutex<VecDeque<String>>,
    /// The caller hangs up when the bridge with this index (from 0) is run.
    hang_up_on_bridge: Mutex<Option<usize>>,
    /// What `global_getvar recordings_dir` answers.
    recordings_dir: Mutex<Option<String>>,
    /// The call's event stream, for a test that sends the far legs' events.
    events: Mutex<Option<tokio::sync::mpsc::UnboundedSender<Box<Event>>>>,
    /// Events the far legs send while the first bridge runs (a callee answering, keys).
    during_bridge: Mutex<Vec<Event>>,
    /// The first bridge is a conversation that lasts until a party is killed (`uuid_kill`).
    talk_until_kill: AtomicBool,
    /// The first bridge's far end answers (`during_bridge` is sent) and the caller hangs up
    /// in the same instant: the bridge's wait ends with the hangup.
    hang_up_as_answered: AtomicBool,
    killed: tokio::sync::Notify,
}

pub(crate) fn event(pairs: &[(&str, &str)]) -> Event {
    Event { headers: Headers::from_pairs(pairs.iter().copied(), false), body: None }
}

impl Fake {
    pub(crate) fn new() -> Fake {
        Fake::default()
    }

    /// Bridges end with these dispositions, in order (`SUCCESS` is answered).
    pub(crate) fn bridges(self, ends: &[&str]) -> Fake {
        *self.bridges.lock().unwrap() = ends.iter().map(|s| s.to_string()).collect();
        self
    }

    /// Digit prompts collect these, in order (`""` for a timeout).
    pub(crate) fn digits(self, entries: &[&str]) -> Fake {
        *self.digits.lock().unwrap() = entries.iter().map(|s| s.to_string()).collect();
        self
    }

    /// The caller gives up while the `n`th bridge (from 0) rings.
    pub(crate) fn hangs_up_on_bridge(self, n: usize) -> Fake {
        *self.hang_up_on_bridge.lock().unwrap() = Some(n);
        self
    }

    /// The first bridge is answered and lasts until a party is killed; `events` arrive
    /// from the far legs while it runs.
    pub(crate) fn conversation(self, events: Vec<Event>) -> Fake {
        *self.during_bridge.lock().unwrap() = events;
        self.talk_until_kill.store(true, Ordering::SeqCst);
        self
    }

    /// The first bridge is answered (`events` arrive from the far leg) and the caller hangs
    /// up at that very moment.
    pub(crate) fn hangs_up_as_answered(self, events: Vec<Event>) -> Fake {
        *self.during_bridge.lock().unwrap() = events;
        self.hang_up_as_answered.store(true, Ordering::SeqCst);
        self
    }

    pub(crate) fn recordings_dir(self, dir: &str) -> Fake {
        *self.recordings_dir.lock().unwrap() = Some(dir.to_string());
        self
    }

    /// Every command so far, as `app argument` lines.
    pub(crate) fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    fn note(&self, line: String) {
        self.log.lock().unwrap().push(line);
    }

    fn gone(&self) -> Result<(), EslError> {
        if self.hung_up.load(Ordering::SeqCst) {
            Err(EslError::Hangup { cause: Some("NORMAL_CLEARING".into()) })
        } else {
            Ok(())
        }
    }
}

impl Channel for Fake {
    fn uuid(&self) -> &str {
        UUID
    }

    fn hung_up(&self) -> bool {
        self.hung_up.load(Ordering::SeqCst)
    }

    async fn answer(&self) -> Result<(), EslError> {
        self.gone()?;
        self.note("answer".into());
        Ok(())
    }

    async fn pre_answer(&self) -> Result<(), EslError> {
        self.gone()?;
        self.note("pre_answer".into());
        Ok(())
    }

    async fn play(&self, file: &str) -> Result<(), EslError> {
        self.gone()?;
        self.note(format!("playback {file}"));
        Ok(())
    }

    async fn read_digits(&self, ask: &Ask<'_>) -> Result<String, EslError> {
        self.gone()?;
        self.note(format!("play_and_get_digits {} {} {}", ask.min, ask.max, ask.prompt));
        Ok(self.digits.lock().unwrap().pop_front().unwrap_or_default())
    }

    async fn set(&self, vars: &[(&str, String)]) -> Result<(), EslError> {
        self.gone()?;
        self.note(format!("multiset {}", multiset_arg(vars)));
        Ok(())
    }

    async fn bridge(&self, dialstring: &str) -> Result<Event, EslError> {
        self.gone()?;
        let n = self.log.lock().unwrap().iter().filter(|l| l.starts_with("bridge ")).count();
        self.note(format!("bridge {dialstring}"));
        if n == 0 && self.talk_until_kill.load(Ordering::SeqCst) {
            let tx = self.events.lock().unwrap().clone().expect("the call subscribed");
            for ev in std::mem::take(&mut *self.during_bridge.lock().unwrap()) {
                let _ = tx.send(Box::new(ev));
            }
            self.killed.notified().await;
            return Ok(event(&[("Event-Name", "CHANNEL_EXECUTE_COMPLETE"), ("variable_originate_disposition", "SUCCESS")]));
        }
        if n == 0 && self.hang_up_as_answered.load(Ordering::SeqCst) {
            let tx = self.events.lock().unwrap().clone().expect("the call subscribed");
            for ev in std::mem::take(&mut *self.during_bridge.lock().unwrap()) {
                let _ = tx.send(Box::new(ev));
            }
            self.hung_up.store(true, Ordering::SeqCst);
            return self.gone().map(|_| unreachable!());
        }
        let end = self.bridges.lock().unwrap().pop_front().unwrap_or_else(|| "NO_ANSWER".into());
        if *self.hang_up_on_bridge.lock().unwrap() == Some(n) {
            self.hung_up.store(true, Ordering::SeqCst);
        }
        Ok(event(&[("Event-Name", "CHANNEL_EXECUTE_COMPLETE"), ("variable_originate_disposition", &end)]))
    }

    async fn run(&self, app: &str, arg: &str) -> Result<Event, EslError> {
        self.gone()?;
        self.note(format!("{app} {arg}"));
        Ok(event(&[("Event-Name", "CHANNEL_EXECUTE_COMPLETE"), ("Application", app)]))
    }

    async fn hangup(&self, cause: &str) -> Result<(), EslError> {
        if !self.hung_up.swap(true, Ordering::SeqCst) {
            self.note(format!("hangup {cause}"));
        }
        Ok(())
    }

    async fn hangup_wait(&self) {}

    async fn hangup_complete(&self, _within: Duration) -> Option<Event> {
        None
    }

    async fn api(&self, cmd: &ApiCommand) -> Result<String, EslError> {
        let line = cmd.line().map_err(|e| EslError::Protocol(e.to_string()))?;
        self.note(format!("api {line}"));
        match cmd {
            ApiCommand::UuidKill { .. } => {
                self.killed.notify_one();
                Ok("+OK".into())
            }
            ApiCommand::GlobalGetVar { name } if name == "recordings_dir" => Ok(self.recordings_dir.lock().unwrap().clone().unwrap_or_default()),
            _ => Ok("+OK".into()),
        }
    }

    async fn api_ok(&self, cmd: &ApiCommand) -> Result<(), EslError> {
        self.api(cmd).await.map(drop)
    }

    fn events(&self) -> crate::esl::Events {
        // Nothing happens on the far legs of a scripted call unless a test sends it.
        let (tx, rx) = crate::esl::Events::channel();
        *self.events.lock().unwrap() = Some(tx);
        rx
    }

    fn connection(&self) -> Option<&Connection> {
        None
    }
}
