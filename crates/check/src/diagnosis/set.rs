//! Set findings: reads that miss acknowledged elements, and reads with elements nothing added.
//!
//! Elements are never removed. So a read must contain every element of the initial set, every
//! element whose add completed `ok` before the read began, and every element a read that
//! completed before it began returned; and it can contain only elements of the initial set or
//! of adds that did not fail and began before it returned.

use std::cmp::Reverse;
use std::collections::hash_map::Entry;
use std::collections::BTreeSet;

use rustc_hash::FxHashMap;

use photofinish_history::{Operation, Outcome, Value};

use crate::model::{Model, Prepared};
use crate::models::{Set, SetOp};

use super::{
    finish, line, lines, listing, may_apply, ok_at, show, Diagnosis, DiagnosisKind, Finding,
    MAX_LISTED,
};

/// The findings of a grow-only `set`.
pub(crate) fn diagnose(model: &Set, ops: &[&Operation]) -> Vec<Diagnosis> {
    let init = &model.init;
    let mut adds: Vec<&Operation> = Vec::new();
    let mut reads: Vec<(&Operation, Vec<Value>)> = Vec::new();
    for &op in ops {
        match model.prepare(op) {
            Ok(Prepared::Op {
                op: SetOp::Add(_), ..
            }) if may_apply(op) => adds.push(op),
            Ok(Prepared::Op {
                op: SetOp::Read(seen),
                ..
            }) if op.outcome == Outcome::Ok => {
                // Sorted values: the findings name elements and look them up by value.
                reads.push((op, seen.to_values().into_owned()));
            }
            Ok(_) => {}
            Err(_) => return Vec::new(),
        }
    }
    let acknowledged = Acknowledged::new(init, &adds);
    let (mut lost, flagged) = missing(init, &acknowledged, &reads);
    lost.sort_by_key(|(n, f)| (Reverse(*n), f.at));
    let mut phantom = phantoms(init, &adds, &reads);
    phantom.sort_by_key(|(n, f)| (Reverse(*n), f.at));
    // What earlier reads returned is looked for only when nothing simpler explains the failure:
    // it walks every read again, which on a long history costs as much as the rest.
    let first_seen;
    let mut stale = Vec::new();
    if lost.is_empty() && phantom.is_empty() {
        first_seen = FirstSeen::new(&reads);
        stale = unseen(&first_seen, &reads, &flagged);
        stale.sort_by_key(|(n, f)| (Reverse(*n), f.at));
    }
    finish(
        lost.into_iter()
            .chain(stale)
            .chain(phantom)
            .map(|(_, f)| f)
            .collect(),
    )
}

/// Each element's first read: the read that completed first with the element in its result.
struct FirstSeen<'a> {
    /// By completion.
    reads: Vec<(&'a Value, &'a Operation)>,
    /// When each element's first read completed.
    at: FxHashMap<&'a Value, u64>,
}

impl<'a> FirstSeen<'a> {
    fn new(reads: &'a [(&'a Operation, Vec<Value>)]) -> FirstSeen<'a> {
        let mut by_completion: Vec<&(&Operation, Vec<Value>)> = reads.iter().collect();
        by_completion.sort_by_key(|(read, _)| read.completed_at);
        let mut first = FirstSeen {
            reads: Vec::new(),
            at: FxHashMap::default(),
        };
        for (read, seen) in by_completion {
            let Some(done) = read.completed_at else {
                continue;
            };
            for v in seen.iter() {
                if let Entry::Vacant(slot) = first.at.entry(v) {
                    slot.insert(done);
                    first.reads.push((v, read));
                }
            }
        }
        first
    }

    /// How many elements a read had returned before event `at`.
    fn before(&self, at: u64) -> usize {
        self.reads
            .partition_point(|(_, op)| op.completed_at < Some(at))
    }
}

/// Per read that misses no acknowledged or initial element (`flagged` marks those that do):
/// how many elements it misses that reads which completed before it began returned.
fn unseen<'a>(
    first_seen: &'a FirstSeen<'a>,
    reads: &'a [(&'a Operation, Vec<Value>)],
    flagged: &[bool],
) -> Vec<(usize, Finding<'a>)> {
    let mut findings = Vec::new();
    for ((read, seen), &flagged) in reads.iter().zip(flagged) {
        if flagged {
            continue;
        }
        let began = read.invoked_at;
        let present = seen
            .iter()
            .filter(|v| first_seen.at.get(v).is_some_and(|&done| done < began))
            .count();
        let gone = first_seen.before(began) - present;
        if gone == 0 {
            continue;
        }
        findings.push((
            gone,
            Finding::later(
                DiagnosisKind::StaleRead,
                line(read),
                "reads that miss what earlier reads returned",
                move || stale_elements(first_seen, read, seen),
            ),
        ));
    }
    findings
}

