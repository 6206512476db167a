//! Checking every partition, in parallel, and turning what the searches found into a report.

pub(crate) mod budget;
pub(crate) mod linearize;
pub(crate) mod partition;
mod witness;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use photofinish_history::{History, Operation};

use crate::model::Model;
use crate::procedures::{Decision, Procedure};
use crate::report::{
    Coverage, EarlierStates, Failure, ProcedureUse, Report, Step, UndecidedPartition, Verdict,
    Witness, GENERIC_SEARCH,
};
use crate::{CheckError, CheckOptions, SearchChoice};
use budget::{Budget, Exceeded};
use linearize::{linearize, Limits, SearchResult, Stuck, Undecided};
use partition::{partition, PEvent, Partition};

/// How many steps of the longest linearization a failure keeps.
const PREFIX_STEPS: usize = 200;

/// The most configurations the generic search may explore to explain a failure the
/// unique-values procedure found (the states the stuck operation was tried in), and the most
/// operations a partition may have for it to try: on a long history with many clients, each
/// configuration is costly and the procedure's own explanation has to do.
const EXPLAIN_CONFIGURATIONS: u64 = 10_000;
const EXPLAIN_OPERATIONS: usize = 5_000;

/// The most values the generic search may copy from state to state in all, explaining such a
/// failure: where states are large (a set of thousands of elements), fewer configurations.
const EXPLAIN_WORK: u64 = 2_000_000;

/// The most operations a procedure's counterexample may have for the generic search to shrink
/// it: a set's counterexample holds the adds of every element its reads saw, and the search
/// copies the set at every step.
const SHRINK_OPERATIONS: usize = 200;

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
        procedures: Vec::new(),
        configurations: 0,
        elapsed: Duration::ZERO,
        stalls: photofinish_history::stall::stalls_of(history).1,
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

    let results = search_partitions(model, history, &parts, options, &budget);
    // The first failure's partition, the operation it got stuck on, and the operations to
    // shrink (all of the partition's, unless a procedure found a few that suffice).
    let mut first_failure: Option<(usize, u32, Option<Counterexample>)> = None;
    let mut uses = Uses::default();
    // Partitions in the order of their first event: the failure reported is the first in the
    // file, whatever order the threads happened to finish in.
    for (index, (part, decided)) in parts.iter().zip(results).enumerate() {
        report.configurations += decided.configurations;
        uses.add(part, &decided);
        match decided.result {
            SearchResult::Linearizable => report.decided += 1,
            SearchResult::NotLinearizable(stuck) => {
                report.decided += 1;
                let (why, witness) = match decided.conflict {
                    Some((why, witness)) => (why, Some(witness)),
                    None => (None, None),
                };
                if first_failure.is_none() {
                    first_failure = Some((index, stuck.op, witness));
                }
                if options.all_partitions || report.failures.is_empty() {
                    report
                        .failures
                        .push(explain(model, history, part, stuck, why.as_deref()));
                }
            }
            SearchResult::Undecided(Undecided::Cancelled) => {}
            SearchResult::Undecided(reason) => report.undecided.push(UndecidedPartition {
                key: part.key.clone(),
                reason: {
                    let ran_out = match reason {
                        Undecided::Timeout => format!(
                            "the time budget of {:.1?} ran out",
                            options.timeout.unwrap_or_default()
                        ),
                        _ => format!(
                            "the memory budget of {} MiB ran out",
                            options.max_memory >> 20
                        ),
                    };
                    match &decided.declined {
                        Some((procedure, why)) => format!(
                            "{ran_out}; {why}, so the {procedure} does not apply and the exact check is exponential here"
                        ),
                        None => ran_out,
                    }
                },
            }),
        }
    }
    report.procedures = uses.into_report();
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
    if let Some((index, stuck, few)) = first_failure {
        let part = &parts[index];
        let witness_budget = budget.for_witness(WITNESS_BUDGET);
        report.witness = match few {
            // Shrink the procedure's counterexample, a handful of operations, rather than the
            // whole partition, which the generic search may not decide in the budget.
            Some(few) if !few.shrink || few.ops.len() > SHRINK_OPERATIONS => {
                Some(Witness::of(history, part, &few.ops, false, false))
            }
            Some(Counterexample { ops: few, .. }) => {
                let sub = part.subset(&few);
                witness::shrink(
                    model,
                    history,
                    &sub,
                    few.binary_search(&stuck).ok().map(|at| at as u32),
                    &witness_budget,
                    options.max_memory,
                )
                .or_else(|| Some(Witness::of(history, part, &few, true, false)))
            }
            None => witness::shrink(
                model,
                history,
                part,
                ((stuck as usize) < part.ops.len()).then_some(stuck),
                &witness_budget,
                options.max_memory,
            ),
        };
    }
    report.elapsed = started.elapsed();
    Ok(report)
}

