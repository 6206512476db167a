//! Jepsen's set-full workload: clients add unique elements to a set (`{:f :add, :value 5}`)
//! and read the whole set (`{:f :read}` completing with `#{1 5}`, a list in JSON). Every
//! element must, once known to be in the set, stay there.
//!
//! For each element, as Jepsen's `set-full` checker does:
//! - it is *known* from the completion of its add, or from the first read that saw it,
//!   whichever came first;
//! - it is *stable* if some read saw it and every read invoked after the last read that
//!   missed it saw it;
//! - it is *lost* if it was known, and the last read that missed it was invoked after both
//!   the last read that saw it and the moment it became known;
//! - otherwise it was *never read* (no read began after it was known).
//!
//! A stable element is *stale* if a read invoked after it was known still missed it: a
//! linearizable set forbids that, a merely eventually consistent one does not. Real-time
//! order is the order of events in the history. A read that saw an element twice, or one
//! nobody tried to add, is wrong whatever the model.
//!
//! ```
//! use photofinish_history::read_str;
//! use photofinish_txn::set_full::{check_set_full, SetFullOptions};
//! use photofinish_txn::Verdict;
//!
//! // Element 1 was read, then no read saw it again: lost.
//! let history = read_str(
//!     "{:process 0 :type :invoke :f :add :value 1}\n\
//!      {:process 0 :type :ok :f :add :value 1}\n\
//!      {:process 1 :type :invoke :f :read :value nil}\n\
//!      {:process 1 :type :ok :f :read :value #{1}}\n\
//!      {:process 1 :type :invoke :f :read :value nil}\n\
//!      {:process 1 :type :ok :f :read :value #{}}\n",
//!     "set.edn",
//!     None,
//! )
//! .unwrap();
//! let report = check_set_full(&history, "set.edn", &SetFullOptions::default()).unwrap();
//! assert_eq!(report.verdict, Verdict::Invalid);
//! ```

use std::time::Instant;

use photofinish_history::{History, Outcome, Value};

use crate::anomaly::AnomalyKind;
use crate::error::TxnError;
use crate::explain::{op_ref, outcome_counts, Findings};
use crate::intern::Interner;
use crate::render::clip;
use crate::report::{Finding, Report, Verdict};

/// How to check a set-full history.
#[derive(Clone, Debug, Default)]
pub struct SetFullOptions {
    /// Whether the set promises linearizability: stale reads are then anomalies.
    pub linearizable: bool,
}

#[derive(Clone, Copy, Debug, Default)]
struct Element {
    /// The add operation.
    add: usize,
    /// Event position and operation that made it known.
    known: Option<(u64, usize)>,
    /// Invocation position and operation of the last read that saw it / missed it.
    last_present: Option<(u64, usize)>,
    last_absent: Option<(u64, usize)>,
}

