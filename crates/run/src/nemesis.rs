//! The nemesis beside the clients: a [`NemesisPlan`] names what to fault and how, the runner
//! starts it once the history is open, writes every fault's start and end into the history as
//! it happens (Jepsen's `"process":"nemesis"` events), and ends with a [`FaultSummary`]: the
//! faults, and how operations fared inside and outside their windows.
//!
//! A nemesis that fails (a server that does not come back) stops the run: the clients stop,
//! the history so far is kept, and the summary says why.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use photofinish_faults::{
    Error as FaultError, FaultKind, FaultTarget, Nemesis, NemesisConfig, NemesisEvent, NemesisSink,
};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::journal::JournalHandle;
use crate::summary::{format_micros, Latency};

/// What the nemesis faults, and how: the kinds of fault, their interval and duration. The
/// runner seeds its schedule with the run's seed, so one seed gives the same operations and
/// the same faults.
#[derive(Clone)]
pub struct NemesisPlan {
    /// A [`Cluster`](photofinish_faults::Cluster) photofinish started, or
    /// [`Links`](photofinish_faults::Links) in front of someone else's servers.
    pub target: Arc<dyn FaultTarget>,
    pub config: NemesisConfig,
}

impl NemesisPlan {
    pub fn new(target: Arc<dyn FaultTarget>, config: NemesisConfig) -> NemesisPlan {
        NemesisPlan { target, config }
    }
}

impl fmt::Debug for NemesisPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NemesisPlan")
            .field("nodes", &self.target.node_names())
            .field("config", &self.config)
            .finish()
    }
}

/// One fault the nemesis performed, in seconds since the run started.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FaultRecord {
    /// `kill`, `pause`, `partition` or `latency`.
    pub kind: String,
    /// The event's value as JSON: the nodes, and for a partition who they were cut off from.
    pub value: String,
    pub start_s: f64,
    /// `None`: it never ended (the nemesis failed in it).
    pub end_s: Option<f64>,
}

/// How the operations of one side of the fault windows ended.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Outcomes {
    pub ok: u64,
    pub fail: u64,
    pub info: u64,
    /// The median latency of these operations, whatever their outcome, in microseconds.
    pub p50_us: f64,
}

/// The faults of a run and how operations fared. An operation is inside when any part of it,
/// from invocation to completion, overlaps a fault's window.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct FaultSummary {
    pub faults: Vec<FaultRecord>,
    pub inside: Outcomes,
    pub outside: Outcomes,
    /// Why the nemesis stopped the run, if it did: a server that did not come back.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// An operation as the fault summary sees it: when it ran, in nanoseconds since the run
/// started, and how it ended.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Span {
    pub start: u64,
    pub end: u64,
    pub outcome: SpanOutcome,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SpanOutcome {
    Ok,
    Fail,
    Info,
}

impl FaultSummary {
    /// Sorts `spans` into inside and outside the faults' windows; a fault that never ended
    /// lasts until `run_end` (nanoseconds).
    pub(crate) fn tally(
        faults: Vec<FaultRecord>,
        spans: &[Span],
        run_end: u64,
        error: Option<String>,
    ) -> FaultSummary {
        let windows: Vec<(u64, u64)> = faults
            .iter()
            .map(|f| {
                let end = f.end_s.map_or(run_end, |s| (s * 1e9) as u64);
                ((f.start_s * 1e9) as u64, end)
            })
            .collect();
        let mut sides: [(Outcomes, Vec<u64>); 2] = Default::default();
        for span in spans {
            let inside = windows
                .iter()
                .any(|&(start, end)| span.start <= end && span.end >= start);
            let (outcomes, latencies) = &mut sides[usize::from(inside)];
            match span.outcome {
                SpanOutcome::Ok => outcomes.ok += 1,
                SpanOutcome::Fail => outcomes.fail += 1,
                SpanOutcome::Info => outcomes.info += 1,
            }
            latencies.push(span.end.saturating_sub(span.start));
        }
        let [(mut outside, mut out_lat), (mut inside, mut in_lat)] = sides;
        outside.p50_us = Latency::of(&mut out_lat).p50_us;
        inside.p50_us = Latency::of(&mut in_lat).p50_us;
        FaultSummary {
            faults,
            inside,
            outside,
            error,
        }
    }
}

impl fmt::Display for FaultSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "faults:     {}", self.faults.len())?;
        for fault in self.faults.iter().take(12) {
            let end = fault
                .end_s
                .map_or_else(|| "never ended".to_string(), |e| format!("{e:.2} s"));
            writeln!(
                f,
                "  {:>9} {} from {:.2} s to {end}",
                fault.kind, fault.value, fault.start_s
            )?;
        }
        if self.faults.len() > 12 {
            writeln!(f, "  ... and {} more", self.faults.len() - 12)?;
        }
        for (side, outcomes) in [("inside", &self.inside), ("outside", &self.outside)] {
            writeln!(
                f,
                "  {side:>7} the fault windows: {} ok, {} fail, {} info, p50 {}",
                outcomes.ok,
                outcomes.fail,
                outcomes.info,
                format_micros(outcomes.p50_us)
            )?;
        }
        if let Some(error) = &self.error {
            writeln!(f, "nemesis:    stopped the run: {error}")?;
        }
        Ok(())
    }
}

