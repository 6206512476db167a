//! Checking every partition, in parallel, and turning what the searches found into a report.

mod budget;
mod linearize;
mod partition;
mod witness;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use photofinish_history::{History, Operation};

use crate::model::Model;
use crate::report::{
    Coverage, EarlierStates, Failure, Report, Step, UndecidedPartition, Verdict, Witness,
};
use crate::{CheckError, CheckOptions};
use budget::Budget;
use linearize::{linearize, Limits, SearchResult, Stuck, Undecided};
use partition::{partition, PEvent, Partition};

/// How many steps of the longest linearization a failure keeps.
const PREFIX_STEPS: usize = 200;

/// The longest the search for a minimal witness may take, within what the check's own budget
/// leaves: it makes a failure easier to read, never changes the verdict.
const WITNESS_BUDGET: Duration = Duration::from_secs(5);

/// The reason given ([`Report::reason`]) when a history proves nothing: it was empty, or no
/// client operation completed ok.
pub const NOTHING_TESTED: &str = "nothing was tested: no operation completed ok";

pub(crate) fn check<M: Model>(
    model: &M,
    history: &History,
    options: &CheckOptions,
) -> Result<Report, CheckError> {
    let started = Instant::now();
    let budget = Budget::new(started, options);
    let parts = partition(model, history)?;
    let coverage = Coverage::of(&history.operations);
    let mut report = Report {
        verdict: Verdict::Valid,
        reason: None,
        model: model.name().to_string(),
        operations: history.operations.len(),
        coverage,
        diagnosis: Vec::new(),
        warnings: coverage_warnings(&coverage),
        partitions: parts.len(),
        decided: 0,
        failures: Vec::new(),
        witness: None,
        undecided: Vec::new(),
        configurations: 0,
        elapsed: Duration::ZERO,
    };
    // A history whose client operations all failed, timed out or never completed is linearizable
    // whatever the system did: it proves nothing, and a pass would be a lie. An empty history
    // (the system never came up) is the same. A history of nemesis events alone is checked as
    // usual: there was nothing to get wrong.
    if history.event_count == 0 || (!history.operations.is_empty() && coverage.ok == 0) {
        report.verdict = Verdict::Unknown;
        report.reason = Some(NOTHING_TESTED.to_string());
        report.elapsed = started.elapsed();
        return Ok(report);
    }
    if history.operations.is_empty() {
        report
            .warnings
            .push("the history has no client operations: only the nemesis acted".to_string());
    }

    let results = search_partitions(model, &parts, options, &budget);
    // The first failure's partition and the operation it got stuck on, to shrink.
    let mut first_failure: Option<(usize, u32)> = None;
    // Partitions in the order of their first event: the failure reported is the first in the
    // file, whatever order the threads happened to finish in.
    for (index, (part, (result, configurations))) in parts.iter().zip(results).enumerate() {
        report.configurations += configurations;
        match result {
            SearchResult::Linearizable => report.decided += 1,
            SearchResult::NotLinearizable(stuck) => {
                report.decided += 1;
                if first_failure.is_none() {
                    first_failure = Some((index, stuck.op));
                }
                if options.all_partitions || report.failures.is_empty() {
                    report.failures.push(explain(model, history, part, stuck));
                }
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
    report.verdict = if !report.failures.is_empty() {
        Verdict::Invalid
    } else if !report.undecided.is_empty() {
        Verdict::Unknown
    } else {
        Verdict::Valid
    };
    report.diagnosis = report
        .failures
        .iter()
        .flat_map(|f| f.diagnosis.iter().cloned())
        .collect();
    if let Some((index, stuck)) = first_failure {
        let part = &parts[index];
        report.witness = witness::shrink(
            model,
            history,
            part,
            ((stuck as usize) < part.ops.len()).then_some(stuck),
            &budget.for_witness(WITNESS_BUDGET),
            options.max_memory,
        );
    }
    report.elapsed = started.elapsed();
    Ok(report)
}

/// What the search of one partition found, and how many configurations it explored.
type Searched<S> = (SearchResult<S>, u64);

/// Decides every partition, in parallel, and returns each one's result in partition order.
///
/// Unless every partition is wanted, a failure cancels the partitions whose first event comes
/// later in the file, and only those: the partitions before it run to the end, so the first
/// failing partition in the file is found however the threads were scheduled.
fn search_partitions<M: Model>(
    model: &M,
    parts: &[Partition<M::Op>],
    options: &CheckOptions,
    budget: &Budget,
) -> Vec<Searched<M::State>> {
    let first_failure = AtomicUsize::new(usize::MAX);
    let threads = rayon::current_num_threads().min(parts.len()).max(1);
    // Biggest first, so one large partition does not start last and run alone; one partition
    // per task, so an idle thread always takes the next one.
    let mut schedule: Vec<usize> = (0..parts.len()).collect();
    schedule.sort_by_key(|&i| std::cmp::Reverse(parts[i].ops.len()));
    let mut results: Vec<(usize, Searched<M::State>)> = schedule
        .par_iter()
        .with_max_len(1)
        .map(|&index| {
            let limits = Limits {
                budget,
                max_search_bytes: options.max_memory / threads,
                first_failure: (!options.all_partitions).then_some(&first_failure),
                index,
                max_configurations: u64::MAX,
            };
            if limits.cancelled() {
                return (index, (SearchResult::Undecided(Undecided::Cancelled), 0));
            }
            let (result, configurations) = linearize(model, &parts[index], &limits);
            if matches!(result, SearchResult::NotLinearizable(_)) {
                first_failure.fetch_min(index, Ordering::Relaxed);
            }
            (index, (result, configurations))
        })
        .collect();
    results.sort_by_key(|(index, _)| *index);
    results.into_iter().map(|(_, result)| result).collect()
}

/// Warns when most operations are indeterminate: each of them may or may not have happened,
/// so the verdict rests on little.
fn coverage_warnings(coverage: &Coverage) -> Vec<String> {
    let total = coverage.total();
    if total > 0 && coverage.info * 2 > total {
        vec![format!(
            "{} of {} operations are indeterminate (info or never completed): the check proves little; consider a longer --op-timeout",
            coverage.info, total
        )]
    } else {
        Vec::new()
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
    let mut ids: Vec<usize> = part.ops.iter().map(|o| o.history_id).collect();
    ids.sort_unstable();
    let ops: Vec<&Operation> = ids.iter().map(|&id| &history.operations[id]).collect();
    Failure {
        diagnosis: model.diagnose(&ops),
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
        earlier_states: stuck.states_before.map(|(pos, states)| EarlierStates {
            before_line: line_at(history, part, pos),
            states: states.iter().map(|s| model.describe(s)).collect(),
        }),
        concurrent: stuck.concurrent.iter().map(|&o| operation(o)).collect(),
    }
}

impl Witness {
    fn of<Op>(history: &History, part: &Partition<Op>, keep: &[u32], minimal: bool) -> Witness {
        Witness {
            key: part.key.clone(),
            minimal,
            operations: keep
                .iter()
                .map(|&o| history.operations[part.ops[o as usize].history_id].clone())
                .collect(),
        }
    }
}

/// The history line of the partition's event at `pos` (the line after its last event when
/// `pos` is past the end).
fn line_at<Op>(history: &History, part: &Partition<Op>, pos: u32) -> usize {
    let op = |o: u32| &history.operations[part.ops[o as usize].history_id];
    match part.events.get(pos as usize) {
        Some(PEvent::Invoke(o)) => op(*o).invoke_line,
        Some(PEvent::Return(o)) => op(*o).complete_line.unwrap_or(op(*o).invoke_line),
        None => part
            .events
            .iter()
            .map(|e| match *e {
                PEvent::Invoke(o) => op(o).invoke_line,
                PEvent::Return(o) => op(o).complete_line.unwrap_or(0),
            })
            .max()
            .map_or(1, |last| last + 1),
    }
}
