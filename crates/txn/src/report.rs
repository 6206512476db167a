//! What a check found, in a form both people and programs read (`--json` serialises
//! [`Report`]).

use std::collections::BTreeMap;

use serde::Serialize;

use photofinish_history::Outcome;

use crate::anomaly::AnomalyKind;
use crate::consistency::ConsistencyModel;
use crate::cycles::StepKind;

/// The answer to "could a system keeping the promised model have produced this history?".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Yes: no anomaly the model forbids.
    Valid,
    /// No: the report names the anomalies and explains them.
    Invalid,
    /// Nothing was decided (nothing committed, or the check stopped at its time limit).
    Unknown,
}

impl Verdict {
    /// The process exit code: 0 valid, 1 anomaly found, 3 undecided.
    pub fn exit_code(self) -> i32 {
        match self {
            Verdict::Valid => 0,
            Verdict::Invalid => 1,
            Verdict::Unknown => 3,
        }
    }
}

/// A transaction as a report shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TxnRef {
    /// `T` and its position among the history's transactions, from 1.
    pub name: String,
    /// `None` when the history named no processes.
    pub process: Option<i64>,
    pub outcome: Outcome,
    pub invoke_line: usize,
    /// Line of the completion, if it completed.
    pub complete_line: Option<usize>,
    /// Its micro-operations with what the reads returned, e.g. `[append 5 3] [r 7 [1 2]]`;
    /// escaped and clipped.
    pub text: String,
}

impl TxnRef {
    /// `T3 (lines 5-6)`.
    pub fn label(&self) -> String {
        match self.complete_line {
            Some(end) if end != self.invoke_line => {
                format!("{} (lines {}-{})", self.name, self.invoke_line, end)
            }
            _ => format!("{} (line {})", self.name, self.invoke_line),
        }
    }
}

/// One step of a cycle, with why it holds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ExplainedStep {
    pub from: String,
    pub to: String,
    #[serde(rename = "type")]
    pub kind: StepKind,
    /// Known only from real-time order (rw-register under strict serializability).
    pub derived: bool,
    /// The sentence a person reads: `T1 < T2: T1 appended 3 to key 5 and T2 read [1 3]`.
    pub because: String,
}

/// One anomaly found.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    #[serde(rename = "type")]
    pub kind: AnomalyKind,
    /// What happened, in a sentence or two.
    pub summary: String,
    /// The transactions involved; for a cycle, in cycle order.
    pub transactions: Vec<TxnRef>,
    /// For a cycle: its steps, the last leading back to the first transaction.
    pub steps: Vec<ExplainedStep>,
}

/// The result of checking a history.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// `list-append`, `rw-register`, `bank`, `long-fork` or `set-full`.
    pub workload: String,
    pub verdict: Verdict,
    /// The model checked (list-append and rw-register).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consistency_model: Option<ConsistencyModel>,
    /// The models the anomalies found rule out, weakest first.
    pub ruled_out: Vec<ConsistencyModel>,
    /// The kinds of anomaly found, sorted.
    pub anomaly_types: Vec<AnomalyKind>,
    /// How many of each kind were found (the first hundred of each are listed).
    pub anomaly_counts: BTreeMap<String, usize>,
    /// The anomalies found (cycles: one per strongly connected component and kind), at most a
    /// hundred of each kind.
    pub anomalies: Vec<Finding>,
    /// Operations checked, committed (ok), failed, and indeterminate (info or never completed).
    pub operations: usize,
    pub committed: usize,
    pub failed: usize,
    pub indeterminate: usize,
    /// Assumptions the check made and limits it hit, for the reader to weigh.
    pub notes: Vec<String>,
    pub elapsed_ms: f64,
}

impl Report {
    /// The anomalies of one kind.
    pub fn of_kind(&self, kind: AnomalyKind) -> impl Iterator<Item = &Finding> {
        self.anomalies.iter().filter(move |f| f.kind == kind)
    }

    /// Whether an anomaly of this kind was found.
    pub fn has(&self, kind: AnomalyKind) -> bool {
        self.anomaly_types.contains(&kind)
    }
}