/// What deciding one partition found.
struct Decided<S> {
    result: SearchResult<S>,
    /// Configurations the generic search explored.
    configurations: u64,
    /// The procedure that decided it.
    by: &'static str,
    elapsed: Duration,
    /// The polynomial procedure that was tried and did not decide it, and why.
    declined: Option<(&'static str, String)>,
    /// From a polynomial procedure, for a partition with no linearization: what leaves
    /// the stuck operation no place (unless the generic search named another one), and a few
    /// operations that alone have no linearization.
    conflict: Option<(Option<String>, Counterexample)>,
}

/// A polynomial procedure's counterexample: a few operations that alone have no linearization.
struct Counterexample {
    ops: Vec<u32>,
    /// Whether the generic shrinker may shrink them.
    shrink: bool,
}

impl<S> Decided<S> {
    fn by(by: &'static str, result: SearchResult<S>, started: Instant) -> Decided<S> {
        Decided {
            result,
            configurations: 0,
            by,
            elapsed: started.elapsed(),
            declined: None,
            conflict: None,
        }
    }
}

/// Decides every partition, in parallel, and returns each one's result in partition order.
///
/// Unless every partition is wanted, a failure cancels the partitions whose first event comes
/// later in the file, and only those: the partitions before it run to the end, so the first
/// failing partition in the file is found however the threads were scheduled.
fn search_partitions<M: Model>(
    model: &M,
    history: &History,
    parts: &[Partition<M::Op>],
    options: &CheckOptions,
    budget: &Budget,
) -> Vec<Decided<M::State>> {
    let first_failure = AtomicUsize::new(usize::MAX);
    let threads = rayon::current_num_threads().min(parts.len()).max(1);
    let procedure = match options.search {
        SearchChoice::Auto => Procedure::for_model(model),
        SearchChoice::Generic => None,
    };
    // Biggest first, so one large partition does not start last and run alone; one partition
    // per task, so an idle thread always takes the next one.
    let mut schedule: Vec<usize> = (0..parts.len()).collect();
    schedule.sort_by_key(|&i| std::cmp::Reverse(parts[i].ops.len()));
    let mut results: Vec<(usize, Decided<M::State>)> = schedule
        .par_iter()
        .with_max_len(1)
        .map(|&index| {
            let started = Instant::now();
            let limits = Limits {
                budget,
                max_search_bytes: options.max_memory / threads,
                first_failure: (!options.all_partitions).then_some(&first_failure),
                index,
                max_configurations: u64::MAX,
            };
            if limits.cancelled() {
                let cancelled = SearchResult::Undecided(Undecided::Cancelled);
                return (index, Decided::by(GENERIC_SEARCH, cancelled, started));
            }
            let mut declined = None;
            if let Some(procedure) = procedure {
                let name = procedure.name();
                if let Some(exceeded) = budget.exceeded() {
                    let undecided = SearchResult::Undecided(match exceeded {
                        Exceeded::Time => Undecided::Timeout,
                        Exceeded::Memory => Undecided::Memory,
                    });
                    return (index, Decided::by(name, undecided, started));
                }
                let part = &parts[index];
                match procedure.decide(model, history, part, budget) {
                    Decision::Linearizable => {
                        let valid = SearchResult::Linearizable;
                        return (index, Decided::by(name, valid, started));
                    }
                    Decision::NotLinearizable(conflict) => {
                        // The generic search explains a failure best (the states the stuck
                        // operation was tried in): given a little work, it often finds it.
                        let explain = Limits {
                            first_failure: None,
                            max_configurations: EXPLAIN_CONFIGURATIONS
                                .min(EXPLAIN_WORK / conflict.state_size.max(1) as u64),
                            ..limits
                        };
                        let (searched, configurations) = if part.ops.len() <= EXPLAIN_OPERATIONS {
                            linearize(model, part, &explain)
                        } else {
                            (SearchResult::Undecided(Undecided::Work), 0)
                        };
                        let (stuck, why) = match searched {
                            SearchResult::NotLinearizable(stuck) => {
                                let why = (stuck.op == conflict.stuck).then_some(conflict.reason);
                                (Some(stuck), why)
                            }
                            SearchResult::Linearizable => (None, None),
                            SearchResult::Undecided(_) => (
                                Some(Stuck {
                                    op: conflict.stuck,
                                    prefix: conflict.prefix,
                                    states: Vec::new(),
                                    states_before: None,
                                    concurrent: concurrent_with(part, conflict.stuck),
                                }),
                                Some(conflict.reason),
                            ),
                        };
                        match stuck {
                            Some(stuck) => {
                                first_failure.fetch_min(index, Ordering::Relaxed);
                                let failed = SearchResult::NotLinearizable(stuck);
                                let mut decided = Decided::by(name, failed, started);
                                decided.configurations = configurations;
                                decided.conflict = Some((
                                    why,
                                    Counterexample {
                                        ops: conflict.witness,
                                        shrink: conflict.shrink,
                                    },
                                ));
                                return (index, decided);
                            }
                            // The two disagree, which they never should: the generic search
                            // decides with its whole budget.
                            None => {
                                declined = Some((
                                    name,
                                    "its verdict and the generic search's disagree (a bug: please report it)"
                                        .to_string(),
                                ))
                            }
                        }
                    }
                    Decision::NotApplicable(why) => declined = Some((name, why)),
                }
            }
            let (result, configurations) = linearize(model, &parts[index], &limits);
            if matches!(result, SearchResult::NotLinearizable(_)) {
                first_failure.fetch_min(index, Ordering::Relaxed);
            }
            let mut decided = Decided::by(GENERIC_SEARCH, result, started);
            decided.configurations = configurations;
            decided.declined = declined;
            (index, decided)
        })
        .collect();
    results.sort_by_key(|(index, _)| *index);
    results.into_iter().map(|(_, result)| result).collect()
}

/// The operations of `part` concurrent with `op`: invoked before it returned, and returned
/// after it was invoked (or never), in order of invocation.
fn concurrent_with<Op: Clone>(part: &Partition<Op>, op: u32) -> Vec<u32> {
    let Some(invoked) = part.events.iter().position(|e| *e == PEvent::Invoke(op)) else {
        return Vec::new();
    };
    let returned = part.return_position(op).unwrap_or(part.events.len());
    let mut open = vec![false; part.ops.len()];
    for event in &part.events[..returned] {
        match *event {
            PEvent::Invoke(o) if o != op => open[o as usize] = true,
            _ => {}
        }
    }
    for event in &part.events[..invoked] {
        if let PEvent::Return(o) = *event {
            open[o as usize] = false;
        }
    }
    let mut concurrent: Vec<u32> = part.events[..returned]
        .iter()
        .filter_map(|e| match *e {
            PEvent::Invoke(o) if open[o as usize] => Some(o),
            _ => None,
        })
        .collect();
    concurrent.dedup();
    concurrent
}

/// Which procedures decided the partitions: counted as they are reported.
#[derive(Default)]
struct Uses {
    /// Per polynomial procedure, in the order first used: partitions decided and time taken.
    polynomial: Vec<(&'static str, usize, Duration)>,
    generic: (usize, Duration),
    /// The first reason a polynomial procedure declined a partition the generic search then
    /// decided, and how many partitions were declined.
    declined: Option<String>,
    declined_count: usize,
}

impl Uses {
    fn add<Op, S>(&mut self, part: &Partition<Op>, decided: &Decided<S>) {
        if matches!(decided.result, SearchResult::Undecided(_)) {
            return;
        }
        if decided.by != GENERIC_SEARCH {
            let at = match self.polynomial.iter().position(|p| p.0 == decided.by) {
                Some(at) => at,
                None => {
                    self.polynomial.push((decided.by, 0, Duration::ZERO));
                    self.polynomial.len() - 1
                }
            };
            let (_, count, elapsed) = &mut self.polynomial[at];
            *count += 1;
            *elapsed += decided.elapsed;
            return;
        }
        self.generic.0 += 1;
        self.generic.1 += decided.elapsed;
        if let Some((_, why)) = &decided.declined {
            self.declined_count += 1;
            if self.declined.is_none() {
                self.declined = Some(match &part.key {
                    Some(key) => format!("key {key}: {why}"),
                    None => why.clone(),
                });
            }
        }
    }

