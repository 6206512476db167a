//! Phases: named stretches of a run, one after another from its start (`warmup:5s,steady:30s`).
//!
//! Phases change nothing about what is issued, recorded or checked: every operation of every
//! phase is in the history and in the check. They divide the run's figures: the summary gives
//! each phase its operations, throughput and latency, and the operations of a phase named
//! [`WARMUP`] are left out of the run's headline latency and throughput, which is what a
//! warm-up is for (caches, connection pools and JITs warm before anything is measured).
//! Operations invoked after the last phase's end count in the last phase.

use std::time::Duration;

use serde::Serialize;

use crate::summary::Latency;

/// The name of a phase whose figures are left out of the run's headline figures.
pub const WARMUP: &str = "warmup";

/// One named stretch of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Phase {
    pub name: String,
    pub duration: Duration,
}

impl Phase {
    /// Parses `NAME:DURATION,...`, durations read by `duration` (the command line's parser).
    /// Names are letters, digits, `-` and `_`, each used once.
    ///
    /// ```
    /// use std::time::Duration;
    /// use photofinish_run::phases::Phase;
    ///
    /// let secs = |t: &str| t.trim_end_matches('s').parse().map(Duration::from_secs).map_err(|e| format!("{e}"));
    /// let phases = Phase::parse_list("warmup:5s,steady:30s", secs).unwrap();
    /// assert_eq!(phases[1], Phase { name: "steady".into(), duration: Duration::from_secs(30) });
    /// assert!(Phase::parse_list("warmup", secs).unwrap_err().contains("NAME:DURATION"));
    /// ```
    pub fn parse_list(
        text: &str,
        duration: impl Fn(&str) -> Result<Duration, String>,
    ) -> Result<Vec<Phase>, String> {
        let mut phases: Vec<Phase> = Vec::new();
        for part in text.split(',').map(str::trim) {
            let Some((name, length)) = part.split_once(':') else {
                return Err(format!("`{part}` is not NAME:DURATION, as in warmup:5s"));
            };
            let name = name.trim();
            let well_formed = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !well_formed {
                return Err(format!("phase name `{name}`: use letters, digits, - and _"));
            }
            if phases.iter().any(|p| p.name == name) {
                return Err(format!("phase `{name}` is given twice"));
            }
            let duration = duration(length.trim()).map_err(|e| format!("phase `{name}`: {e}"))?;
            phases.push(Phase {
                name: name.to_string(),
                duration,
            });
        }
        Ok(phases)
    }

    /// How long `phases` last together.
    pub fn total(phases: &[Phase]) -> Duration {
        phases.iter().map(|p| p.duration).sum()
    }

    /// The index of the phase in force `at` after the run's start: the last one once all have
    /// ended. `None` without phases.
    pub fn index_at(phases: &[Phase], at: Duration) -> Option<usize> {
        let mut end = Duration::ZERO;
        for (i, phase) in phases.iter().enumerate() {
            end += phase.duration;
            if at < end {
                return Some(i);
            }
        }
        phases.len().checked_sub(1)
    }
}

/// The figures of one phase, as the summary gives them.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PhaseFigures {
    pub name: String,
    /// When it started and ended, in seconds from the run's start (the last phase ends with the
    /// run's last operation).
    pub start_s: f64,
    pub end_s: f64,
    /// Operations invoked in it, and how they ended.
    pub operations: u64,
    pub ok: u64,
    pub fail: u64,
    pub info: u64,
    /// Operations per second over the time it lasted.
    pub throughput: f64,
    pub latency: Latency,
}

/// What the runner counts per phase while the run goes on.
#[derive(Clone, Debug, Default)]
pub(crate) struct PhaseTally {
    pub latencies: Vec<u64>,
    pub ok: u64,
    pub fail: u64,
    pub info: u64,
}

impl PhaseTally {
    pub(crate) fn merge(&mut self, other: PhaseTally) {
        self.latencies.extend(other.latencies);
        self.ok += other.ok;
        self.fail += other.fail;
        self.info += other.info;
    }
}

/// Each phase's figures, from its tally, for a run that lasted `elapsed`.
pub(crate) fn figures(
    phases: &[Phase],
    tallies: &mut [PhaseTally],
    elapsed: Duration,
) -> Vec<PhaseFigures> {
    let mut start = Duration::ZERO;
    phases
        .iter()
        .zip(tallies.iter_mut())
        .enumerate()
        .map(|(i, (phase, tally))| {
            let planned_end = start + phase.duration;
            let end = if i + 1 == phases.len() {
                elapsed.max(start)
            } else {
                planned_end.min(elapsed).max(start)
            };
            let operations = tally.ok + tally.fail + tally.info;
            let lasted = (end - start).as_secs_f64();
            let figures = PhaseFigures {
                name: phase.name.clone(),
                start_s: start.as_secs_f64(),
                end_s: end.as_secs_f64(),
                operations,
                ok: tally.ok,
                fail: tally.fail,
                info: tally.info,
                throughput: if lasted > 0.0 {
                    operations as f64 / lasted
                } else {
                    0.0
                },
                latency: Latency::of(&mut tally.latencies),
            };
            start = planned_end;
            figures
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phases() -> Vec<Phase> {
        vec![
            Phase {
                name: WARMUP.into(),
                duration: Duration::from_secs(2),
            },
            Phase {
                name: "steady".into(),
                duration: Duration::from_secs(3),
            },
        ]
    }

    #[test]
    fn operations_after_the_last_phase_count_in_it() {
        let phases = phases();
        assert_eq!(Phase::index_at(&phases, Duration::ZERO), Some(0));
        assert_eq!(Phase::index_at(&phases, Duration::from_secs(2)), Some(1));
        assert_eq!(Phase::index_at(&phases, Duration::from_secs(60)), Some(1));
        assert_eq!(Phase::index_at(&[], Duration::ZERO), None);
        assert_eq!(Phase::total(&phases), Duration::from_secs(5));
    }

    #[test]
    fn a_run_that_ends_early_cuts_its_phases_short() {
        let mut tallies = vec![
            PhaseTally {
                latencies: vec![1000, 2000],
                ok: 2,
                ..PhaseTally::default()
            },
            PhaseTally::default(),
        ];
        let figures = figures(&phases(), &mut tallies, Duration::from_secs(1));
        assert_eq!((figures[0].start_s, figures[0].end_s), (0.0, 1.0));
        assert_eq!(figures[0].throughput, 2.0);
        assert_eq!((figures[1].start_s, figures[1].end_s), (2.0, 2.0));
        assert_eq!(figures[1].throughput, 0.0);
    }
}
