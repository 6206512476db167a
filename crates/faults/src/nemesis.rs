//! The nemesis: faults on a schedule. After each `interval` of quiet it performs one fault,
//! drawn from the kinds it was given by a generator seeded with `seed`, on nodes drawn the same
//! way, holds it for `duration`, and ends it. Each start and end is reported as an event the
//! runner writes into the history (Jepsen's nemesis operations: `kill`/`restart`,
//! `pause`/`resume`, `start-partition`/`stop-partition`, `start-latency`/`stop-latency`).
//!
//! A start is reported before the fault is applied and an end after it is fully over (a killed
//! server restarted and ready), so an event window always covers the fault's effects.

use std::collections::BTreeMap;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use photofinish_history::{Event, EventKind, Process, Value};
use rand::seq::index;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::{Error, FaultTarget};

/// A kind of fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FaultKind {
    /// SIGKILL a server (and everything it started), then restart it on the same data.
    Kill,
    /// SIGSTOP a server, then SIGCONT.
    Pause,
    /// Hold every byte between a minority of nodes and the rest (with a single server: between
    /// it and its clients).
    Partition,
    /// Slow a node's links.
    Latency,
}

impl FaultKind {
    pub const ALL: [FaultKind; 4] = [
        FaultKind::Kill,
        FaultKind::Pause,
        FaultKind::Partition,
        FaultKind::Latency,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Kill => "kill",
            FaultKind::Pause => "pause",
            FaultKind::Partition => "partition",
            FaultKind::Latency => "latency",
        }
    }

    /// The `f` of the events that start and end a fault of this kind.
    pub fn events(self) -> (&'static str, &'static str) {
        match self {
            FaultKind::Kill => ("kill", "restart"),
            FaultKind::Pause => ("pause", "resume"),
            FaultKind::Partition => ("start-partition", "stop-partition"),
            FaultKind::Latency => ("start-latency", "stop-latency"),
        }
    }

    /// Parses a comma-separated list such as `kill,partition`.
    ///
    /// ```
    /// use photofinish_faults::FaultKind;
    /// assert_eq!(
    ///     FaultKind::parse_list("partition,kill").unwrap(),
    ///     [FaultKind::Partition, FaultKind::Kill]
    /// );
    /// assert!(FaultKind::parse_list("partition,flood").is_err());
    /// ```
    pub fn parse_list(text: &str) -> Result<Vec<FaultKind>, String> {
        let mut kinds = Vec::new();
        for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let kind = FaultKind::ALL
                .into_iter()
                .find(|k| k.name() == name)
                .ok_or_else(|| {
                    format!("unknown fault {name:?} (expected kill, pause, partition or latency)")
                })?;
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
        if kinds.is_empty() {
            return Err("no fault named (expected kill, pause, partition or latency)".into());
        }
        Ok(kinds)
    }
}

impl std::fmt::Display for FaultKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How the nemesis behaves.
#[derive(Clone, Debug)]
pub struct NemesisConfig {
    /// The kinds of fault to draw from.
    pub faults: Vec<FaultKind>,
    /// Quiet time before each fault.
    pub interval: Duration,
    /// How long each fault lasts.
    pub duration: Duration,
    /// The same seed, kinds and cluster size give the same faults on the same nodes.
    pub seed: u64,
    /// The delay a latency fault adds to each round trip, and its jitter.
    pub latency: Duration,
    pub jitter: Duration,
    /// Stop after this many faults (`None`: until stopped).
    pub max_faults: Option<usize>,
}

impl NemesisConfig {
    /// `faults` every 5 s for 5 s each, seed 0, latency faults of 100 ms ± 20 ms.
    pub fn new(faults: Vec<FaultKind>) -> NemesisConfig {
        NemesisConfig {
            faults,
            interval: Duration::from_secs(5),
            duration: Duration::from_secs(5),
            seed: 0,
            latency: Duration::from_millis(100),
            jitter: Duration::from_millis(20),
            max_faults: None,
        }
    }
}

/// One fault of the schedule: its kind and the nodes (indexes) it hits. For a partition, the
/// nodes are the minority cut off from the rest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    pub kind: FaultKind,
    pub nodes: Vec<usize>,
}

