//! The run: concurrent workers, each a Jepsen-style process issuing one operation at a time,
//! recording every invocation and completion in the journal.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio_util::sync::CancellationToken;

use crate::early_stop::{Attempt, EarlyStop, NOT_STARTED, TIMED_OUT};
use crate::journal::{Journal, JournalHandle};
use crate::nemesis::{FaultSummary, NemesisPlan, Running, Span, SpanOutcome};
use crate::phases::{self, Phase, PhaseTally, WARMUP};
use crate::stall::{StallOptions, StallWatch};
use crate::summary::{Latency, Summary};
use crate::workload::{drains, Workload, MAX_DRAIN};
use crate::{Client, Completion, Invocation, Target};
use photofinish_history::{RecordedWith, Value};

/// How to run a workload.
#[derive(Clone, Debug)]
pub struct RunConfig {
    pub workload: Workload,
    /// Stop after this many operations (not counting the final reads).
    pub ops: Option<u64>,
    /// Stop after this long.
    pub duration: Option<Duration>,
    /// At most this many operations per second over all clients.
    pub rate: Option<f64>,
    /// Seeds every worker's generator: the same seed issues the same operations.
    pub seed: u64,
    /// An operation still unanswered after this long is recorded as indeterminate (`info`).
    pub op_timeout: Duration,
    /// How long a client that takes time to start (see [`Client::started`]: an exec program
    /// before its `ready` line or first answer) may take, from its first operation; the
    /// operation timeout runs only once it is started. An operation whose client is not
    /// started in time is recorded as indeterminate.
    pub start_timeout: Duration,
    /// The longest wait for the system outside its operations: the target's setup (connecting,
    /// resetting, an exec program's first answer), the end of the faults, and all the final
    /// reads together. A setup that takes longer ends the run with [`RunError::Unready`]; final
    /// reads still unanswered are recorded as indeterminate.
    pub setup_timeout: Duration,
    /// The JSON Lines file the history is appended to.
    pub history: PathBuf,
    /// Force every batch of events to disk, not only to the operating system.
    pub fsync: bool,
    /// Draw a progress bar on standard error (only when it is a terminal).
    pub progress: bool,
    /// What the history's header line says beyond what the run knows itself. The run always
    /// records the version, the model, the workload, the target, the seed and the options
    /// (see [`RunConfig::recorded_with`]); the fields set here win, and `other` entries are
    /// added (the model's initial value, say, which only the caller knows).
    pub header: RecordedWith,
    /// Faults to perform beside the clients, seeded with `seed`; each fault's start and end is
    /// written into the history and the summary says how operations fared in and out of them.
    pub nemesis: Option<NemesisPlan>,
    /// When quiet counts as a stall (default: 10 × p99 latency, at least 1 s), and whether
    /// a stall stops the run.
    pub stall: StallOptions,
    /// Named stretches of the run from its start (see [`crate::phases`]): the summary gives
    /// each its figures, and leaves a `warmup` phase out of the headline latency and
    /// throughput. They do not end the run: set `duration` (to [`Phase::total`], say) for that.
    pub phases: Vec<Phase>,
}

impl RunConfig {
    /// 1000 operations, no rate limit, seed 0, a 5 s operation timeout, 30 s start and setup
    /// timeouts, no progress bar.
    pub fn new(workload: Workload, history: impl Into<PathBuf>) -> RunConfig {
        RunConfig {
            workload,
            ops: Some(1000),
            duration: None,
            rate: None,
            seed: 0,
            op_timeout: Duration::from_secs(5),
            start_timeout: Duration::from_secs(30),
            setup_timeout: Duration::from_secs(30),
            history: history.into(),
            fsync: false,
            progress: false,
            header: RecordedWith::default(),
            nemesis: None,
            stall: StallOptions::default(),
            phases: Vec::new(),
        }
    }