/// What a read misses of what earlier reads returned, in words, and the lines of the reads.
fn stale_elements(
    first_seen: &FirstSeen,
    read: &Operation,
    seen: &[Value],
) -> (String, Vec<usize>) {
    let gone: Vec<(&Value, &Operation)> = first_seen.reads[..first_seen.before(read.invoked_at)]
        .iter()
        .filter(|(v, _)| seen.binary_search(v).is_err())
        .copied()
        .collect();
    let mut values: Vec<&Value> = gone.iter().map(|(v, _)| *v).collect();
    values.sort();
    let mut earlier: Vec<&Operation> = gone.iter().map(|(_, op)| *op).collect();
    earlier.sort_by_key(|op| op.completed_at);
    earlier.dedup_by_key(|op| op.id);
    let elements = if values.len() == 1 {
        "element"
    } else {
        "elements"
    };
    let shown = listing(&values.iter().map(|v| show(v)).collect::<Vec<_>>());
    let by = match earlier.as_slice() {
        [one] => format!("the read on line {} returned", line(one)),
        [first, ..] => format!("reads returned (the read on line {} first)", line(first)),
        [] => "earlier reads returned".to_string(),
    };
    let named: Vec<&Operation> = std::iter::once(read)
        .chain(earlier.iter().take(MAX_LISTED).copied())
        .collect();
    (
        format!(
            "read on line {} misses {elements} {shown} that {by} before it began",
            line(read)
        ),
        lines(&named, &[]),
    )
}

/// Each element's first acknowledged add (elements of the initial set aside).
struct Acknowledged<'a> {
    /// By completion.
    adds: Vec<(&'a Value, &'a Operation)>,
    /// When each element's first acknowledged add completed.
    at: FxHashMap<&'a Value, u64>,
}

impl<'a> Acknowledged<'a> {
    fn new(init: &BTreeSet<Value>, adds: &[&'a Operation]) -> Acknowledged<'a> {
        let mut first: FxHashMap<&Value, &Operation> = FxHashMap::default();
        for &add in adds {
            if ok_at(add).is_none() || init.contains(&add.value) {
                continue;
            }
            let entry = first.entry(&add.value).or_insert(add);
            if entry.completed_at > add.completed_at {
                *entry = add;
            }
        }
        let mut adds: Vec<(&Value, &Operation)> = first.into_iter().collect();
        adds.sort_by_key(|(_, op)| op.completed_at);
        let at = adds
            .iter()
            .filter_map(|(v, op)| Some((*v, op.completed_at?)))
            .collect();
        Acknowledged { adds, at }
    }

    /// How many elements were acknowledged before event `at`.
    fn before(&self, at: u64) -> usize {
        self.adds
            .partition_point(|(_, op)| op.completed_at < Some(at))
    }
}

/// Per read, how many initial and acknowledged elements it misses, and which reads miss any.
/// Counting costs no more than going through the read's own elements; only the reads shown
/// list what they miss.
type Missing<'a> = (Vec<(usize, Finding<'a>)>, Vec<bool>);

fn missing<'a>(
    init: &'a BTreeSet<Value>,
    acknowledged: &'a Acknowledged<'a>,
    reads: &'a [(&'a Operation, Vec<Value>)],
) -> Missing<'a> {
    let mut findings = Vec::new();
    let mut flagged = vec![false; reads.len()];
    for (i, (read, seen)) in reads.iter().enumerate() {
        let began = read.invoked_at;
        let present = seen
            .iter()
            .filter(|v| acknowledged.at.get(v).is_some_and(|&done| done < began))
            .count();
        let gone = acknowledged.before(began) - present;
        let initial = init
            .iter()
            .filter(|v| seen.binary_search(v).is_err())
            .count();
        if gone + initial == 0 {
            continue;
        }
        flagged[i] = true;
        findings.push((
            gone + initial,
            Finding::later(
                DiagnosisKind::LostElement,
                line(read),
                "reads that miss elements",
                move || lost_elements(init, acknowledged, read, seen),
            ),
        ));
    }
    (findings, flagged)
}

/// What a read misses, in words, and the lines of the read and the adds named.
fn lost_elements(
    init: &BTreeSet<Value>,
    acknowledged: &Acknowledged,
    read: &Operation,
    seen: &[Value],
) -> (String, Vec<usize>) {
    let mut gone: Vec<(&Value, &Operation)> = acknowledged.adds
        [..acknowledged.before(read.invoked_at)]
        .iter()
        .filter(|(v, _)| seen.binary_search(v).is_err())
        .copied()
        .collect();
    gone.sort_by(|a, b| a.0.cmp(b.0));
    let initial: Vec<&Value> = init
        .iter()
        .filter(|v| seen.binary_search(v).is_err())
        .collect();
    let shown = |values: &[&Value]| listing(&values.iter().map(|v| show(v)).collect::<Vec<_>>());
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
    let named: Vec<&Operation> = std::iter::once(read)
        .chain(gone.iter().take(MAX_LISTED).map(|(_, op)| *op))
        .collect();
    (
        format!("read on line {} misses {}", line(read), what.join(", and ")),
        lines(&named, &[]),
    )
}