/// The faults the nemesis performs, in order: a seeded, endless sequence.
///
/// ```
/// use photofinish_faults::{FaultKind, Schedule};
///
/// let kinds = [FaultKind::Partition, FaultKind::Kill];
/// let first: Vec<_> = Schedule::new(7, &kinds, 3).take(5).collect();
/// let again: Vec<_> = Schedule::new(7, &kinds, 3).take(5).collect();
/// assert_eq!(first, again);
/// assert!(first.iter().all(|f| f.nodes.len() == 1 && f.nodes[0] < 3));
/// ```
#[derive(Clone, Debug)]
pub struct Schedule {
    rng: ChaCha8Rng,
    kinds: Vec<FaultKind>,
    nodes: usize,
}

impl Schedule {
    pub fn new(seed: u64, kinds: &[FaultKind], nodes: usize) -> Schedule {
        Schedule {
            rng: ChaCha8Rng::seed_from_u64(seed),
            kinds: kinds.to_vec(),
            nodes,
        }
    }
}

impl Iterator for Schedule {
    type Item = Fault;

    fn next(&mut self) -> Option<Fault> {
        if self.kinds.is_empty() || self.nodes == 0 {
            return None;
        }
        let kind = self.kinds[self.rng.random_range(0..self.kinds.len())];
        let count = match kind {
            // A minority: one node of 2 or 3, one or two of 5.
            FaultKind::Partition if self.nodes > 1 => {
                self.rng.random_range(1..=((self.nodes - 1) / 2).max(1))
            }
            _ => 1,
        };
        let mut nodes = index::sample(&mut self.rng, self.nodes, count).into_vec();
        nodes.sort_unstable();
        Some(Fault { kind, nodes })
    }
}

/// An event for the history: `f` such as `start-partition`, and a value naming the nodes.
#[derive(Clone, Debug, PartialEq)]
pub struct NemesisEvent {
    pub f: String,
    pub value: Value,
}

impl NemesisEvent {
    /// The history event, as Jepsen writes nemesis operations: type `info`, process
    /// `nemesis`. Checkers skip it; reports shade the windows between a start and its end.
    ///
    /// ```
    /// use photofinish_faults::NemesisEvent;
    /// use photofinish_history::{Event, EventKind, Process, Value};
    ///
    /// let kill = NemesisEvent { f: "kill".into(), value: Value::List(vec![Value::Str("n1".into())]) };
    /// assert_eq!(
    ///     serde_json::to_string(&kill.to_event()).unwrap(),
    ///     r#"{"type":"info","process":"nemesis","f":"kill","value":["n1"]}"#
    /// );
    /// ```
    pub fn to_event(&self) -> Event {
        Event::new(
            EventKind::Info,
            Process::Nemesis,
            self.f.clone(),
            self.value.clone(),
        )
    }
}

/// Where the nemesis reports. Any `FnMut(NemesisEvent)` is one (and ignores failures).
pub trait NemesisSink: Send + 'static {
    /// A fault started or ended.
    fn event(&mut self, event: NemesisEvent);

    /// The nemesis failed and stopped, such as a server that did not come back: the caller
    /// should stop its run with this message. [`Nemesis::stop`] returns the same error.
    fn failed(&mut self, error: &Error) {
        let _ = error;
    }
}

impl<F: FnMut(NemesisEvent) + Send + 'static> NemesisSink for F {
    fn event(&mut self, event: NemesisEvent) {
        self(event)
    }
}

/// When a fault was in force: from just before it was applied until it was fully over.
#[derive(Clone, Debug)]
pub struct FaultWindow {
    pub fault: Fault,
    pub start: Instant,
    pub end: Instant,
}

/// What the nemesis did.
#[derive(Clone, Debug, Default)]
pub struct NemesisReport {
    pub windows: Vec<FaultWindow>,
}

