//! Checking every partition, in parallel, and turning what the searches found into a report.

mod linearize;
mod partition;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use rayon::prelude::*;

use photofinish_history::History;

use crate::model::Model;
use crate::report::{Failure, Report, Step, UndecidedPartition, Verdict};
use crate::{CheckError, CheckOptions};
use linearize::{linearize, Limits, SearchResult, Stuck, Undecided};
use partition::{partition, Partition};

/// How many steps of the longest linearization a failure keeps.
const PREFIX_STEPS: usize = 200;

pub(crate) fn check<M: Model>(
    model: &M,
    history: &History,
    options: &CheckOptions,
) -> Result<Report, CheckError> {
    let started = Instant::now();
    let mut parts = partition(model, history)?;
    if history.event_count == 0 {
        return Ok(nothing_recorded(model, started));
    }
    // Biggest first, so one large partition does not start last and run alone.
    parts.sort_by_key(|p| std::cmp::Reverse(p.ops.len()));
    let stop = AtomicBool::new(false);
    let threads = rayon::current_num_threads().min(parts.len()).max(1);
    let limits = Limits {
        deadline: options.timeout.map(|t| started + t),
        max_bytes: options.max_memory / threads,
        stop: &stop,
    };
    // One partition per task, so an idle thread always takes the next one: a small failing
    // partition can then stop a big one early.
    let results: Vec<_> = parts
        .par_iter()
        .with_max_len(1)
        .map(|part| {
            if stop.load(Ordering::Relaxed) {
                return (SearchResult::Undecided(Undecided::Cancelled), 0);
            }
            let (result, configurations) = linearize(model, part, &limits);
            if matches!(result, SearchResult::NotLinearizable(_)) && !options.all_partitions {
                stop.store(true, Ordering::Relaxed);
            }
            (result, configurations)
        })
        .collect();

    let mut report = Report {
        verdict: Verdict::Valid,
        model: model.name().to_string(),
        operations: history.operations.len(),
        partitions: parts.len(),
        decided: 0,
        failures: Vec::new(),
        undecided: Vec::new(),
        configurations: 0,
        elapsed: started.elapsed(),
    };
    for (part, (result, configurations)) in parts.iter().zip(results) {
        report.configurations += configurations;
        match result {
            SearchResult::Linearizable => report.decided += 1,
            SearchResult::NotLinearizable(stuck) => {
                report.decided += 1;
                report.failures.push(explain(model, history, part, stuck));
            }
            SearchResult::Undecided(Undecided::Cancelled) => {}
            SearchResult::Undecided(reason) => report.undecided.push(UndecidedPartition {
                key: part.key.clone(),
                reason: match reason {
                    Undecided::Timeout => format!(
                        "the time budget of {:.1?} ran out",
                        options.timeout.unwrap_or_default()
                    ),
                    _ => format!(
                        "the memory budget of {} MiB ran out",
                        options.max_memory >> 20
                    ),
                },
            }),
        }
    }
    report.failures.sort_by(|a, b| a.key.cmp(&b.key));
    report.undecided.sort_by(|a, b| a.key.cmp(&b.key));
    report.verdict = if !report.failures.is_empty() {
        Verdict::Invalid
    } else if !report.undecided.is_empty() {
        Verdict::Unknown
    } else {
        Verdict::Valid
    };
    report.elapsed = started.elapsed();
    Ok(report)
}

/// An empty history proves nothing about the system: the run failed (the system never came
/// up, the recorder never started). Like Jepsen's checkers, call that a failed check rather
/// than a pass. (A history with only nemesis events, or only failed operations, is checked as
/// usual: something ran.)
fn nothing_recorded<M: Model>(model: &M, started: Instant) -> Report {
    Report {
        verdict: Verdict::Invalid,
        model: model.name().to_string(),
        operations: 0,
        partitions: 0,
        decided: 0,
        failures: vec![Failure {
            key: None,
            reason: "the history is empty: the run recorded nothing to check".to_string(),
            stuck: None,
            prefix: Vec::new(),
            prefix_len: 0,
            possible_states: Vec::new(),
            concurrent: Vec::new(),
        }],
        undecided: Vec::new(),
        configurations: 0,
        elapsed: started.elapsed(),
    }
}

/// Turns partition-local facts into history operations, replaying the prefix to show the state
/// after each step.
fn explain<M: Model>(
    model: &M,
    history: &History,
    part: &Partition<M::Op>,
    stuck: Stuck<M::State>,
) -> Failure {
    let operation = |local: u32| history.operations[part.ops[local as usize].history_id].clone();
    let mut state = model.init();
    let mut prefix = Vec::new();
    let skip = stuck.prefix.len().saturating_sub(PREFIX_STEPS);
    for (i, &local) in stuck.prefix.iter().enumerate() {
        match model.step(&state, &part.ops[local as usize].op) {
            Some(next) => state = next,
            None => break,
        }
        if i >= skip {
            prefix.push(Step {
                index: i + 1,
                op: operation(local),
                state: model.describe(&state),
            });
        }
    }
    let stuck_op = part.ops.get(stuck.op as usize).map(|_| operation(stuck.op));
    Failure {
        key: part.key.clone(),
        reason: match &stuck_op {
            Some(op) => format!(
                "no order of the operations explains the `{}` by process {} that completed on line {}",
                op.f,
                op.process,
                op.complete_line.unwrap_or(op.invoke_line)
            ),
            None => "no order of the operations explains the history".to_string(),
        },
        stuck: stuck_op,
        prefix,
        prefix_len: stuck.prefix.len(),
        possible_states: stuck.states.iter().map(|s| model.describe(s)).collect(),
        concurrent: stuck.open.iter().map(|&o| operation(o)).collect(),
    }
}
