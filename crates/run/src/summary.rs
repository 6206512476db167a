//! What a run did: counts, throughput, latency percentiles, errors.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::Serialize;

use crate::nemesis::FaultSummary;
use crate::phases::{PhaseFigures, WARMUP};
use crate::Halt;
use photofinish_history::stall::Stall;

/// The figures of one run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    pub target: String,
    pub workload: String,
    pub clients: usize,
    /// Operations recorded (invoked), including the final reads.
    pub operations: u64,
    pub ok: u64,
    pub fail: u64,
    pub info: u64,
    /// Attempts to connect that failed; they record nothing.
    pub connect_errors: u64,
    #[serde(serialize_with = "as_seconds")]
    pub elapsed: Duration,
    /// Operations per second over the whole run (after the warm-up, when a phase is named
    /// `warmup`: see [`crate::phases`]).
    pub throughput: f64,
    /// Latency of every operation (after the warm-up, when a phase is named `warmup`).
    pub latency: Latency,
    /// Error messages of fail and info completions and of failed connects, with their counts.
    pub errors: BTreeMap<String, u64>,
    /// Whether Ctrl-C (or the caller) stopped the run early.
    pub interrupted: bool,
    /// Why the run stopped before its budget was spent, when a client or the runner found it
    /// could not go on (see [`Halt`]). The history so far is kept and checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped_early: Option<Halt>,
    /// With a nemesis: the faults, how operations fared inside and outside them, and why the
    /// nemesis stopped the run if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub faults: Option<FaultSummary>,
    /// Spans in which operations waited and none completed (see
    /// [`photofinish_history::stall`]), as the history records them.
    pub stalls: Vec<Stall>,
    /// With `--phase`: each phase's figures, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub phases: Vec<PhaseFigures>,
    /// What makes the check of this run weak or empty (a mix without reads, say).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Summary {
    /// The stall the run ended in, if it did: the run proves nothing about what it was
    /// waiting for.
    pub fn ended_stalled(&self) -> Option<&Stall> {
        self.stalls.last().filter(|s| s.ongoing())
    }
}

/// Latency percentiles of completed operations, in microseconds.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Latency {
    pub p50_us: f64,
    pub p90_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
}

impl Latency {
    /// Percentiles of `nanos`, which it sorts.
    pub fn of(nanos: &mut [u64]) -> Latency {
        if nanos.is_empty() {
            return Latency::default();
        }
        nanos.sort_unstable();
        let at = |q: f64| {
            let index = ((nanos.len() as f64 * q).ceil() as usize).clamp(1, nanos.len()) - 1;
            nanos[index] as f64 / 1000.0
        };
        Latency {
            p50_us: at(0.50),
            p90_us: at(0.90),
            p99_us: at(0.99),
            max_us: at(1.0),
        }
    }
}

fn as_seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// Formats microseconds with a unit a person reads at a glance.
pub fn format_micros(us: f64) -> String {
    if us >= 1_000_000.0 {
        format!("{:.2} s", us / 1_000_000.0)
    } else if us >= 1000.0 {
        format!("{:.2} ms", us / 1000.0)
    } else {
        format!("{us:.0} µs")
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let warmed = self.phases.iter().any(|p| p.name == WARMUP);
        let after_warmup = if warmed { " after warmup" } else { "" };
        writeln!(f, "target:     {}", self.target)?;
        writeln!(
            f,
            "workload:   {} with {} clients",
            self.workload, self.clients
        )?;
        writeln!(
            f,
            "operations: {} in {:.2} s, {:.0} ops/s{after_warmup}{}",
            self.operations,
            self.elapsed.as_secs_f64(),
            self.throughput,
            if self.interrupted {
                " (interrupted)"
            } else {
                ""
            }
        )?;
        if let Some(halt) = &self.stopped_early {
            writeln!(
                f,
                "stopped early after {} operations: {}",
                self.operations, halt.reason
            )?;
        }
        writeln!(
            f,
            "outcomes:   {} ok, {} fail, {} info (indeterminate)",
            self.ok, self.fail, self.info
        )?;
        writeln!(
            f,
            "latency:    p50 {}  p90 {}  p99 {}  max {}{after_warmup}",
            format_micros(self.latency.p50_us),
            format_micros(self.latency.p90_us),
            format_micros(self.latency.p99_us),
            format_micros(self.latency.max_us),
        )?;
        for phase in &self.phases {
            writeln!(
                f,
                "phase:      {} {:.1}-{:.1} s: {} ops ({} ok, {} fail, {} info), {:.0} ops/s, p50 {}  p99 {}{}",
                phase.name,
                phase.start_s,
                phase.end_s,
                phase.operations,
                phase.ok,
                phase.fail,
                phase.info,
                phase.throughput,
                format_micros(phase.latency.p50_us),
                format_micros(phase.latency.p99_us),
                if phase.name == WARMUP {
                    " (left out of the latency above; recorded and checked)"
                } else {
                    ""
                }
            )?;
        }
        for note in &self.notes {
            writeln!(f, "note:       {note}")?;
        }
        if self.connect_errors > 0 {
            writeln!(f, "connects:   {} failed", self.connect_errors)?;
        }
        if !self.errors.is_empty() {
            writeln!(f, "errors:")?;
            let mut errors: Vec<_> = self.errors.iter().collect();
            errors.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            for (message, count) in errors.iter().take(8) {
                writeln!(f, "  {count:>8} × {message}")?;
            }
            if errors.len() > 8 {
                writeln!(f, "  ... and {} other messages", errors.len() - 8)?;
            }
        }
        if let Some(faults) = &self.faults {
            write!(f, "{faults}")?;
        }
        write_stalls(f, &self.stalls, "run")
    }
}

/// The stalls, one paragraph each: when, how long, who waited on what; `ended` names what a
/// stall still on at the end outlasted (the run, the history).
pub fn write_stalls(f: &mut impl fmt::Write, stalls: &[Stall], ended: &str) -> fmt::Result {
    for stall in stalls.iter().take(8) {
        writeln!(f, "stall:      {stall}")?;
        writeln!(f, "  waiting:  {}", stall.waiting_text())?;
        if stall.ongoing() {
            writeln!(
                f,
                "  the {ended} ended stalled: nothing it waited for completed"
            )?;
        }
    }
    if stalls.len() > 8 {
        writeln!(f, "  ... and {} more stalls", stalls.len() - 8)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_observed_values() {
        let mut nanos: Vec<u64> = (1..=100).map(|n| n * 1000).collect();
        let latency = Latency::of(&mut nanos);
        assert_eq!(latency.p50_us, 50.0);
        assert_eq!(latency.p99_us, 99.0);
        assert_eq!(latency.max_us, 100.0);
    }
}