/// The nemesis at work on its own thread. [`stop`](Self::stop) (or dropping it) ends the fault
/// in progress, restarting or resuming a server and healing links, and returns.
///
/// ```
/// use std::sync::{mpsc, Arc};
/// use std::time::Duration;
/// use photofinish_faults::{
///     Cluster, ClusterSpec, FaultKind, Nemesis, NemesisConfig, NemesisEvent, ServerKind,
/// };
///
/// let cluster = Arc::new(Cluster::start(&ClusterSpec::single(ServerKind::Redis)).unwrap());
/// let mut config = NemesisConfig::new(vec![FaultKind::Kill, FaultKind::Pause]);
/// config.interval = Duration::from_millis(100);
/// config.duration = Duration::from_millis(200);
/// config.max_faults = Some(2);
/// let (events, received) = mpsc::channel();
/// let nemesis = Nemesis::start(Arc::clone(&cluster), config, move |event: NemesisEvent| {
///     events.send(event.f).unwrap();
/// })
/// .unwrap();
/// while !nemesis.is_finished() {
///     std::thread::sleep(Duration::from_millis(50)); // the run goes on meanwhile
/// }
/// let report = nemesis.stop().unwrap();
/// assert_eq!(report.windows.len(), 2);
/// let fs: Vec<String> = received.try_iter().collect();
/// assert_eq!(fs.len(), 4); // kill, restart or pause, resume: twice
/// ```
pub struct Nemesis {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<Result<NemesisReport, Error>>>,
}