/// Per read, the elements no add could have put there by the time it returned.
fn phantoms(
    init: &BTreeSet<Value>,
    adds: &[&Operation],
    reads: &[(&Operation, Vec<Value>)],
) -> Vec<(usize, Finding<'static>)> {
    // Each element's first add that did not fail.
    let mut first_add: FxHashMap<&Value, &Operation> = FxHashMap::default();
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
            .take(MAX_LISTED)
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

#[cfg(test)]
mod tests {
    use super::super::tests::{diagnose, event, messages, ok};
    use super::*;

    fn set(init: &str) -> Set {
        Set::new(&Value::from_json_str(init).unwrap()).unwrap()
    }

    fn add(process: i64, element: &str) -> String {
        ok(process, "add", element, element)
    }

    fn read(process: i64, seen: &str) -> String {
        ok(process, "read", "null", seen)
    }

    #[test]
    fn a_read_that_misses_acknowledged_elements() {
        // 9's add is still open when the read begins: it may land after the read.
        let text = [
            add(0, "7"),
            add(0, "2"),
            add(0, "4"),
            event("invoke", 2, "add", "9"),
            read(1, "[]"),
            event("ok", 2, "add", "9"),
        ]
        .concat();
        let diagnosis = diagnose(&set("[]"), &text);
        assert_eq!(
            messages(&diagnosis),
            ["read on line 9 misses elements 2, 4, 7 that were acknowledged before it began"]
        );
        assert_eq!(diagnosis[0].kind, DiagnosisKind::LostElement);
        assert_eq!(diagnosis[0].lines, vec![1, 2, 3, 4, 5, 6, 8, 9]);
    }

    #[test]
    fn a_read_that_misses_what_an_earlier_read_returned() {
        // The add never completed: only the first read says it took effect.
        let text = [
            event("invoke", 0, "add", "1"),
            read(1, "[1]"),
            read(2, "[]"),
        ]
        .concat();
        let diagnosis = diagnose(&set("[]"), &text);
        assert_eq!(
            messages(&diagnosis),
            ["read on line 5 misses element 1 that the read on line 3 returned before it began"]
        );
        assert_eq!(diagnosis[0].kind, DiagnosisKind::StaleRead);
        assert_eq!(diagnosis[0].lines, vec![2, 3, 4, 5]);
        // Concurrent reads may see it in either order.
        let text = [
            event("invoke", 0, "add", "1"),
            event("invoke", 1, "read", "null"),
            read(2, "[]"),
            event("ok", 1, "read", "[1]"),
        ]
        .concat();
        assert!(diagnose(&set("[]"), &text).is_empty());
    }

    #[test]
    fn indeterminate_adds_need_not_show() {
        let text = [
            event("invoke", 0, "add", "1"),
            event("info", 0, "add", "1"),
            event("invoke", 2, "add", "2"),
            read(1, "[]"),
        ]
        .concat();
        assert!(diagnose(&set("[]"), &text).is_empty());
    }

    #[test]
    fn elements_nothing_added() {
        let text = [
            event("invoke", 0, "add", "1"),
            event("fail", 0, "add", "1"),
            read(1, "[1,3,5]"),
            add(0, "5"),
        ]
        .concat();
        let diagnosis = diagnose(&set("[]"), &text);
        assert_eq!(
            messages(&diagnosis),
            [
                "read on line 4 contains elements 1, 3, 5 that no add begun before it returned \
              could have put there"
            ]
        );
        assert_eq!(diagnosis[0].kind, DiagnosisKind::PhantomElement);
        assert_eq!(diagnosis[0].lines, vec![3, 4, 5, 6]);
    }

    #[test]
    fn initial_elements_must_stay() {
        let text = [add(0, "2"), read(1, "[]")].concat();
        assert_eq!(
            messages(&diagnose(&set("[1]"), &text)),
            [
                "read on line 4 misses element 2 that was acknowledged before it began, and \
              element 1 of the initial set"
            ]
        );
        assert!(diagnose(&set("[1]"), &read(1, "[1]")).is_empty());
    }

    #[test]
    fn long_lists_are_clipped_and_the_worst_read_comes_first() {
        let adds: String = (0..20).map(|i| add(0, &i.to_string())).collect();
        let text = adds + &read(1, "[19]") + &read(1, "[]");
        let diagnosis = diagnose(&set("[]"), &text);
        assert_eq!(
            messages(&diagnosis),
            [
                "read on line 44 misses elements 0, 1, 2, 3, 4, 5, 6, 7 and 12 more that were \
                 acknowledged before it began",
                "read on line 42 misses elements 0, 1, 2, 3, 4, 5, 6, 7 and 11 more that were \
                 acknowledged before it began",
            ]
        );
    }
}
