//! Checking a transactional history: inference, the dependency graph, cycles, the report.

use std::time::{Duration, Instant};

use photofinish_history::{History, Outcome};

use crate::anomaly::AnomalyKind;
use crate::consistency::ConsistencyModel;
use crate::cycles::{Step, StepKind};
use crate::error::TxnError;
use crate::explain::{self, txn_name, txn_ref, Findings};
use crate::graph::{kind, Edge, Graph, Realtime};
use crate::report::{ExplainedStep, Finding, Report, Verdict};
use crate::search::{find_cycles, SearchLimits};
use crate::txns::{Txns, Workload, WriteIndex};
use crate::{list_append, rw_register};

/// How to check a transactional history.
#[derive(Clone, Debug)]
pub struct TxnOptions {
    /// The model the system promises; the verdict is invalid only if the history violates it.
    pub consistency_model: ConsistencyModel,
    /// Work allowed to the cycle searches that name and explain anomalies (the verdict itself
    /// never depends on it).
    pub limits: SearchLimits,
    /// Give up (verdict unknown, unless an anomaly the model forbids was already found) after
    /// this long.
    pub timeout: Option<Duration>,
    /// Give up likewise once the process's resident memory passes this many bytes (checked
    /// between phases and between components of the cycle search; Linux only).
    pub max_memory: Option<usize>,
}

impl Default for TxnOptions {
    fn default() -> Self {
        TxnOptions {
            consistency_model: ConsistencyModel::StrictSerializable,
            limits: SearchLimits::default(),
            timeout: None,
            max_memory: None,
        }
    }
}

/// The process's resident memory, where the system tells it (Linux).
fn resident_bytes() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Why a check stopped early, if it must.
fn over_budget(started: Instant, options: &TxnOptions) -> Option<String> {
    if let Some(t) = options.timeout {
        if started.elapsed() > t {
            return Some(format!(
                "stopped at the time limit of {} s",
                t.as_secs_f64()
            ));
        }
    }
    let limit = options.max_memory?;
    let rss = resident_bytes()?;
    (rss > limit).then(|| {
        format!(
            "stopped: resident memory {} MiB passed the limit of {} MiB",
            rss >> 20,
            limit >> 20
        )
    })
}

/// Checks the transactions of `history` as a `workload` history.
pub fn check_history(
    history: &History,
    workload: Workload,
    origin: &str,
    options: &TxnOptions,
) -> Result<Report, TxnError> {
    let txns = Txns::from_history(history, workload, origin)?;
    check_txns(&txns, options)
}

/// Checks transactions already read.
pub fn check_txns(txns: &Txns, options: &TxnOptions) -> Result<Report, TxnError> {
    let started = Instant::now();
    let writes = WriteIndex::build(txns)?;
    let mut notes = Vec::new();
    if txns.anonymous_processes {
        notes.push("the history names no processes: no process order was assumed".to_string());
    }
    let (mut edges, findings, explainer) = match txns.workload {
        Workload::ListAppend => {
            let inferred = list_append::infer(txns);
            (
                inferred.edges,
                inferred.findings,
                Explainer::ListAppend(inferred.orders),
            )
        }
        Workload::RwRegister => {
            let inferred = rw_register::infer(txns, &writes);
            notes.push(
                "rw-register orders versions by what each transaction read before it wrote, which read committed and stronger models guarantee; real-time order adds more under strict serializability only. Its cycles therefore say nothing about read uncommitted.".to_string(),
            );
            (
                inferred.edges,
                inferred.findings,
                Explainer::RwRegister(inferred.versions),
            )
        }
    };
    if let Some(why) = over_budget(started, options) {
        notes.push(why);
        return Ok(undecided(txns, options, started, notes));
    }
    process_edges(txns, &mut edges);
    let graph = Graph::build(txns.txns.len(), edges);
    let realtime = Realtime::build(txns);
    let mut stopped = None;
    let cycles = find_cycles(&graph, &realtime, txns, options.limits, &mut || {
        stopped = stopped.take().or_else(|| over_budget(started, options));
        stopped.is_some()
    });
    if cycles.exhausted > 0 {
        notes.push(format!(
            "{} cycle searches ran out of their budget; the anomalies listed are those found, and every model's verdict was still decided exactly",
            cycles.exhausted
        ));
    }
    let mut all = findings;
    for cycle in &cycles.found {
        let finding = explain_cycle(txns, &writes, &explainer, cycle.kind, &cycle.steps);
        all.add(cycle.kind, || finding);
    }
    notes.extend(all.overflow_notes());
    let Findings { mut kept, counts } = all;
    kept.sort_by_key(|a| a.kind);
    let anomaly_types: Vec<AnomalyKind> = counts.keys().copied().collect();
    let ruled_out: Vec<ConsistencyModel> = ConsistencyModel::ALL
        .into_iter()
        .filter(|m| {
            anomaly_types
                .iter()
                .any(|&a| rules_out(txns.workload, *m, a))
        })
        .collect();
    let (committed, failed, indeterminate) = outcome_counts(txns);
    let verdict = if ruled_out.contains(&options.consistency_model) {
        Verdict::Invalid
    } else if committed == 0 {
        notes.push("no transaction committed: nothing was tested".to_string());
        Verdict::Unknown
    } else if let Some(why) = stopped {
        notes.push(format!(
            "{why} before every strongly connected component was searched"
        ));
        Verdict::Unknown
    } else {
        Verdict::Valid
    };
    Ok(Report {
        workload: txns.workload.name().to_string(),
        verdict,
        consistency_model: Some(options.consistency_model),
        ruled_out,
        anomaly_counts: counts.iter().map(|(k, n)| (k.name(), *n)).collect(),
        anomaly_types,
        anomalies: kept,
        operations: txns.txns.len(),
        committed,
        failed,
        indeterminate,
        notes,
        elapsed_ms: started.elapsed().as_secs_f64() * 1e3,
    })
}