    /// The header line a run against a target described as `target` writes first.
    ///
    /// ```
    /// use photofinish_run::{RunConfig, Workload, WorkloadKind};
    ///
    /// let mut config = RunConfig::new(Workload::new(WorkloadKind::Counter, 2, 4), "h.jsonl");
    /// config.seed = 7;
    /// let header = config.recorded_with("redis 127.0.0.1:6379");
    /// assert_eq!(header.model.as_deref(), Some("counter"));
    /// assert_eq!(header.seed, Some(7));
    /// assert_eq!(header.other["options"].to_json_string(), r#"{"clients":4,"fsync":false,"keys":2,"op_timeout_s":5.0,"ops":1000}"#);
    /// ```
    pub fn recorded_with(&self, target: &str) -> RecordedWith {
        let mut header = self.header.clone();
        header
            .version
            .get_or_insert_with(|| env!("CARGO_PKG_VERSION").to_string());
        header
            .model
            .get_or_insert_with(|| self.workload.kind.model().to_string());
        header
            .workload
            .get_or_insert_with(|| self.workload.kind.to_string());
        header.target.get_or_insert_with(|| target.to_string());
        header.seed.get_or_insert(self.seed);
        if header.init.is_none() {
            header.init = self.workload.init();
        }
        if !header.other.contains_key("options") {
            let mut options = serde_json::json!({
                "clients": self.workload.clients,
                "keys": self.workload.keys,
                "op_timeout_s": self.op_timeout.as_secs_f64(),
                "fsync": self.fsync,
            });
            if let Some(ops) = self.ops {
                options["ops"] = ops.into();
            }
            if let Some(duration) = self.duration {
                options["duration_s"] = duration.as_secs_f64().into();
            }
            if let Some(rate) = self.rate {
                options["rate"] = rate.into();
            }
            for (name, control) in self.workload.controls_json() {
                options[name] = control;
            }
            if !self.phases.is_empty() {
                options["phases"] = self
                    .phases
                    .iter()
                    .map(|p| serde_json::json!({"name": p.name, "duration_s": p.duration.as_secs_f64()}))
                    .collect();
            }
            if let Ok(options) = serde_json::from_value(options) {
                header.other.insert("options".to_string(), options);
            }
        }
        header
    }
}

/// Why a run could not produce a history.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot write the history to {path}: {source}")]
    History {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot prepare the target: {0}")]
    Setup(String),
    /// The system did not answer a step (`exec: setup`) within the setup timeout; the history
    /// file holds what was recorded before (its header).
    #[error("{step} got no answer within {}", seconds(*waited))]
    Unready { step: String, waited: Duration },
    #[error("cannot start the runtime: {0}")]
    Runtime(std::io::Error),
    #[error("cannot start the nemesis: {0}")]
    Nemesis(String),
}