/// Checks a set-full history.
pub fn check_set_full(
    history: &History,
    origin: &str,
    options: &SetFullOptions,
) -> Result<Report, TxnError> {
    let started = Instant::now();
    // Events in history order: (position, operation, is completion).
    let mut events: Vec<(u64, usize, bool)> = Vec::new();
    for (i, op) in history.operations.iter().enumerate() {
        match op.f.as_str() {
            "add" | "read" => {}
            other => {
                return Err(TxnError::at(
                    origin,
                    op.invoke_line,
                    format!(
                        "`{}` is not a set-full operation: expected add or read",
                        clip(other, 40)
                    ),
                ))
            }
        }
        if op.f == "read" && op.outcome == Outcome::Ok && op.result.list_len().is_none() {
            return Err(TxnError::at(
                origin,
                op.complete_line.unwrap_or(op.invoke_line),
                format!(
                    "a set-full read returns the set's elements, like #{{1 2}} or [1, 2]; found {}",
                    clip(&op.result.to_json_string(), 60)
                ),
            ));
        }
        events.push((op.invoked_at, i, false));
        if let Some(at) = op.completed_at {
            events.push((at, i, true));
        }
    }
    events.sort_unstable();
    let mut ids = Interner::default();
    let mut elements: Vec<Element> = Vec::new();
    let mut findings = Findings::default();
    let mut present = Vec::new();
    let mut reads = 0usize;
    for &(at, i, completion) in &events {
        let op = &history.operations[i];
        match (op.f.as_str(), completion) {
            ("add", false) => {
                let id = ids.intern(&op.value) as usize;
                if id == elements.len() {
                    elements.push(Element {
                        add: i,
                        ..Element::default()
                    });
                }
            }
            ("add", true) if op.outcome == Outcome::Ok => {
                if let Some(id) = ids.get(&op.value) {
                    let e = &mut elements[id as usize];
                    e.known = e.known.or(Some((at, i)));
                }
            }
            ("read", true) if op.outcome == Outcome::Ok => {
                reads += 1;
                let seen = op.result.as_list().unwrap_or_default();
                present.clear();
                present.resize(elements.len(), 0u8);
                for v in seen.iter() {
                    match ids.get(v) {
                        Some(id) if (id as usize) < elements.len() => present[id as usize] += 1,
                        _ => unexpected(op, v, &mut findings),
                    }
                }
                for (id, e) in elements.iter_mut().enumerate() {
                    let mark = (op.invoked_at, i);
                    if present[id] > 0 {
                        e.known = e.known.or(Some((at, i)));
                        e.last_present = e.last_present.max(Some(mark));
                    } else {
                        e.last_absent = e.last_absent.max(Some(mark));
                    }
                    if present[id] > 1 {
                        findings.add(AnomalyKind::DuplicateElement, || Finding {
                            kind: AnomalyKind::DuplicateElement,
                            summary: format!(
                                "a read saw element {} {} times",
                                clip(&ids.value(id as u32).to_json_string(), 40),
                                present[id]
                            ),
                            transactions: vec![op_ref(op)],
                            steps: Vec::new(),
                        });
                    }
                }
            }
            _ => {}
        }
    }
    let (mut stable, mut lost, mut never_read, mut stale) = (0usize, 0usize, 0usize, 0usize);
    let position = |mark: Option<(u64, usize)>| mark.map_or(-1i128, |m| m.0 as i128);
    for (id, e) in elements.iter().enumerate() {
        let element = clip(&ids.value(id as u32).to_json_string(), 40);
        let is_stable =
            e.last_present.is_some() && position(e.last_absent) < position(e.last_present);
        let is_lost = e.known.is_some()
            && e.last_absent.is_some()
            && position(e.last_present) < position(e.last_absent)
            && position(e.known) < position(e.last_absent);
        if is_stable {
            stable += 1;
            if position(e.last_absent) > position(e.known) {
                stale += 1;
                let absent = &history.operations[e.last_absent.expect("stale").1];
                findings.add(AnomalyKind::Stale, || Finding {
                    kind: AnomalyKind::Stale,
                    summary: format!(
                        "element {element} was known to be in the set, yet the read invoked on line {} missed it (later reads all saw it)",
                        absent.invoke_line
                    ),
                    transactions: vec![op_ref(&history.operations[e.add]), op_ref(absent)],
                    steps: Vec::new(),
                });
            }
        } else if is_lost {
            lost += 1;
            let absent = &history.operations[e.last_absent.expect("lost").1];
            let last_seen = e
                .last_present
                .map(|(_, i)| {
                    format!(
                        "last seen by the read invoked on line {}",
                        history.operations[i].invoke_line
                    )
                })
                .unwrap_or_else(|| "acknowledged but never seen".to_string());
            let mut transactions = vec![op_ref(&history.operations[e.add])];
            if let Some((_, i)) = e.last_present {
                transactions.push(op_ref(&history.operations[i]));
            }
            transactions.push(op_ref(absent));
            findings.add(AnomalyKind::Lost, || Finding {
                kind: AnomalyKind::Lost,
                summary: format!(
                    "element {element} was lost: {last_seen}, and missing from every read since, the last invoked on line {}",
                    absent.invoke_line
                ),
                transactions,
                steps: Vec::new(),
            });
        } else {
            never_read += 1;
        }
    }
    let mut notes = vec![format!(
        "{} elements added: {stable} stable, {lost} lost, {never_read} never read after they were known, {stale} stale{}",
        elements.len(),
        if options.linearizable {
            ""
        } else {
            " (stale reads are allowed unless --linearizable)"
        }
    )];
    notes.extend(findings.overflow_notes());
    let Findings { mut kept, counts } = findings;
    kept.sort_by_key(|f| f.kind);
    let bad = counts
        .keys()
        .any(|k| *k != AnomalyKind::Stale || options.linearizable);
    let verdict = if bad {
        Verdict::Invalid
    } else if reads == 0 || stable == 0 {
        notes.push("no element was read stably: nothing was tested".to_string());
        Verdict::Unknown
    } else {
        Verdict::Valid
    };
    let (committed, failed, indeterminate) =
        outcome_counts(history.operations.iter().map(|o| &o.outcome));
    Ok(Report {
        workload: "set-full".to_string(),
        verdict,
        consistency_model: None,
        ruled_out: Vec::new(),
        anomaly_types: counts.keys().copied().collect(),
        anomaly_counts: counts.iter().map(|(k, n)| (k.name(), *n)).collect(),
        anomalies: kept,
        operations: history.operations.len(),
        committed,
        failed,
        indeterminate,
        notes,
        elapsed_ms: started.elapsed().as_secs_f64() * 1e3,
    })
}