    fn into_report(self) -> Vec<ProcedureUse> {
        let mut uses: Vec<ProcedureUse> = self
            .polynomial
            .into_iter()
            .map(|(name, partitions, elapsed)| ProcedureUse {
                name: name.to_string(),
                partitions,
                elapsed,
                why: None,
            })
            .collect();
        if self.generic.0 > 0 {
            uses.push(ProcedureUse {
                name: GENERIC_SEARCH.to_string(),
                partitions: self.generic.0,
                elapsed: self.generic.1,
                why: self.declined.map(|why| match self.declined_count {
                    1 => why,
                    n => format!("{why} (and {} more partitions)", n - 1),
                }),
            });
        }
        uses
    }
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
    why: Option<&str>,
) -> Failure {
    let operation = |local: u32| history.operations[part.ops[local as usize].history_id()].clone();
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
    let mut ids: Vec<usize> = part.ops.iter().map(|o| o.history_id()).collect();
    ids.sort_unstable();
    let ops: Vec<&Operation> = ids.iter().map(|&id| &history.operations[id]).collect();
    Failure {
        diagnosis: model.diagnose(&ops),
        key: part.key.clone(),
        reason: {
            let base = match &stuck_op {
                Some(op) => format!(
                    "no order of the operations explains the `{}` by process {} that completed on line {}",
                    op.f,
                    op.process,
                    op.complete_line.unwrap_or(op.invoke_line)
                ),
                None => "no order of the operations explains the history".to_string(),
            };
            match why {
                Some(why) => format!("{base}: {why}"),
                None => base,
            }
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
    fn of<Op>(
        history: &History,
        part: &Partition<Op>,
        keep: &[u32],
        shrunk: bool,
        minimal: bool,
    ) -> Witness {
        Witness {
            key: part.key.clone(),
            minimal,
            shrunk,
            operations: keep
                .iter()
                .map(|&o| history.operations[part.ops[o as usize].history_id()].clone())
                .collect(),
        }
    }
}

/// The history line of the partition's event at `pos` (the line after its last event when
/// `pos` is past the end).
fn line_at<Op>(history: &History, part: &Partition<Op>, pos: u32) -> usize {
    let op = |o: u32| &history.operations[part.ops[o as usize].history_id()];
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