/// Whether `anomaly`, found in a `workload` history, shows that `model` does not hold. In
/// rw-register, version orders rest on writes following reads, which read uncommitted does not
/// promise, so no cycle there rules read uncommitted out.
pub fn rules_out(workload: Workload, model: ConsistencyModel, anomaly: AnomalyKind) -> bool {
    if workload == Workload::RwRegister
        && model == ConsistencyModel::ReadUncommitted
        && matches!(anomaly, AnomalyKind::Cycle(..))
    {
        return false;
    }
    model.forbids(anomaly)
}

fn outcome_counts(txns: &Txns) -> (usize, usize, usize) {
    let mut counts = (0, 0, 0);
    for t in &txns.txns {
        match t.outcome {
            Outcome::Ok => counts.0 += 1,
            Outcome::Fail => counts.1 += 1,
            _ => counts.2 += 1,
        }
    }
    counts
}

fn undecided(txns: &Txns, options: &TxnOptions, started: Instant, notes: Vec<String>) -> Report {
    let (committed, failed, indeterminate) = outcome_counts(txns);
    Report {
        workload: txns.workload.name().to_string(),
        verdict: Verdict::Unknown,
        consistency_model: Some(options.consistency_model),
        ruled_out: Vec::new(),
        anomaly_types: Vec::new(),
        anomaly_counts: Default::default(),
        anomalies: Vec::new(),
        operations: txns.txns.len(),
        committed,
        failed,
        indeterminate,
        notes,
        elapsed_ms: started.elapsed().as_secs_f64() * 1e3,
    }
}

/// Process order: each committed transaction precedes the next transaction of its process
/// that did not fail. (A transaction whose outcome is unknown may take effect at any later
/// time, so it precedes nothing; Jepsen gives its process a new number anyway.)
fn process_edges(txns: &Txns, edges: &mut Vec<Edge>) {
    if txns.anonymous_processes {
        return;
    }
    let mut by_process: Vec<(i64, u32)> = txns
        .txns
        .iter()
        .enumerate()
        .filter(|(_, t)| t.outcome != Outcome::Fail)
        .map(|(i, t)| (t.process, i as u32))
        .collect();
    by_process.sort_unstable();
    for pair in by_process.windows(2) {
        let ((p1, a), (p2, b)) = (pair[0], pair[1]);
        if p1 == p2 && txns.txns[a as usize].committed() {
            edges.push((a, b, kind::PROCESS));
        }
    }
}

/// What the explanations of steps need from the workload's inference.
pub(crate) enum Explainer {
    /// Version order of each key.
    ListAppend(Vec<Vec<u32>>),
    RwRegister(rw_register::Versions),
}

