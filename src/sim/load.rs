//! `switchboard simulate`: many simulated calls against a running switchboard, with the
//! latencies that matter to a caller.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::call::Timing;
use super::{CallReport, Scenario, Switch};

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Percentiles {
    pub count: usize,
    pub p50_us: u64,
    pub p90_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
}

impl Percentiles {
    pub fn of(mut v: Vec<u64>) -> Percentiles {
        if v.is_empty() {
            return Percentiles::default();
        }
        v.sort_unstable();
        let at = |q: f64| v[((v.len() as f64 * q).ceil() as usize).clamp(1, v.len()) - 1];
        Percentiles { count: v.len(), p50_us: at(0.50), p90_us: at(0.90), p99_us: at(0.99), max_us: *v.last().unwrap() }
    }
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct LoadReport {
    pub calls: usize,
    pub completed: usize,
    pub errors: usize,
    /// The first few error descriptions.
    pub error_samples: Vec<String>,
    pub elapsed_ms: u64,
    pub calls_per_second: f64,
    pub connect_to_first_command: Percentiles,
    pub channel_data_to_first_app: Percentiles,
    pub whole_call: Percentiles,
}

/// A call went as switchboard should drive it: the socket ended in an orderly way, no
/// protocol errors, and at least one application ran.
pub fn call_ok(r: &CallReport) -> Result<(), String> {
    if !r.protocol_errors.is_empty() {
        return Err(format!("{}: {}", r.uuid, r.protocol_errors.join("; ")));
    }
    if !matches!(r.ended.as_str(), "exit" | "linger expired" | "no linger" | "peer closed" | "transferred") {
        return Err(format!("{}: socket ended with {:?}", r.uuid, r.ended));
    }
    if r.apps.is_empty() {
        return Err(format!("{}: no application ran (commands: {:?})", r.uuid, r.commands));
    }
    Ok(())
}

/// Places `calls` calls at `rate` per second (0 = as fast as possible, at most `concurrency`
/// at once) and waits for all of them.
pub async fn run(target: SocketAddr, calls: usize, rate: f64, concurrency: usize, scenario: Scenario) -> LoadReport {
    run_mix(target, calls, rate, concurrency, &[Arc::new(scenario)]).await
}

/// As [`run`], the calls taking the scenarios in turn (many DIDs, many callers).
pub async fn run_mix(target: SocketAddr, calls: usize, rate: f64, concurrency: usize, scenarios: &[Arc<Scenario>]) -> LoadReport {
    let switch = Switch::default();
    let sem = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    let start = Instant::now();
    let mut tally = Tally::default();
    // Each call's full report (every command and application it saw, a few KB) is boiled
    // down on its own task to a verdict and three timings, and finished tasks are reaped as
    // new ones start: a long run holds only the calls in progress, not one report per call.
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..calls {
        if rate > 0.0 {
            tokio::time::sleep_until(start + Duration::from_secs_f64(i as f64 / rate)).await;
        }
        let permit = sem.clone().acquire_owned().await.expect("semaphore");
        let (sw, sc) = (switch.clone(), scenarios[i % scenarios.len()].clone());
        tasks.spawn(async move {
            let r = sw.call(target, sc).await;
            drop(permit);
            (call_ok(&r), r.timing)
        });
        while let Some(done) = tasks.try_join_next() {
            tally.add(done);
        }
    }
    while let Some(done) = tasks.join_next().await {
        tally.add(done);
    }
    let mut report = tally.report;
    report.calls = calls;
    report.elapsed_ms = start.elapsed().as_millis() as u64;
    report.calls_per_second = calls as f64 / start.elapsed().as_secs_f64().max(1e-9);
    report.connect_to_first_command = Percentiles::of(tally.c2f);
    report.channel_data_to_first_app = Percentiles::of(tally.d2a);
    report.whole_call = Percentiles::of(tally.whole);
    report
}

/// What the finished calls of a run add up to so far.
#[derive(Default)]
struct Tally {
    report: LoadReport,
    c2f: Vec<u64>,
    d2a: Vec<u64>,
    whole: Vec<u64>,
}

impl Tally {
    fn add(&mut self, done: Result<(Result<(), String>, Timing), tokio::task::JoinError>) {
        let error = match done {
            Ok((verdict, timing)) => {
                self.c2f.extend(timing.connect_to_first_command_us);
                self.d2a.extend(timing.channel_data_to_first_app_us);
                self.whole.extend(timing.whole_call_us);
                verdict.err()
            }
            Err(e) => Some(format!("call task failed: {e}")),
        };
        match error {
            None => self.report.completed += 1,
            Some(e) => {
                self.report.errors += 1;
                if self.report.error_samples.len() < 5 {
                    self.report.error_samples.push(e);
                }
            }
        }
    }
}