/// Runs the workload against `target` until the budget is spent or `stop` is cancelled, and
/// returns the run's figures. The history is in `config.history`.
pub async fn run<T: Target>(
    target: Arc<T>,
    config: &RunConfig,
    stop: CancellationToken,
) -> Result<Summary, RunError> {
    let history_error = |source| RunError::History {
        path: config.history.clone(),
        source,
    };
    let header = config.recorded_with(&target.describe());
    // Opened before the setup, so that a system that never becomes ready still leaves the
    // history saying what was attempted.
    let fresh = std::fs::metadata(&config.history).map_or(true, |m| m.len() == 0);
    let journal = Journal::open(&config.history, config.fsync, &header).map_err(history_error)?;
    let setup = tokio::select! {
        setup = tokio::time::timeout(config.setup_timeout, target.setup()) => setup,
        () = stop.cancelled() => Ok(Err("interrupted before the system was ready".to_string())),
    };
    let unready = match setup {
        Ok(Ok(())) => None,
        Ok(Err(message)) => Some(RunError::Setup(message)),
        Err(_) => Some(RunError::Unready {
            step: format!("{}: setup", kind_of(&target.describe())),
            waited: config.setup_timeout,
        }),
    };
    if let Some(error) = unready {
        journal.close().map_err(history_error)?;
        // A setup that failed outright recorded nothing worth keeping: the same file can be
        // used again once the system is fixed. One that never answered keeps its header.
        if fresh && matches!(error, RunError::Setup(_)) {
            let _ = std::fs::remove_file(&config.history);
        }
        return Err(error);
    }
    // Cancelled by the caller, by a nemesis that failed, or by an early stop: either way the
    // clients stop.
    let halt = stop.child_token();
    let started = Instant::now();
    let nemesis = match &config.nemesis {
        Some(plan) => Some(
            Running::start(plan, config.seed, journal.handle(), started, halt.clone())
                .map_err(RunError::Nemesis)?,
        ),
        None => None,
    };
    let (stalls, stall_watcher) = StallWatch::start(
        journal.handle(),
        config.workload.clients,
        config.stall,
        halt.clone(),
    );
    let shared = Arc::new(Shared {
        journal: journal.handle(),
        stalls,
        budget: Budget {
            remaining: config.ops.map(AtomicU64::new),
            deadline: config.duration.map(|d| Instant::now() + d),
        },
        pace: config.rate.map(Pace::new),
        counts: Counts::default(),
        next_process: AtomicI64::new(config.workload.clients as i64),
        op_timeout: config.op_timeout,
        start_timeout: config.start_timeout,
        stop: halt.clone(),
        early_stop: early_stop(config, &target.describe(), halt.clone(), started),
        started,
        spans: nemesis.is_some(),
        phases: config.phases.clone(),
    });
    let progress = config.progress.then(|| progress_bar(config));
    let ticker = progress.clone().map(|bar| {
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
                bar.show(&shared.counts, started);
            }
        })
    });

    let workers: Vec<_> = (0..config.workload.clients)
        .map(|worker| {
            let generator = config.workload.generator(config.seed, worker);
            tokio::spawn(work(
                Arc::clone(&target),
                Arc::clone(&shared),
                worker,
                generator,
            ))
        })
        .collect();
    // One tally per phase, whether or not any operation falls in it.
    let mut tally = Tally {
        phases: vec![PhaseTally::default(); config.phases.len()],
        ..Tally::default()
    };
    for worker in workers {
        // A worker that panicked (a bug in a client) loses only its own figures; what it
        // recorded is in the journal.
        if let Ok(worker_tally) = worker.await {
            tally.merge(worker_tally);
        }
    }
    // The fault in force ends (a killed server is back) before the final reads.
    let faults = match nemesis {
        Some(running) => {
            let finishing = tokio::task::spawn_blocking(move || running.finish());
            Some(
                match tokio::time::timeout(config.setup_timeout, finishing).await {
                    Ok(Ok(finished)) => finished,
                    Ok(Err(_)) => (Vec::new(), Some("the nemesis panicked".to_string())),
                    Err(_) => (
                        Vec::new(),
                        Some(format!(
                            "nemesis: ending the faults got no answer within {}",
                            seconds(config.setup_timeout)
                        )),
                    ),
                },
            )
        }
        None => None,
    };
    if !halt.is_cancelled() && !shared.journal.failed() {
        let final_reads = config.workload.final_reads();
        if !final_reads.is_empty() {
            // All the final reads together get the setup timeout; any still unanswered then
            // is recorded as indeterminate.
            let deadline = Stop {
                token: halt.child_token(),
                reason: format!(
                    "final read: no answer within {}",
                    seconds(config.setup_timeout)
                ),
            };
            let timer = {
                let token = deadline.token.clone();
                let wait = config.setup_timeout;
                tokio::spawn(async move {
                    tokio::time::sleep(wait).await;
                    token.cancel();
                })
            };
            let reads = read_finally(
                &*target,
                &shared,
                config.workload.clients,
                final_reads,
                &deadline,
            );
            tally.merge(reads.await);
            timer.abort();
        }
    }
    if let Some(ticker) = ticker {
        ticker.abort();
    }
    if let Some(bar) = &progress {
        bar.show(&shared.counts, started);
        bar.bar.finish_and_clear();
    }
    stall_watcher.abort();
    let stalls = shared.stalls.finish();
    let elapsed = started.elapsed();
    journal.close().map_err(history_error)?;

    let counts = &shared.counts;
    let operations = counts.ok.load(Ordering::Relaxed)
        + counts.fail.load(Ordering::Relaxed)
        + counts.info.load(Ordering::Relaxed);
    let phases = phases::figures(&config.phases, &mut tally.phases, elapsed);
    let mut notes = config.workload.caveats();
    let warms_up = phases.iter().any(|p| p.name == WARMUP);
    if warms_up && phases.iter().all(|p| p.name == WARMUP || p.operations == 0) {
        notes.push(format!(
            "the run ended before any operation after the {WARMUP}: its headline figures measure nothing (raise --ops or --duration)"
        ));
    }
    // With phases, the headline throughput is that of the phases but the warm-up: their
    // operations over their time (the final reads are in no phase).
    let throughput = if phases.is_empty() {
        operations as f64 / elapsed.as_secs_f64().max(1e-9)
    } else {
        let (ops, secs) = phases
            .iter()
            .filter(|p| p.name != WARMUP)
            .fold((0, 0.0), |(ops, secs), p| {
                (ops + p.operations, secs + (p.end_s - p.start_s))
            });
        if secs > 0.0 {
            ops as f64 / secs
        } else {
            0.0
        }
    };
    Ok(Summary {
        target: target.describe(),
        workload: format!(
            "{} over {} key{}",
            config.workload.kind,
            config.workload.keys,
            if config.workload.keys == 1 { "" } else { "s" }
        ),
        clients: config.workload.clients,
        operations,
        ok: counts.ok.load(Ordering::Relaxed),
        fail: counts.fail.load(Ordering::Relaxed),
        info: counts.info.load(Ordering::Relaxed),
        connect_errors: counts.connect_errors.load(Ordering::Relaxed),
        elapsed,
        throughput,
        latency: Latency::of(&mut tally.latencies),
        errors: tally.errors,
        interrupted: stop.is_cancelled(),
        stopped_early: shared.early_stop.halted(),
        faults: faults.map(|(faults, error)| {
            FaultSummary::tally(faults, &tally.spans, elapsed.as_nanos() as u64, error)
        }),
        stalls,
        phases,
        notes,
    })
}

