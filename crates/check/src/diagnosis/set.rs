//! Set findings: reads that miss acknowledged elements, and reads with elements nothing added.
//!
//! Elements are never removed. So a read must contain every element of the initial set and
//! every element whose add completed `ok` before the read began; and it can contain only
//! elements of the initial set or of adds that did not fail and began before it returned.

use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap};

use photofinish_history::{Operation, Outcome, Value};

use crate::model::{Model, Prepared};
use crate::models::{Set, SetOp};

use super::{finish, line, listing, may_apply, ok_at, show, Diagnosis, DiagnosisKind, Finding};

/// The findings of a grow-only `set`.
pub(crate) fn diagnose(model: &Set, ops: &[&Operation]) -> Vec<Diagnosis> {
    let init = &model.init;
    let mut adds: Vec<&Operation> = Vec::new();
    let mut reads: Vec<(&Operation, BTreeSet<Value>)> = Vec::new();
    for &op in ops {
        match model.prepare(op) {
            Ok(Prepared::Op {
                op: SetOp::Add(_), ..
            }) if may_apply(op) => adds.push(op),
            Ok(Prepared::Op {
                op: SetOp::Read(seen),
                ..
            }) if op.outcome == Outcome::Ok => {
                reads.push((op, seen));
            }
            Ok(_) => {}
            Err(_) => return Vec::new(),
        }
    }
    let mut lost = missing(init, &adds, &reads);
    lost.sort_by_key(|(n, f)| (Reverse(*n), f.at));
    let mut phantom = phantoms(init, &adds, &reads);
    phantom.sort_by_key(|(n, f)| (Reverse(*n), f.at));
    finish(lost.into_iter().chain(phantom).map(|(_, f)| f).collect())
}

/// Per read, the initial elements and the acknowledged ones it misses, with how many.
fn missing(
    init: &BTreeSet<Value>,
    adds: &[&Operation],
    reads: &[(&Operation, BTreeSet<Value>)],
) -> Vec<(usize, Finding)> {
    let mut acknowledged: Vec<&Operation> = adds
        .iter()
        .copied()
        .filter(|op| ok_at(op).is_some())
        .collect();
    acknowledged.sort_by_key(|op| op.completed_at);
    let mut by_start: Vec<&(&Operation, BTreeSet<Value>)> = reads.iter().collect();
    by_start.sort_by_key(|(op, _)| op.invoked_at);
    // Each element's first acknowledged add, among those completed so far.
    let mut first_ack: HashMap<&Value, &Operation> = HashMap::new();
    let mut next = 0;
    let mut findings = Vec::new();
    for (read, seen) in by_start {
        while let Some(&add) = acknowledged.get(next) {
            if add.completed_at >= Some(read.invoked_at) {
                break;
            }
            first_ack.entry(&add.value).or_insert(add);
            next += 1;
        }
        let mut gone: Vec<(&Value, &Operation)> = first_ack
            .iter()
            .filter(|(v, _)| !seen.contains(*v) && !init.contains(*v))
            .map(|(v, op)| (*v, *op))
            .collect();
        gone.sort_by(|a, b| a.0.cmp(b.0));
        let initial: Vec<&Value> = init.iter().filter(|v| !seen.contains(v)).collect();
        if gone.is_empty() && initial.is_empty() {
            continue;
        }
        let shown =
            |values: &[&Value]| listing(&values.iter().map(|v| show(v)).collect::<Vec<_>>());
        let elements = |n: usize| if n == 1 { "element" } else { "elements" };
        let mut what = Vec::new();
        if !gone.is_empty() {
            let values: Vec<&Value> = gone.iter().map(|(v, _)| *v).collect();
            let verb = if gone.len() == 1 { "was" } else { "were" };
            what.push(format!(
                "{} {} that {verb} acknowledged before it began",
                elements(gone.len()),
                shown(&values)
            ));
        }
        if !initial.is_empty() {
            what.push(format!(
                "{} {} of the initial set",
                elements(initial.len()),
                shown(&initial)
            ));
        }
        let named: Vec<&Operation> = std::iter::once(*read)
            .chain(gone.iter().take(8).map(|(_, op)| *op))
            .collect();
        findings.push((
            gone.len() + initial.len(),
            Finding::new(
                DiagnosisKind::LostElement,
                format!("read on line {} misses {}", line(read), what.join(", and ")),
                line(read),
                "reads that miss elements",
                &named,
                &[],
            ),
        ));
    }
    findings
}

/// Per read, the elements no add could have put there by the time it returned.
fn phantoms(
    init: &BTreeSet<Value>,
    adds: &[&Operation],
    reads: &[(&Operation, BTreeSet<Value>)],
) -> Vec<(usize, Finding)> {
    // Each element's first add that did not fail.
    let mut first_add: HashMap<&Value, &Operation> = HashMap::new();
    for &add in adds {
        let entry = first_add.entry(&add.value).or_insert(add);
        if add.invoked_at < entry.invoked_at {
            *entry = add;
        }
    }
    let mut findings = Vec::new();
    for (read, seen) in reads {
        let Some(returned) = read.completed_at else {
            continue;
        };
        let extra: Vec<&Value> = seen
            .iter()
            .filter(|v| !init.contains(*v))
            .filter(|v| first_add.get(v).is_none_or(|add| add.invoked_at > returned))
            .collect();
        if extra.is_empty() {
            continue;
        }
        let shown: Vec<String> = extra.iter().map(|v| show(v)).collect();
        let noun = if extra.len() == 1 {
            "element"
        } else {
            "elements"
        };
        let late: Vec<&Operation> = extra
            .iter()
            .take(8)
            .filter_map(|v| first_add.get(v).copied())
            .collect();
        let named: Vec<&Operation> = std::iter::once(*read).chain(late).collect();
        findings.push((
            extra.len(),
            Finding::new(
                DiagnosisKind::PhantomElement,
                format!(
                    "read on line {} contains {noun} {} that no add begun before it returned \
                     could have put there",
                    line(read),
                    listing(&shown)
                ),
                line(read),
                "reads with elements nothing added",
                &named,
                &[],
            ),
        ));
    }
    findings
}