fn unexpected(op: &photofinish_history::Operation, v: &Value, findings: &mut Findings) {
    findings.add(AnomalyKind::UnexpectedElement, || Finding {
        kind: AnomalyKind::UnexpectedElement,
        summary: format!(
            "a read saw element {}, which nobody had tried to add",
            clip(&v.to_json_string(), 40)
        ),
        transactions: vec![op_ref(op)],
        steps: Vec::new(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use photofinish_history::{read_str, Format};

    fn check(text: &str, linearizable: bool) -> Report {
        let h = read_str(text, "s.edn", Some(Format::Edn)).unwrap();
        check_set_full(&h, "s.edn", &SetFullOptions { linearizable }).unwrap()
    }

    fn op(p: i64, kind: &str, f: &str, v: &str) -> String {
        format!("{{:process {p} :type :{kind} :f :{f} :value {v}}}\n")
    }

    #[test]
    fn stable_elements_are_valid() {
        let h = op(0, "invoke", "add", "1")
            + &op(0, "ok", "add", "1")
            + &op(1, "invoke", "read", "nil")
            + &op(1, "ok", "read", "#{1}");
        let r = check(&h, true);
        assert_eq!(r.verdict, Verdict::Valid, "{:?}", r.anomalies);
        assert!(
            r.notes[0].starts_with("1 elements added: 1 stable"),
            "{:?}",
            r.notes
        );
    }

    #[test]
    fn an_element_that_disappears_is_lost() {
        let h = op(0, "invoke", "add", "1")
            + &op(0, "ok", "add", "1")
            + &op(1, "invoke", "read", "nil")
            + &op(1, "ok", "read", "#{1}")
            + &op(1, "invoke", "read", "nil")
            + &op(1, "ok", "read", "#{}");
        let r = check(&h, false);
        assert_eq!(r.verdict, Verdict::Invalid);
        assert_eq!(r.anomaly_types, [AnomalyKind::Lost]);
        assert!(
            r.anomalies[0]
                .summary
                .contains("last seen by the read invoked on line 3"),
            "{}",
            r.anomalies[0].summary
        );
    }

    #[test]
    fn a_late_appearance_is_stale_only_for_linearizable_sets() {
        let h = op(0, "invoke", "add", "1")
            + &op(0, "ok", "add", "1")
            + &op(1, "invoke", "read", "nil")
            + &op(1, "ok", "read", "#{}")
            + &op(1, "invoke", "read", "nil")
            + &op(1, "ok", "read", "#{1}");
        assert_eq!(check(&h, false).verdict, Verdict::Valid);
        let r = check(&h, true);
        assert_eq!(r.verdict, Verdict::Invalid);
        assert_eq!(r.anomaly_types, [AnomalyKind::Stale]);
    }

    #[test]
    fn concurrent_reads_that_miss_an_element_do_not_lose_it() {
        // The read began before the add completed: missing it proves nothing.
        let h = op(1, "invoke", "read", "nil")
            + &op(0, "invoke", "add", "1")
            + &op(0, "ok", "add", "1")
            + &op(1, "ok", "read", "#{}");
        let r = check(&h, true);
        assert!(r.anomalies.is_empty(), "{:?}", r.anomalies);
        assert_eq!(r.verdict, Verdict::Unknown);
    }

    #[test]
    fn unexpected_and_duplicate_elements() {
        let h = op(0, "invoke", "add", "1")
            + &op(0, "ok", "add", "1")
            + &op(1, "invoke", "read", "nil")
            + &op(1, "ok", "read", "[1 1 9]");
        let r = check(&h, false);
        assert_eq!(
            r.anomaly_types,
            [
                AnomalyKind::UnexpectedElement,
                AnomalyKind::DuplicateElement
            ]
        );
    }
}