/// A cycle, explained step by step.
fn explain_cycle(
    txns: &Txns,
    writes: &WriteIndex,
    explainer: &Explainer,
    kind: AnomalyKind,
    cycle: &[Step],
) -> Finding {
    let steps: Vec<ExplainedStep> = cycle
        .iter()
        .map(|s| ExplainedStep {
            from: txn_name(s.from),
            to: txn_name(s.to),
            kind: s.kind,
            derived: s.derived,
            because: format!(
                "{} < {}: {}",
                txn_name(s.from),
                txn_name(s.to),
                because(txns, writes, explainer, s)
            ),
        })
        .collect();
    let names: Vec<String> = cycle.iter().map(|s| txn_name(s.from)).collect();
    let summary = format!(
        "{}: {} — {} form a cycle, so no order of them explains what each saw",
        kind,
        kind.meaning(),
        names.join(", ")
    );
    Finding {
        kind,
        summary,
        transactions: cycle.iter().map(|s| txn_ref(txns, s.from)).collect(),
        steps,
    }
}

/// Why one step holds.
fn because(txns: &Txns, writes: &WriteIndex, explainer: &Explainer, step: &Step) -> String {
    let (a, b) = (step.from, step.to);
    match step.kind {
        StepKind::Process => format!(
            "{} and {} ran on process {}, {} first",
            txn_name(a),
            txn_name(b),
            txns.txns[a as usize].process,
            txn_name(a)
        ),
        StepKind::Realtime => format!(
            "{} completed (line {}) before {} was invoked (line {})",
            txn_name(a),
            txns.txns[a as usize].complete_line,
            txn_name(b),
            txns.txns[b as usize].invoke_line
        ),
        data => match explainer {
            Explainer::ListAppend(orders) => list_append_because(txns, writes, orders, a, b, data),
            Explainer::RwRegister(versions) => {
                versions.because(txns, writes, a, b, data, step.derived)
            }
        },
    }
}

fn list_append_because(
    txns: &Txns,
    writes: &WriteIndex,
    orders: &[Vec<u32>],
    a: u32,
    b: u32,
    data: StepKind,
) -> String {
    use crate::list_append::{external_reads, INIT};
    use crate::txns::MopKind;
    let writer_of = |key: u32, e: u32| writes.writer(key, e).map(|(w, _)| w);
    // The element before `e` in the order of `key` (INIT for the first), as the inference saw it.
    let prev = |key: u32, e: u32| -> u32 {
        let order = &orders[key as usize];
        match order.iter().position(|&x| x == e) {
            Some(0) => INIT,
            Some(p) => order[p - 1],
            None => order.last().copied().unwrap_or(INIT),
        }
    };
    let observed = |key: u32, e: u32| orders[key as usize].contains(&e);
    match data {
        StepKind::Ww => {
            for m in txns.mops_of(b) {
                if m.kind != MopKind::Append {
                    continue;
                }
                let p = prev(m.key, m.value);
                if p != INIT && writer_of(m.key, p) == Some(a) {
                    let how = if observed(m.key, m.value) {
                        "right after it"
                    } else {
                        "after it (no read saw that append, so it follows every element read)"
                    };
                    return format!(
                        "{} appended {} to key {} and {} appended {} {}",
                        txn_name(a),
                        explain::value(txns, p),
                        explain::key(txns, m.key),
                        txn_name(b),
                        explain::value(txns, m.value),
                        how
                    );
                }
            }
        }
        StepKind::Wr => {
            let mut text = None;
            external_reads(txns, b, |key, _, span| {
                let list = txns.list(span);
                if text.is_none() {
                    if let Some(&last) = list.last() {
                        if writer_of(key, last) == Some(a) {
                            text = Some(format!(
                                "{} appended {} to key {} and {} read {}",
                                txn_name(a),
                                explain::value(txns, last),
                                explain::key(txns, key),
                                txn_name(b),
                                explain::list(txns, list)
                            ));
                        }
                    }
                }
            });
            if let Some(text) = text {
                return text;
            }
        }
        StepKind::Rw => {
            let mut text = None;
            external_reads(txns, a, |key, _, span| {
                if text.is_some() {
                    return;
                }
                let list = txns.list(span);
                let version = list.last().copied().unwrap_or(INIT);
                for m in txns.mops_of(b) {
                    if m.kind == MopKind::Append && m.key == key && prev(key, m.value) == version {
                        let seen = if list.is_empty() {
                            "[] (empty)".to_string()
                        } else {
                            explain::list(txns, list)
                        };
                        text = Some(format!(
                            "{} read key {} as {}, without {}'s append of {}, the next element",
                            txn_name(a),
                            explain::key(txns, key),
                            seen,
                            txn_name(b),
                            explain::value(txns, m.value)
                        ));
                        return;
                    }
                }
            });
            if let Some(text) = text {
                return text;
            }
        }
        _ => {}
    }
    format!("{} dependency", data.name())
}