impl Nemesis {
    /// Starts faulting `target` (a `Arc<dyn FaultTarget>` too). Fails at once if `target` cannot perform one of the kinds of
    /// fault asked for (a [`Links`](crate::Links) has no server to kill).
    pub fn start<T: FaultTarget + ?Sized>(
        target: Arc<T>,
        config: NemesisConfig,
        sink: impl NemesisSink,
    ) -> Result<Nemesis, Error> {
        if let Some(kind) = config.faults.iter().find(|&&k| !target.supports(k)) {
            return Err(Error::new(
                "nemesis",
                format!("planning {kind} faults"),
                format!("{kind} needs servers photofinish started; these links can only be partitioned or slowed"),
            ));
        }
        let (stop, stopped) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("photofinish-nemesis".into())
            .spawn(move || work(&*target, &config, stopped, sink))
            .map_err(|e| Error::new("nemesis", "starting its thread", e))?;
        Ok(Nemesis {
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Whether the nemesis has ended by itself: its fault budget spent, or failed.
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Ends the fault in progress and returns what the nemesis did, or why it failed.
    pub fn stop(mut self) -> Result<NemesisReport, Error> {
        self.finish()
    }

    fn finish(&mut self) -> Result<NemesisReport, Error> {
        drop(self.stop.take());
        match self.thread.take() {
            Some(thread) => thread.join().unwrap_or_else(|_| {
                Err(Error::new(
                    "nemesis",
                    "performing faults",
                    "the nemesis thread panicked",
                ))
            }),
            None => Ok(NemesisReport::default()),
        }
    }
}

impl Drop for Nemesis {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}

/// Sleeps for `wait` unless told to stop; true if told.
fn stopped_during(stop: &mpsc::Receiver<()>, wait: Duration) -> bool {
    !matches!(stop.recv_timeout(wait), Err(RecvTimeoutError::Timeout))
}

fn work<T: FaultTarget + ?Sized>(
    target: &T,
    config: &NemesisConfig,
    stop: mpsc::Receiver<()>,
    mut sink: impl NemesisSink,
) -> Result<NemesisReport, Error> {
    let mut report = NemesisReport::default();
    let names = target.node_names();
    let schedule = Schedule::new(config.seed, &config.faults, names.len());
    for fault in schedule.take(config.max_faults.unwrap_or(usize::MAX)) {
        if stopped_during(&stop, config.interval) {
            break;
        }
        let value = describe(target, &names, &fault, config);
        let (start_f, end_f) = fault.kind.events();
        let start = Instant::now();
        sink.event(NemesisEvent {
            f: start_f.into(),
            value: value.clone(),
        });
        let held = apply(target, &fault, config)
            .map(|()| stopped_during(&stop, config.duration))
            .and_then(|told_to_stop| end(target, &fault).map(|()| told_to_stop));
        let told_to_stop = match held {
            Ok(told) => told,
            Err(error) => {
                // Leave the links whole for whatever runs next (the final reads, say).
                target.heal();
                target.clear_latency();
                sink.failed(&error);
                return Err(error);
            }
        };
        sink.event(NemesisEvent {
            f: end_f.into(),
            value,
        });
        report.windows.push(FaultWindow {
            fault,
            start,
            end: Instant::now(),
        });
        if told_to_stop {
            break;
        }
    }
    Ok(report)
}

fn apply<T: FaultTarget + ?Sized>(
    target: &T,
    fault: &Fault,
    config: &NemesisConfig,
) -> Result<(), Error> {
    for &node in &fault.nodes {
        match fault.kind {
            FaultKind::Kill => target.kill(node)?,
            FaultKind::Pause => target.pause(node)?,
            FaultKind::Latency => target.slow(node, config.latency, config.jitter),
            FaultKind::Partition => {}
        }
    }
    if fault.kind == FaultKind::Partition {
        target.partition(&fault.nodes)?;
    }
    Ok(())
}

fn end<T: FaultTarget + ?Sized>(target: &T, fault: &Fault) -> Result<(), Error> {
    match fault.kind {
        FaultKind::Kill => fault.nodes.iter().try_for_each(|&n| target.restart(n)),
        FaultKind::Pause => fault.nodes.iter().try_for_each(|&n| target.resume(n)),
        FaultKind::Partition => {
            target.heal();
            Ok(())
        }
        FaultKind::Latency => {
            target.clear_latency();
            Ok(())
        }
    }
}

/// The event value: the nodes, and for a partition who they are cut off from (`clients` for
/// a single server), for latency the delay.
fn describe<T: FaultTarget + ?Sized>(
    target: &T,
    names: &[String],
    fault: &Fault,
    config: &NemesisConfig,
) -> Value {
    let list = |names: Vec<String>| Value::List(names.into_iter().map(Value::Str).collect());
    let nodes = list(fault.nodes.iter().map(|&i| names[i].clone()).collect());
    let entry = |key: &str, value: Value| (Value::Str(key.to_string()), value);
    match fault.kind {
        FaultKind::Kill | FaultKind::Pause => nodes,
        FaultKind::Partition => Value::Map(BTreeMap::from([
            entry("isolated", nodes),
            entry("from", list(target.cut_off_from(&fault.nodes))),
        ])),
        FaultKind::Latency => Value::Map(BTreeMap::from([
            entry("nodes", nodes),
            entry("latency_ms", Value::Int(config.latency.as_millis() as i64)),
            entry("jitter_ms", Value::Int(config.jitter.as_millis() as i64)),
        ])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_gives_one_schedule_and_another_seed_another() {
        let kinds = FaultKind::ALL;
        let a: Vec<Fault> = Schedule::new(1, &kinds, 5).take(50).collect();
        assert_eq!(a, Schedule::new(1, &kinds, 5).take(50).collect::<Vec<_>>());
        assert_ne!(a, Schedule::new(2, &kinds, 5).take(50).collect::<Vec<_>>());
        for kind in kinds {
            assert!(a.iter().any(|f| f.kind == kind), "{kind} drawn");
        }
    }

    #[test]
    fn partitions_cut_off_a_minority() {
        for nodes in 1..=7 {
            for fault in Schedule::new(3, &[FaultKind::Partition], nodes).take(100) {
                assert!(!fault.nodes.is_empty());
                // Of 1 or 2 nodes, one side is all there is to cut off.
                let minority = fault.nodes.len() * 2 < nodes;
                assert!(
                    minority || (nodes <= 2 && fault.nodes.len() == 1),
                    "{fault:?} of {nodes}"
                );
                assert!(
                    fault.nodes.windows(2).all(|w| w[0] < w[1]),
                    "sorted, distinct"
                );
            }
        }
        let sizes: Vec<usize> = Schedule::new(3, &[FaultKind::Partition], 5)
            .take(100)
            .map(|f| f.nodes.len())
            .collect();
        assert!(sizes.contains(&1) && sizes.contains(&2));
    }

    #[test]
    fn nothing_to_fault_is_an_empty_schedule() {
        assert_eq!(Schedule::new(0, &[], 3).next(), None);
        assert_eq!(Schedule::new(0, &[FaultKind::Kill], 0).next(), None);
    }

    #[test]
    fn fault_lists_parse() {
        assert_eq!(
            FaultKind::parse_list("kill, pause,kill").unwrap(),
            [FaultKind::Kill, FaultKind::Pause]
        );
        assert!(FaultKind::parse_list("").is_err());
        assert!(FaultKind::parse_list("kil")
            .unwrap_err()
            .contains("\"kil\""));
    }
}