/// Runs on a runtime of its own; Ctrl-C stops the run cleanly (operations in flight are
/// recorded as indeterminate) and the summary still comes back.
pub fn run_blocking<T: Target>(target: T, config: &RunConfig) -> Result<Summary, RunError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(RunError::Runtime)?;
    let summary = runtime.block_on(async {
        let stop = CancellationToken::new();
        let on_interrupt = stop.clone();
        let interrupt = tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                on_interrupt.cancel();
            }
        });
        let summary = run(Arc::new(target), config, stop).await;
        interrupt.abort();
        summary
    });
    // A step that overran its bound (the end of the faults, say) may still be blocked in a
    // thread of the runtime: the run does not wait for it.
    runtime.shutdown_timeout(Duration::from_secs(1));
    summary
}

/// The run's early stop. With a nemesis, the unusable-target rule counts only operations
/// invoked before its first fault can start.
fn early_stop(
    config: &RunConfig,
    target: &str,
    clients: CancellationToken,
    started: Instant,
) -> EarlyStop {
    let window_ends = config
        .nemesis
        .as_ref()
        .map(|plan| started + plan.config.interval);
    let subject = if kind_of(target) == "exec" {
        "the program"
    } else {
        "the system"
    };
    EarlyStop::new(clients, window_ends, config, subject)
}

/// The kind of target, for naming a step: the first word of its description (`exec`, `redis`).
fn kind_of(description: &str) -> &str {
    description.split_whitespace().next().unwrap_or("target")
}

/// A duration for a person: `30 s`, `0.5 s`.
fn seconds(duration: Duration) -> String {
    format!("{} s", duration.as_secs_f64())
}

/// What ends operations in flight early, and what they are recorded with then.
struct Stop {
    token: CancellationToken,
    reason: String,
}

/// State the workers share.
struct Shared {
    journal: JournalHandle,
    budget: Budget,
    pace: Option<Pace>,
    counts: Counts,
    /// Process ids for fresh processes: a worker whose operation ended indeterminately carries
    /// on as a new process, since its old one may still be acting on the system.
    next_process: AtomicI64,
    op_timeout: Duration,
    start_timeout: Duration,
    stop: CancellationToken,
    /// Stops every client when one answers [`Completion::Halt`].
    early_stop: EarlyStop,
    started: Instant,
    /// Whether to keep every operation's span, for the fault summary.
    spans: bool,
    stalls: StallWatch,
    phases: Vec<Phase>,
}

struct Budget {
    remaining: Option<AtomicU64>,
    deadline: Option<Instant>,
}

impl Budget {
    /// Takes one operation from the budget; false once it is spent.
    fn take(&self) -> bool {
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return false;
        }
        match &self.remaining {
            Some(remaining) => remaining
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok(),
            None => true,
        }
    }
}

/// A global rate limit: every operation takes the next free slot, `interval` after the last.
struct Pace {
    start: Instant,
    interval_nanos: u64,
    next_nanos: AtomicU64,
}