/// What the sink has seen so far.
#[derive(Default)]
struct FaultLog {
    faults: Vec<FaultRecord>,
    error: Option<String>,
}

/// Writes each event into the history and notes the windows; a failure stops the run.
struct Sink {
    journal: JournalHandle,
    log: Arc<Mutex<FaultLog>>,
    started: Instant,
    halt: CancellationToken,
}

fn kind_of_start(f: &str) -> Option<FaultKind> {
    FaultKind::ALL.into_iter().find(|k| k.events().0 == f)
}

impl NemesisSink for Sink {
    fn event(&mut self, event: NemesisEvent) {
        let now = self.started.elapsed().as_secs_f64();
        self.journal.nemesis(&event.to_event());
        let mut log = lock(&self.log);
        match kind_of_start(&event.f) {
            Some(kind) => log.faults.push(FaultRecord {
                kind: kind.name().to_string(),
                value: event.value.to_json_string(),
                start_s: now,
                end_s: None,
            }),
            None => {
                if let Some(open) = log.faults.iter_mut().rev().find(|f| f.end_s.is_none()) {
                    open.end_s = Some(now);
                }
            }
        }
    }

    fn failed(&mut self, error: &FaultError) {
        lock(&self.log).error = Some(error.to_string());
        self.halt.cancel();
    }
}

fn lock(log: &Mutex<FaultLog>) -> std::sync::MutexGuard<'_, FaultLog> {
    log.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The nemesis at work during a run.
pub(crate) struct Running {
    nemesis: Nemesis,
    log: Arc<Mutex<FaultLog>>,
}

impl Running {
    /// Starts `plan`'s nemesis, seeded with `seed`; its failure cancels `halt`.
    pub(crate) fn start(
        plan: &NemesisPlan,
        seed: u64,
        journal: JournalHandle,
        started: Instant,
        halt: CancellationToken,
    ) -> Result<Running, String> {
        let log = Arc::new(Mutex::new(FaultLog::default()));
        let mut config = plan.config.clone();
        config.seed = seed;
        let sink = Sink {
            journal,
            log: Arc::clone(&log),
            started,
            halt,
        };
        let nemesis =
            Nemesis::start(Arc::clone(&plan.target), config, sink).map_err(|e| e.to_string())?;
        Ok(Running { nemesis, log })
    }

    /// Ends the fault in force (a killed server restarted, links healed) and returns the
    /// faults and why the nemesis failed, if it did. Blocks while a server restarts.
    pub(crate) fn finish(self) -> (Vec<FaultRecord>, Option<String>) {
        let stopped = self.nemesis.stop();
        let mut log = std::mem::take(&mut *lock(&self.log));
        if let (Err(error), None) = (stopped, &log.error) {
            log.error = Some(error.to_string());
        }
        (log.faults, log.error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(start: u64, end: u64, outcome: SpanOutcome) -> Span {
        Span {
            start,
            end,
            outcome,
        }
    }

    #[test]
    fn operations_overlapping_a_window_are_inside() {
        let faults = vec![FaultRecord {
            kind: "kill".into(),
            value: "[\"n1\"]".into(),
            start_s: 1.0,
            end_s: Some(2.0),
        }];
        let spans = [
            span(0, 500_000_000, SpanOutcome::Ok),                 // before
            span(900_000_000, 1_100_000_000, SpanOutcome::Info),   // across the start
            span(1_500_000_000, 1_600_000_000, SpanOutcome::Fail), // within
            span(1_900_000_000, 2_500_000_000, SpanOutcome::Ok),   // across the end
            span(3_000_000_000, 3_000_000_100, SpanOutcome::Ok),   // after
        ];
        let summary = FaultSummary::tally(faults, &spans, 4_000_000_000, None);
        assert_eq!(
            (summary.inside.ok, summary.inside.fail, summary.inside.info),
            (1, 1, 1)
        );
        assert_eq!(
            (
                summary.outside.ok,
                summary.outside.fail,
                summary.outside.info
            ),
            (2, 0, 0)
        );
        assert_eq!(summary.inside.p50_us, 200_000.0);
    }

    #[test]
    fn a_fault_that_never_ended_lasts_to_the_end_of_the_run() {
        let faults = vec![FaultRecord {
            kind: "kill".into(),
            value: "[\"n1\"]".into(),
            start_s: 1.0,
            end_s: None,
        }];
        let spans = [span(3_000_000_000, 3_100_000_000, SpanOutcome::Info)];
        let summary = FaultSummary::tally(
            faults,
            &spans,
            4_000_000_000,
            Some("n1 did not come back".into()),
        );
        assert_eq!(summary.inside.info, 1);
        let text = summary.to_string();
        assert!(text.contains("never ended"), "{text}");
        assert!(
            text.contains("stopped the run: n1 did not come back"),
            "{text}"
        );
    }
}
