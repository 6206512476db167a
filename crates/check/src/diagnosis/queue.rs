//! Queue findings: lost, phantom, duplicated and reordered elements.
//!
//! - Lost: a dequeue that found the queue empty, while more elements surely went in before it
//!   began (initial ones, `ok` enqueues completed by then) than can have come out before it
//!   returned (dequeues that returned an element, or are indeterminate, begun by then).
//! - Phantom: a dequeue returned an element that was not there at the start and that no
//!   enqueue (not failed) had begun to add by the time it returned.
//! - Duplicated: an element returned by more `ok` dequeues than there were copies of it (at the
//!   start, or enqueues that did not fail).
//! - Reordered: of two elements each enqueued once and returned by one `ok` dequeue, the one
//!   whose enqueue completed before the other's began was dequeued after the other's dequeue
//!   completed. No indeterminate dequeue can have taken the first: its own dequeue returned it.

use std::cmp::Reverse;
use std::collections::{HashMap, HashSet, VecDeque};

use photofinish_history::{Operation, Value};

use crate::model::{Model, Prepared};
use crate::models::{Queue as QueueModel, QueueOp};

use super::{
    count, finish, line, lines, listing, may_apply, ok_at, precedes, show, Diagnosis,
    DiagnosisKind, Finding, MAX_LISTED,
};

/// The findings of a FIFO `queue`.
pub(crate) fn diagnose(model: &QueueModel, ops: &[&Operation]) -> Vec<Diagnosis> {
    let Some(queue) = Queue::new(model, ops) else {
        return Vec::new();
    };
    let mut findings = queue.lost();
    findings.extend(queue.phantoms());
    findings.extend(queue.duplicates());
    findings.extend(queue.reordered());
    finish(findings)
}

struct Queue<'a> {
    init: &'a VecDeque<Value>,
    /// Enqueues that did not fail.
    enqueues: Vec<&'a Operation>,
    /// `ok` dequeues that returned an element.
    dequeued: Vec<&'a Operation>,
    /// `ok` dequeues that found the queue empty.
    empty: Vec<&'a Operation>,
    /// Dequeues that may have removed an element, whatever it was.
    indeterminate: Vec<&'a Operation>,
}

