//! Words for transactions, values and findings: how reports show what happened.

use std::collections::BTreeMap;

use crate::anomaly::AnomalyKind;
use crate::render::clip;
use crate::report::{Finding, TxnRef};
use crate::txns::{Mop, MopKind, Txns, NIL, UNKNOWN};

/// Longest value shown whole, in characters.
const VALUE_CHARS: usize = 40;
/// List reads longer than this show their start and end only.
const LIST_SHOWN: usize = 10;
/// Findings kept per kind; the rest are counted.
pub const KEPT_PER_KIND: usize = 100;

/// The name of transaction `t`: `T` and its position in the history, from 1.
pub fn txn_name(t: u32) -> String {
    format!("T{}", t + 1)
}

/// A value as the report shows it: JSON text, escaped, clipped.
pub fn value(txns: &Txns, id: u32) -> String {
    clip(&txns.value(id).to_json_string(), VALUE_CHARS)
}

pub fn key(txns: &Txns, id: u32) -> String {
    clip(&txns.key(id).to_json_string(), VALUE_CHARS)
}

/// A list of element ids as `[1 2 3]`, long lists cut in the middle (the end names the
/// version, so it stays).
pub fn list(txns: &Txns, elements: &[u32]) -> String {
    let text = |ids: &[u32]| ids.iter().map(|&e| value(txns, e)).collect::<Vec<_>>();
    if elements.len() <= LIST_SHOWN {
        return format!("[{}]", text(elements).join(" "));
    }
    let head = text(&elements[..2]);
    let tail = text(&elements[elements.len() - 6..]);
    format!(
        "[{} ... {}] ({} elements)",
        head.join(" "),
        tail.join(" "),
        elements.len()
    )
}

/// What a read micro-operation returned, as text.
pub fn read_value(txns: &Txns, mop: &Mop) -> String {
    match mop.value {
        UNKNOWN => "?".to_string(),
        NIL => "nil".to_string(),
        v => match txns.workload {
            crate::txns::Workload::ListAppend => list(txns, txns.list(v)),
            crate::txns::Workload::RwRegister => value(txns, v),
        },
    }
}

/// A micro-operation as `[append 5 3]` or `[r 7 [1 2]]`.
pub fn mop(txns: &Txns, m: &Mop) -> String {
    let v = match m.kind {
        MopKind::Read => read_value(txns, m),
        _ => value(txns, m.value),
    };
    format!("[{} {} {}]", m.kind.short(), key(txns, m.key), v)
}

/// A transaction as the report shows it.
pub fn txn_ref(txns: &Txns, t: u32) -> TxnRef {
    let txn = &txns.txns[t as usize];
    let mops: Vec<String> = txns.mops_of(t).iter().map(|m| mop(txns, m)).collect();
    TxnRef {
        name: txn_name(t),
        process: (!txns.anonymous_processes).then_some(txn.process),
        outcome: txn.outcome,
        invoke_line: txn.invoke_line as usize,
        complete_line: (txn.complete_line != 0).then_some(txn.complete_line as usize),
        text: clip(&mops.join(" "), 400),
    }
}

/// Findings as they are found, at most [`KEPT_PER_KIND`] of each kind kept.
#[derive(Debug, Default)]
pub struct Findings {
    pub kept: Vec<Finding>,
    pub counts: BTreeMap<AnomalyKind, usize>,
}

impl Findings {
    /// Counts a finding of `kind`; `make` builds it only when it is kept.
    pub fn add(&mut self, kind: AnomalyKind, make: impl FnOnce() -> Finding) {
        let count = self.counts.entry(kind).or_insert(0);
        *count += 1;
        if *count <= KEPT_PER_KIND {
            self.kept.push(make());
        }
    }

    /// Notes on findings counted but not kept.
    pub fn overflow_notes(&self) -> Vec<String> {
        self.counts
            .iter()
            .filter(|(_, &n)| n > KEPT_PER_KIND)
            .map(|(k, n)| format!("{n} {k} anomalies found; the first {KEPT_PER_KIND} are listed"))
            .collect()
    }
}

/// A plain operation (bank, set-full) as the report shows it: `f`, what it was given and what
/// it returned.
pub fn op_ref(op: &photofinish_history::Operation) -> TxnRef {
    let value = if op.result.is_null() {
        &op.value
    } else {
        &op.result
    };
    TxnRef {
        name: format!("op {}", op.id + 1),
        process: Some(op.process),
        outcome: op.outcome,
        invoke_line: op.invoke_line,
        complete_line: op.complete_line,
        text: clip(&format!("{} {}", op.f, value.to_json_string()), 400),
    }
}

/// Counts of operations by outcome: committed (ok), failed, indeterminate.
pub fn outcome_counts<'a>(
    outcomes: impl IntoIterator<Item = &'a photofinish_history::Outcome>,
) -> (usize, usize, usize) {
    use photofinish_history::Outcome;
    let mut counts = (0, 0, 0);
    for o in outcomes {
        match o {
            Outcome::Ok => counts.0 += 1,
            Outcome::Fail => counts.1 += 1,
            _ => counts.2 += 1,
        }
    }
    counts
}