impl Pace {
    fn new(per_second: f64) -> Pace {
        Pace {
            start: Instant::now(),
            interval_nanos: (1e9 / per_second.max(1e-3)) as u64,
            next_nanos: AtomicU64::new(0),
        }
    }

    async fn wait(&self) {
        let now = self.start.elapsed().as_nanos() as u64;
        let slot = self
            .next_nanos
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |next| {
                Some(next.max(now) + self.interval_nanos)
            })
            .map_or(now, |next| next.max(now));
        if slot > now {
            tokio::time::sleep(Duration::from_nanos(slot - now)).await;
        }
    }
}

#[derive(Default)]
struct Counts {
    ok: AtomicU64,
    fail: AtomicU64,
    info: AtomicU64,
    connect_errors: AtomicU64,
}

impl Counts {
    fn count(&self, completion: &Completion) {
        let counter = match completion {
            Completion::Ok(_) => &self.ok,
            Completion::Fail(_) => &self.fail,
            Completion::Info(_) | Completion::Halt(_) => &self.info,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// Where an operation belongs among the run's phases.
enum PhaseOf<'a> {
    /// The run has none: every operation is in the headline figures.
    NoPhases,
    /// A final read, in no phase.
    Final,
    /// Invoked in the phase of this index and name.
    In(usize, &'a str),
}

/// What one worker measured.
#[derive(Default)]
struct Tally {
    /// The latencies of the headline figures: every operation's, or with phases those of the
    /// phases but the warm-up.
    latencies: Vec<u64>,
    errors: BTreeMap<String, u64>,
    spans: Vec<Span>,
    /// Per phase of the run, when it has phases (grown as operations arrive).
    phases: Vec<PhaseTally>,
}

impl Tally {
    /// Records an operation, in `phase`.
    fn record(&mut self, latency: Duration, completion: &Completion, phase: PhaseOf) {
        let nanos = latency.as_nanos() as u64;
        if let PhaseOf::In(index, name) = phase {
            if self.phases.len() <= index {
                self.phases.resize(index + 1, PhaseTally::default());
            }
            let tally = &mut self.phases[index];
            tally.latencies.push(nanos);
            match completion {
                Completion::Ok(_) => tally.ok += 1,
                Completion::Fail(_) => tally.fail += 1,
                Completion::Info(_) | Completion::Halt(_) => tally.info += 1,
            }
            if name != WARMUP {
                self.latencies.push(nanos);
            }
        } else if let PhaseOf::NoPhases = phase {
            self.latencies.push(nanos);
        }
        if let Some(error) = completion.error() {
            self.error(error);
        }
    }

    fn error(&mut self, message: &str) {
        *self.errors.entry(message.to_string()).or_default() += 1;
    }

    fn merge(&mut self, other: Tally) {
        self.latencies.extend(other.latencies);
        self.spans.extend(other.spans);
        if self.phases.len() < other.phases.len() {
            self.phases
                .resize(other.phases.len(), PhaseTally::default());
        }
        for (mine, theirs) in self.phases.iter_mut().zip(other.phases) {
            mine.merge(theirs);
        }
        for (message, count) in other.errors {
            *self.errors.entry(message).or_default() += count;
        }
    }
}

/// One worker: connect, then issue operations until the budget is spent or the run stops.
async fn work<T: Target>(
    target: Arc<T>,
    shared: Arc<Shared>,
    worker: usize,
    mut generator: crate::workload::Generator,
) -> Tally {
    let mut tally = Tally::default();
    let mut process = worker as i64;
    let mut client: Option<T::Client> = None;
    let mut backoff = Duration::from_millis(10);
    loop {
        if shared.stop.is_cancelled() || shared.journal.failed() {
            break;
        }
        let Some(connected) = client.as_mut() else {
            let connecting = Instant::now();
            let attempt = tokio::select! {
                attempt = tokio::time::timeout(shared.op_timeout, target.connect(worker)) => attempt,
                () = shared.stop.cancelled() => break,
            };
            let error = match attempt {
                Ok(Ok(opened)) => {
                    client = Some(opened);
                    backoff = Duration::from_millis(10);
                    continue;
                }
                Ok(Err(error)) => error,
                Err(_) => "connect timed out".to_string(),
            };
            // A failed connect spends an operation of the budget, so that a run against a
            // system that is gone for good still ends.
            if !shared.budget.take() {
                break;
            }
            shared
                .early_stop
                .observe(connecting, Attempt::CannotConnect(error.clone()));
            connect_failed(&shared, &mut tally, &error, &mut backoff).await;
            continue;
        };
        if !shared.budget.take() {
            break;
        }
        if let Some(pace) = &shared.pace {
            tokio::select! {
                () = pace.wait() => {}
                () = shared.stop.cancelled() => break,
            }
        }
        if let Some(pause) = generator.pause() {
            tokio::time::sleep(pause).await;
        }
        let op = generator.next_op();
        let invoked = Instant::now();
        let completion = perform(&shared, connected, process, &op, &mut tally, None).await;
        shared.early_stop.observe(invoked, Attempt::of(&completion));
        generator.observe(&op, &completion);
        if completion.is_info() {
            client = None;
            process = shared.next_process.fetch_add(1, Ordering::Relaxed);
        }
    }
    if let (Some(connected), false) = (client.as_mut(), shared.stop.is_cancelled()) {
        if let Some(op) = generator.finish() {
            perform(&shared, connected, process, &op, &mut tally, None).await;
        }
    }
    tally
}

async fn connect_failed(shared: &Shared, tally: &mut Tally, error: &str, backoff: &mut Duration) {
    shared.counts.connect_errors.fetch_add(1, Ordering::Relaxed);
    tally.error(&format!("connect: {error}"));
    tokio::select! {
        () = tokio::time::sleep(*backoff) => {}
        () = shared.stop.cancelled() => {}
    }
    *backoff = (*backoff * 2).min(Duration::from_secs(1));
}

/// Performs one operation and records it: the invocation before the request leaves, the
/// completion after the answer, waiting until the completion is written. The run's stop (or
/// `deadline`, which ends with it) ends the operation early as indeterminate.
async fn perform<C: Client>(
    shared: &Shared,
    client: &mut C,
    process: i64,
    op: &Invocation,
    tally: &mut Tally,
    deadline: Option<&Stop>,
) -> Completion {
    shared.journal.invoke(process, op);
    shared.stalls.invoked(process, op);
    let started = Instant::now();
    let stop = deadline.map_or(&shared.stop, |d| &d.token);
    let completion = tokio::select! {
        answer = invoke_bounded(client, op, shared.op_timeout, shared.start_timeout) => answer,
        () = stop.cancelled() => Completion::Info(match deadline {
            Some(deadline) if !shared.stop.is_cancelled() => deadline.reason.clone(),
            _ if shared.early_stop.halted().is_some() => "the run stopped early".to_string(),
            _ => "interrupted".to_string(),
        }),
    };
    let latency = started.elapsed();
    let seq = shared.journal.complete(process, op, &completion);
    shared.stalls.completed(process, &completion);
    shared.journal.written(seq).await;
    shared.counts.count(&completion);
    let invoked_at = started.duration_since(shared.started);
    let phase = match (deadline, Phase::index_at(&shared.phases, invoked_at)) {
        (_, None) => PhaseOf::NoPhases,
        (Some(_), Some(_)) => PhaseOf::Final,
        (None, Some(i)) => PhaseOf::In(i, shared.phases[i].name.as_str()),
    };
    tally.record(latency, &completion, phase);
    if let Completion::Halt(halt) = &completion {
        shared.early_stop.halt(halt.clone());
    }
    if shared.spans {
        let start = started.duration_since(shared.started).as_nanos() as u64;
        tally.spans.push(Span {
            start,
            end: start + latency.as_nanos() as u64,
            outcome: match completion {
                Completion::Ok(_) => SpanOutcome::Ok,
                Completion::Fail(_) => SpanOutcome::Fail,
                Completion::Info(_) | Completion::Halt(_) => SpanOutcome::Info,
            },
        });
    }
    completion
}

/// Performs `op` within the operation timeout, which for a client still starting up (see
/// [`Client::started`]) runs only from the moment it is started; the start-up itself gets
/// `start_timeout`.
async fn invoke_bounded<C: Client>(
    client: &mut C,
    op: &Invocation,
    op_timeout: Duration,
    start_timeout: Duration,
) -> Completion {
    let timed_out = |_| Completion::Info(TIMED_OUT.to_string());
    let starting = client.started().filter(|started| !started.is_set());
    let invoke = client.invoke(op);
    let Some(started) = starting else {
        return tokio::time::timeout(op_timeout, invoke)
            .await
            .unwrap_or_else(timed_out);
    };
    tokio::pin!(invoke);
    tokio::select! {
        completion = &mut invoke => return completion,
        () = started.wait() => {}
        () = tokio::time::sleep(start_timeout) => {
            return Completion::Info(format!("{NOT_STARTED} {}", seconds(start_timeout)));
        }
    }
    tokio::time::timeout(op_timeout, invoke)
        .await
        .unwrap_or_else(timed_out)
}

/// The final reads, by a fresh process with a connection of its own, until `deadline`.
async fn read_finally<T: Target>(
    target: &T,
    shared: &Shared,
    worker: usize,
    reads: Vec<Invocation>,
    deadline: &Stop,
) -> Tally {
    let mut reader = FinalReader {
        target,
        shared,
        worker,
        deadline,
        client: None,
        process: shared.next_process.fetch_add(1, Ordering::Relaxed),
        tally: Tally::default(),
    };
    for op in reads {
        let repeats = if drains(&op) { MAX_DRAIN } else { 1 };
        for _ in 0..repeats {
            match reader.read_once(&op).await {
                // Drained: the queue answered empty.
                Some(Completion::Ok(Value::Null)) | None => break,
                Some(_) => {}
            }
        }
    }
    reader.tally
}

/// The process that performs the final reads.
struct FinalReader<'a, T: Target> {
    target: &'a T,
    shared: &'a Shared,
    worker: usize,
    deadline: &'a Stop,
    client: Option<T::Client>,
    process: i64,
    tally: Tally,
}

impl<T: Target> FinalReader<'_, T> {
    /// One final operation, retried on a new connection (and as a new process) when it ends
    /// indeterminately; `None` if it never got an answer.
    async fn read_once(&mut self, op: &Invocation) -> Option<Completion> {
        let (shared, deadline) = (self.shared, self.deadline);
        for _attempt in 0..3 {
            if deadline.token.is_cancelled() {
                return None;
            }
            if self.client.is_none() {
                let connect =
                    tokio::time::timeout(shared.op_timeout, self.target.connect(self.worker));
                let attempt = tokio::select! {
                    attempt = connect => attempt,
                    () = deadline.token.cancelled() => {
                        self.tally.error(&deadline.reason);
                        return None;
                    }
                };
                match attempt {
                    Ok(Ok(opened)) => self.client = Some(opened),
                    Ok(Err(error)) => self.tally.error(&format!("final read: connect: {error}")),
                    Err(_) => self.tally.error("final read: connect timed out"),
                }
            }
            let Some(connected) = self.client.as_mut() else {
                continue;
            };
            let completion = perform(
                shared,
                connected,
                self.process,
                op,
                &mut self.tally,
                Some(deadline),
            )
            .await;
            if !completion.is_info() {
                return Some(completion);
            }
            self.client = None;
            self.process = shared.next_process.fetch_add(1, Ordering::Relaxed);
        }
        None
    }
}

/// The progress bar, sized in operations when the run has an operation budget, else in seconds.
#[derive(Clone)]
struct Progress {
    bar: ProgressBar,
    in_operations: bool,
}

fn progress_bar(config: &RunConfig) -> Progress {
    let (len, in_operations) = match (config.ops, config.duration) {
        (Some(ops), _) => (ops, true),
        (None, Some(duration)) => (duration.as_secs().max(1), false),
        (None, None) => (0, false),
    };
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    let template = "{spinner} {elapsed_precise} [{wide_bar}] {msg}, {eta} left";
    bar.set_style(
        ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    Progress { bar, in_operations }
}

impl Progress {
    fn show(&self, counts: &Counts, started: Instant) {
        let fail = counts.fail.load(Ordering::Relaxed);
        let info = counts.info.load(Ordering::Relaxed);
        let done = counts.ok.load(Ordering::Relaxed) + fail + info;
        let seconds = started.elapsed().as_secs_f64();
        self.bar.set_position(if self.in_operations {
            done
        } else {
            seconds as u64
        });
        self.bar.set_message(format!(
            "{done} ops, {:.0}/s, {fail} fail, {info} info",
            done as f64 / seconds.max(1e-9)
        ));
    }
}