impl<'a> Queue<'a> {
    /// `None` if the model rejects an operation.
    fn new(model: &'a QueueModel, ops: &[&'a Operation]) -> Option<Queue<'a>> {
        let mut queue = Queue {
            init: &model.init,
            enqueues: Vec::new(),
            dequeued: Vec::new(),
            empty: Vec::new(),
            indeterminate: Vec::new(),
        };
        for &op in ops {
            let Prepared::Op { op: prepared, .. } = model.prepare(op).ok()? else {
                continue;
            };
            if !may_apply(op) {
                continue;
            }
            match prepared {
                QueueOp::Enqueue(_) | QueueOp::EnqueueAnonymous => queue.enqueues.push(op),
                QueueOp::Dequeue(Some(Value::Null)) => queue.empty.push(op),
                QueueOp::Dequeue(Some(_)) => queue.dequeued.push(op),
                QueueOp::Dequeue(None) => queue.indeterminate.push(op),
            }
        }
        Some(queue)
    }

    fn copies_at_start(&self, element: &Value) -> usize {
        self.init.iter().filter(|v| *v == element).count()
    }

    /// Dequeues that found the queue empty though elements surely remained.
    fn lost(&self) -> Vec<Finding<'_>> {
        let mut ins: Vec<u64> = self.enqueues.iter().filter_map(|op| ok_at(op)).collect();
        ins.sort_unstable();
        let mut outs: Vec<u64> = self
            .dequeued
            .iter()
            .chain(&self.indeterminate)
            .map(|op| op.invoked_at)
            .collect();
        outs.sort_unstable();
        let mut findings = Vec::new();
        for &empty in &self.empty {
            let Some(done) = ok_at(empty) else { continue };
            let went_in = ins.partition_point(|&at| at < empty.invoked_at);
            let came_out = outs.partition_point(|&at| at < done);
            let surely_in = self.init.len() + went_in;
            if surely_in <= came_out {
                continue;
            }
            let loss = surely_in - came_out;
            findings.push((
                loss,
                Finding::later(
                    DiagnosisKind::LostElement,
                    line(empty),
                    "dequeues that found the queue empty too soon",
                    move || self.lost_details(empty, went_in, came_out, loss),
                ),
            ));
        }
        findings.sort_by_key(|(loss, f)| (Reverse(*loss), f.at));
        findings.into_iter().map(|(_, f)| f).collect()
    }

    /// The words for a dequeue that found the queue empty with `loss` elements surely in it.
    fn lost_details(
        &self,
        empty: &Operation,
        went_in: usize,
        came_out: usize,
        loss: usize,
    ) -> (String, Vec<usize>) {
        let returned: HashSet<&Value> = self.dequeued.iter().map(|op| &op.result).collect();
        let mut never_out: Vec<&Operation> = self
            .enqueues
            .iter()
            .copied()
            .filter(|op| precedes(op, empty) && !returned.contains(&op.value))
            .collect();
        never_out.sort_by_key(|op| line(op));
        let went_in_words = match (self.init.len(), went_in) {
            (0, n) => format!(
                "{} completed before it began",
                count(n, "enqueue", "enqueues")
            ),
            (1, 0) => "1 element was there from the start".to_string(),
            (s, 0) => format!("{s} elements were there from the start"),
            (s, n) => format!(
                "{} there from the start and {} completed before it began",
                count(s, "element", "elements"),
                count(n, "enqueue", "enqueues")
            ),
        };
        let came_out_words = match came_out {
            0 => "no element could have been dequeued".to_string(),
            n => format!(
                "at most {} could have been dequeued",
                count(n, "element", "elements")
            ),
        };
        let examples = if never_out.is_empty() {
            String::new()
        } else {
            let values: Vec<String> = never_out.iter().map(|op| show(&op.value)).collect();
            format!(" (no dequeue ever returned {})", listing(&values))
        };
        let named: Vec<&Operation> = std::iter::once(empty)
            .chain(never_out.iter().copied().take(MAX_LISTED))
            .collect();
        (
            format!(
                "dequeue on line {} found the queue empty, but {went_in_words}, and \
                 {came_out_words} by the time it returned: at least {} lost{examples}",
                line(empty),
                count(loss, "element", "elements"),
            ),
            lines(&named, &[]),
        )
    }

    /// Dequeues that returned an element nothing had begun to enqueue.
    fn phantoms(&self) -> Vec<Finding<'static>> {
        let mut first_in: HashMap<&Value, &Operation> = HashMap::new();
        let mut enqueued: HashMap<&Value, Vec<&Operation>> = HashMap::new();
        for &op in &self.enqueues {
            let first = first_in.entry(&op.value).or_insert(op);
            if op.invoked_at < first.invoked_at {
                *first = op;
            }
        }
        for op in &self.enqueues {
            enqueued.entry(&op.value).or_default().push(op);
        }
        let mut findings = Vec::new();
        for &out in &self.dequeued {
            let element = &out.result;
            let Some(done) = ok_at(out) else { continue };
            if self.copies_at_start(element) > 0
                || first_in
                    .get(element)
                    .is_some_and(|first| first.invoked_at < done)
            {
                continue;
            }
            let (why, late) = match first_in.get(element) {
                Some(first) => (
                    format!(
                        "no enqueue of it had begun by then (the first began on line {})",
                        first.invoke_line
                    ),
                    vec![*first],
                ),
                None => (format!("{} was never enqueued", show(element)), Vec::new()),
            };
            findings.push(Finding::new(
                DiagnosisKind::PhantomElement,
                format!(
                    "dequeue on line {} returned {}, but {why}",
                    line(out),
                    show(element)
                ),
                line(out),
                "dequeues of elements nothing enqueued",
                &std::iter::once(out).chain(late).collect::<Vec<_>>(),
                &[],
            ));
        }
        findings.sort_by_key(|f| f.at);
        findings
    }

    /// Elements returned more often than they went in.
    fn duplicates(&self) -> Vec<Finding<'static>> {
        let mut outs: HashMap<&Value, Vec<&Operation>> = HashMap::new();
        for &op in &self.dequeued {
            outs.entry(&op.result).or_default().push(op);
        }
        let mut ins: HashMap<&Value, Vec<&Operation>> = HashMap::new();
        for &op in &self.enqueues {
            ins.entry(&op.value).or_default().push(op);
        }
        let mut findings = Vec::new();
        for (element, mut dequeues) in outs {
            let enqueues = ins.remove(element).unwrap_or_default();
            let copies = enqueues.len() + self.copies_at_start(element);
            if copies == 0 || dequeues.len() <= copies {
                continue;
            }
            dequeues.sort_by_key(|op| line(op));
            let out_lines: Vec<usize> = dequeues.iter().map(|op| line(op)).collect();
            let mut sources: Vec<String> = enqueues
                .iter()
                .map(|op| format!("line {}", op.invoke_line))
                .collect();
            if self.copies_at_start(element) > 0 {
                sources.insert(0, "at the start".to_string());
            }
            let went_in = match copies {
                1 => "once".to_string(),
                2 => "twice".to_string(),
                n => format!("{n} times"),
            };
            let times = match dequeues.len() {
                2 => "twice".to_string(),
                n => format!("{n} times"),
            };
            let named: Vec<&Operation> = dequeues
                .iter()
                .chain(&enqueues)
                .copied()
                .take(2 * MAX_LISTED)
                .collect();
            findings.push((
                dequeues.len() - copies,
                Finding::new(
                    DiagnosisKind::DuplicateDequeue,
                    format!(
                        "{} was dequeued {times} (lines {}) but went in only {went_in} ({})",
                        show(element),
                        listing(&out_lines),
                        listing(&sources)
                    ),
                    out_lines[copies],
                    "elements dequeued too often",
                    &named,
                    &[],
                ),
            ));
        }
        findings.sort_by_key(|(extra, f)| (Reverse(*extra), f.at));
        findings.into_iter().map(|(_, f)| f).collect()
    }

    /// Pairs of elements that came out in another order than they surely went in.
    fn reordered(&self) -> Vec<Finding<'static>> {
        // Elements enqueued once (and not there at the start) and dequeued once, `ok` both.
        let mut ins: HashMap<&Value, Vec<&Operation>> = HashMap::new();
        for &op in &self.enqueues {
            ins.entry(&op.value).or_default().push(op);
        }
        let mut outs: HashMap<&Value, Vec<&Operation>> = HashMap::new();
        for &op in &self.dequeued {
            outs.entry(&op.result).or_default().push(op);
        }
        let mut unique: Vec<(&Operation, &Operation)> = ins
            .iter()
            .filter_map(|(element, enqueues)| {
                match (&enqueues[..], outs.get(element).map(Vec::as_slice)) {
                    ([enqueue], Some([dequeue]))
                        if ok_at(enqueue).is_some() && self.copies_at_start(element) == 0 =>
                    {
                        Some((*enqueue, *dequeue))
                    }
                    _ => None,
                }
            })
            .collect();
        unique.sort_by_key(|(enqueue, _)| enqueue.invoked_at);
        let mut by_enqueued: Vec<(&Operation, &Operation)> = unique.clone();
        by_enqueued.sort_by_key(|(enqueue, _)| enqueue.completed_at);
        let mut earlier = by_enqueued.iter().peekable();
        // Among elements whose enqueue completed so far, the one whose dequeue began last.
        let mut latest_out: Option<(&Operation, &Operation)> = None;
        let mut findings = Vec::new();
        for &(enqueue, dequeue) in &unique {
            while let Some(&(first_in, first_out)) =
                earlier.next_if(|(e, _)| e.completed_at < Some(enqueue.invoked_at))
            {
                if latest_out.is_none_or(|(_, out)| out.invoked_at < first_out.invoked_at) {
                    latest_out = Some((first_in, first_out));
                }
            }
            let Some((first_in, first_out)) = latest_out else {
                continue;
            };
            if !precedes(dequeue, first_out) {
                continue;
            }
            let (a, b) = (show(&first_in.value), show(&enqueue.value));
            findings.push(Finding::new(
                DiagnosisKind::Reordered,
                format!(
                    "{a} and {b} left the queue in the wrong order: {a} was enqueued (line {}) \
                     before the enqueue of {b} began, but {b} was dequeued (line {}) before the \
                     dequeue of {a} began (line {})",
                    line(first_in),
                    line(dequeue),
                    first_out.invoke_line
                ),
                line(dequeue),
                "pairs out of order",
                &[first_in, enqueue, dequeue, first_out],
                &[],
            ));
        }
        findings.sort_by_key(|f| f.at);
        findings
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{diagnose, event, messages, ok};
    use super::*;

    fn queue(init: &str) -> QueueModel {
        QueueModel::new(&Value::from_json_str(init).unwrap()).unwrap()
    }

    fn enqueue(process: i64, element: &str) -> String {
        ok(process, "enqueue", element, element)
    }

    fn dequeue(process: i64, element: &str) -> String {
        ok(process, "dequeue", "null", element)
    }

    #[test]
    fn an_empty_queue_after_acknowledged_enqueues() {
        let text = [
            enqueue(0, "1"),
            enqueue(0, "2"),
            dequeue(1, "1"),
            dequeue(1, "null"),
        ]
        .concat();
        let diagnosis = diagnose(&queue("[]"), &text);
        assert_eq!(
            messages(&diagnosis),
            ["dequeue on line 8 found the queue empty, but 2 enqueues completed before it began, \
              and at most 1 element could have been dequeued by the time it returned: at least 1 \
              element lost (no dequeue ever returned 2)"]
        );
        assert_eq!(diagnosis[0].kind, DiagnosisKind::LostElement);
        assert_eq!(diagnosis[0].lines, vec![3, 4, 7, 8]);
        // With the initial elements counted too.
        assert_eq!(
            messages(&diagnose(&queue("[7]"), &dequeue(1, "null"))),
            [
                "dequeue on line 2 found the queue empty, but 1 element was there from the start, \
              and no element could have been dequeued by the time it returned: at least 1 \
              element lost"
            ]
        );
    }

    #[test]
    fn an_indeterminate_dequeue_may_have_taken_it() {
        for ending in [event("info", 2, "dequeue", "null"), String::new()] {
            let text = [
                enqueue(0, "1"),
                event("invoke", 2, "dequeue", "null"),
                ending,
                dequeue(1, "null"),
            ]
            .concat();
            assert!(diagnose(&queue("[]"), &text).is_empty());
        }
    }

    #[test]
    fn elements_nothing_enqueued() {
        let text = [
            dequeue(1, "9"),
            enqueue(0, "8"),
            dequeue(1, "8"),
            dequeue(1, "9"),
        ]
        .concat();
        let diagnosis = diagnose(&queue("[]"), &text);
        assert_eq!(
            messages(&diagnosis),
            [
                "dequeue on line 2 returned 9, but 9 was never enqueued",
                "dequeue on line 8 returned 9, but 9 was never enqueued",
            ]
        );
        assert_eq!(diagnosis[0].kind, DiagnosisKind::PhantomElement);
        let text = [dequeue(1, "9"), enqueue(0, "9")].concat();
        assert_eq!(
            messages(&diagnose(&queue("[]"), &text)),
            [
                "dequeue on line 2 returned 9, but no enqueue of it had begun by then (the first \
              began on line 3)"
            ]
        );
    }

    #[test]
    fn an_element_dequeued_twice() {
        let text = [enqueue(0, "5"), dequeue(1, "5"), dequeue(2, "5")].concat();
        let diagnosis = diagnose(&queue("[]"), &text);
        assert_eq!(
            messages(&diagnosis),
            ["5 was dequeued twice (lines 4, 6) but went in only once (line 1)"]
        );
        assert_eq!(diagnosis[0].kind, DiagnosisKind::DuplicateDequeue);
        assert_eq!(diagnosis[0].lines, (1..=6).collect::<Vec<_>>());
        // Enqueued twice (once from the start): fine.
        assert!(diagnose(&queue("[5]"), &text).is_empty());
    }

    #[test]
    fn elements_out_of_order() {
        let text = [
            enqueue(0, "1"),
            enqueue(0, "2"),
            dequeue(1, "2"),
            dequeue(1, "1"),
        ]
        .concat();
        let diagnosis = diagnose(&queue("[]"), &text);
        assert_eq!(
            messages(&diagnosis),
            [
                "1 and 2 left the queue in the wrong order: 1 was enqueued (line 2) before the \
              enqueue of 2 began, but 2 was dequeued (line 6) before the dequeue of 1 began \
              (line 7)"
            ]
        );
        assert_eq!(diagnosis[0].kind, DiagnosisKind::Reordered);
        assert_eq!(diagnosis[0].lines, (1..=8).collect::<Vec<_>>());
        // Concurrent enqueues may go in either order.
        let text = [
            event("invoke", 0, "enqueue", "1"),
            enqueue(2, "2"),
            event("ok", 0, "enqueue", "1"),
            dequeue(1, "2"),
            dequeue(1, "1"),
        ]
        .concat();
        assert!(diagnose(&queue("[]"), &text).is_empty());
    }
}
