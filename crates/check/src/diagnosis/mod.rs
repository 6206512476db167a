//! Diagnoses: what a history with no linearization shows, said in the user's terms.
//!
//! The search proves that no order of the operations explains a history; a person wants to read
//! what happened: "read 77 on line 801, but 398 adds completed before it began (total 398): at
//! least 321 increments lost". Each built-in model's [`Model::diagnose`](crate::Model::diagnose)
//! looks for such findings in one partition, and every finding is a proof from the history
//! alone, true whatever order the concurrent operations took:
//!
//! - an operation surely took effect before another began only if it completed `ok` before
//!   the other's invocation;
//! - an indeterminate operation (`info`, or never completed) may have taken effect at any moment
//!   after its invocation, even after the history ends, or never;
//! - a failed operation did not take effect.
//!
//! So a finding never assumes that an indeterminate operation did or did not happen, and a
//! history that has a linearization gets none (the property tests check this against a
//! brute-force checker). When nothing can be said in such terms, the list is empty: a wrong
//! diagnosis would be worse than none.
//!
//! Kinds: [`DiagnosisKind::PhantomElement`] is anything observed that no operation could have
//! put there: a set or queue element, an object that "exists", a register value nobody wrote,
//! text of a key-value string that no append or write explains. A counter read above every
//! possible total is [`DiagnosisKind::Other`]: no element is involved. An acknowledged append
//! missing from a key-value read is a [`DiagnosisKind::LostUpdate`], like a lost increment.
//!
//! Each partition gets at most [`MAX_PER_KIND`] findings of a kind, most telling first (the
//! largest loss, then the earliest line), then one more saying how many were left out.
//!
//! ```
//! use photofinish_check::models::Counter;
//! use photofinish_check::{DiagnosisKind, Model};
//! use photofinish_history::read_str;
//!
//! let history = read_str(r#"{"type":"invoke","f":"add","value":1,"process":0}
//! {"type":"ok","f":"add","value":1,"process":0}
//! {"type":"invoke","f":"add","value":1,"process":1}
//! {"type":"ok","f":"add","value":1,"process":1}
//! {"type":"invoke","f":"read","value":null,"process":0}
//! {"type":"ok","f":"read","value":1,"process":0}
//! "#, "lost-update", None).unwrap();
//! let ops: Vec<_> = history.operations.iter().collect();
//! let diagnosis = Counter::new(0).diagnose(&ops);
//! assert_eq!(diagnosis[0].kind, DiagnosisKind::LostUpdate);
//! assert_eq!(
//!     diagnosis[0].message,
//!     "read 1 on line 6, but 2 adds completed before it began (total 2): at least 1 increment lost"
//! );
//! assert_eq!(diagnosis[0].lines, vec![1, 2, 3, 4, 5, 6]);
//! ```

mod counter;
mod create_once;
mod kv;
mod mutex;
mod queue;
mod register;
mod set;

use std::fmt::{self, Display};

use serde::Serialize;

use photofinish_history::{Operation, Outcome, Value};

pub(crate) use counter::diagnose as counter;
pub(crate) use create_once::diagnose as create_once;
pub(crate) use kv::diagnose as kv;
pub(crate) use mutex::diagnose as mutex;
pub(crate) use queue::diagnose as queue;
pub(crate) use register::diagnose as register;
pub(crate) use set::diagnose as set;

/// One finding about a partition that has no linearization, in the user's terms.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnosis {
    pub kind: DiagnosisKind,
    /// One or two sentences, with line numbers, in the user's terms.
    pub message: String,
    /// The history lines the finding rests on (invoke and completion lines of the operations
    /// involved), sorted, deduplicated. When very many operations are involved (every add
    /// before a counter read), at most [`MAX_LINES`]: those of the operations the message
    /// names, then the ones nearest the finding's own operation.
    pub lines: Vec<usize>,
}

/// What sort of anomaly a [`Diagnosis`] describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DiagnosisKind {
    /// An acknowledged update is missing from a later read (increments, appends).
    LostUpdate,
    /// A read returned a value that an acknowledged later write had already replaced, or a
    /// counter went backwards.
    StaleRead,
    /// An object was created more than once.
    DuplicateCreate,
    /// An acknowledged element is missing (from a set read, or a queue found empty).
    LostElement,
    /// A read saw something no operation could have put there.
    PhantomElement,
    /// Two processes held a lock at the same time.
    DoubleHolder,
    /// An element came out of a queue more often than it went in.
    DuplicateDequeue,
    /// Elements came out of a queue in another order than they went in.
    Reordered,
    /// Anything else.
    Other,
}

impl DiagnosisKind {
    /// The kind's name, as in JSON: `lost-update`, `stale-read`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            DiagnosisKind::LostUpdate => "lost-update",
            DiagnosisKind::StaleRead => "stale-read",
            DiagnosisKind::DuplicateCreate => "duplicate-create",
            DiagnosisKind::LostElement => "lost-element",
            DiagnosisKind::PhantomElement => "phantom-element",
            DiagnosisKind::DoubleHolder => "double-holder",
            DiagnosisKind::DuplicateDequeue => "duplicate-dequeue",
            DiagnosisKind::Reordered => "reordered",
            DiagnosisKind::Other => "other",
        }
    }
}

impl Display for DiagnosisKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How many findings of one kind a partition reports before summing up the rest.
pub const MAX_PER_KIND: usize = 5;

/// How many lines one diagnosis lists at most.
pub const MAX_LINES: usize = 40;

/// How many elements (or operations) one message lists before "and 120 more".
pub(crate) const MAX_LISTED: usize = 8;

/// How many characters of a value a message shows.
const MAX_VALUE_CHARS: usize = 60;

/// A finding before the per-kind limit: where it is and what several are called, and the
/// words and lines, made only if it is among those shown (a history may have thousands of
/// stale reads, and listing the operations behind each can cost as much as finding them all).
pub(crate) struct Finding<'a> {
    pub kind: DiagnosisKind,
    /// The line of the finding's own operation (the read, the second acquire), for ordering
    /// and for the summary of the findings left out.
    pub at: usize,
    /// What several findings of this sort are called: "stale reads".
    pub plural: &'static str,
    details: Box<dyn FnOnce() -> (String, Vec<usize>) + 'a>,
}

impl<'a> Finding<'a> {
    /// A finding whose message is made already. `named` are the operations the message names
    /// (their lines are always kept); `others` are further operations involved, nearest the
    /// finding's own operation first.
    pub fn new(
        kind: DiagnosisKind,
        message: String,
        at: usize,
        plural: &'static str,
        named: &[&Operation],
        others: &[&Operation],
    ) -> Finding<'a> {
        let lines = lines(named, others);
        Finding::later(kind, at, plural, move || (message, lines))
    }

    /// A finding whose message and lines `details` makes when needed.
    pub fn later(
        kind: DiagnosisKind,
        at: usize,
        plural: &'static str,
        details: impl FnOnce() -> (String, Vec<usize>) + 'a,
    ) -> Finding<'a> {
        Finding {
            kind,
            at,
            plural,
            details: Box::new(details),
        }
    }
}

/// The lines of the operations `named` (all of them) and `others` (while there is room), sorted
/// and deduplicated.
pub(crate) fn lines(named: &[&Operation], others: &[&Operation]) -> Vec<usize> {
    let mut lines: Vec<usize> = named.iter().flat_map(|op| op_lines(op)).collect();
    for op in others {
        if lines.len() + 2 > MAX_LINES {
            break;
        }
        lines.extend(op_lines(op));
    }
    lines.sort_unstable();
    lines.dedup();
    lines
}

/// Turns findings, each kind's already in order (most telling first), into the diagnosis: the
/// kinds in [`DiagnosisKind`] order, at most [`MAX_PER_KIND`] of each, then a line for the rest.
pub(crate) fn finish(findings: Vec<Finding>) -> Vec<Diagnosis> {
    let mut kinds: Vec<DiagnosisKind> = findings.iter().map(|f| f.kind).collect();
    kinds.sort_unstable();
    kinds.dedup();
    let mut by_kind: Vec<Vec<Finding>> = kinds.iter().map(|_| Vec::new()).collect();
    for finding in findings {
        let slot = kinds.iter().position(|k| *k == finding.kind).unwrap_or(0);
        by_kind[slot].push(finding);
    }
    let mut diagnosis = Vec::new();
    for (kind, findings) in kinds.into_iter().zip(by_kind) {
        let mut findings = findings.into_iter();
        for finding in findings.by_ref().take(MAX_PER_KIND) {
            let (message, lines) = (finding.details)();
            diagnosis.push(Diagnosis {
                kind,
                message,
                lines,
            });
        }
        let rest: Vec<Finding> = findings.collect();
        if let Some(first) = rest.first() {
            let plural = if rest.iter().all(|f| f.plural == first.plural) {
                first.plural
            } else {
                "findings of this kind"
            };
            let mut lines: Vec<usize> = rest.iter().map(|f| f.at).collect();
            lines.sort_unstable();
            lines.dedup();
            lines.truncate(MAX_LINES);
            diagnosis.push(Diagnosis {
                kind,
                message: format!("... and {} more {plural}", rest.len()),
                lines,
            });
        }
    }
    diagnosis
}

// ---------------------------------------------------------------------------------------------
// Real time.

/// When `op` completed, if it completed `ok`: only then did it surely take effect by that time.
pub(crate) fn ok_at(op: &Operation) -> Option<u64> {
    op.completed_at.filter(|_| op.outcome == Outcome::Ok)
}

/// Whether `a` surely took effect before `b` began: it completed `ok` before `b`'s invocation.
pub(crate) fn precedes(a: &Operation, b: &Operation) -> bool {
    ok_at(a).is_some_and(|done| done < b.invoked_at)
}

/// Whether `op` may have taken effect at all: it did not fail.
pub(crate) fn may_apply(op: &Operation) -> bool {
    op.outcome != Outcome::Fail
}

/// The line where `op`'s result is: its completion, or its invocation if it never completed.
pub(crate) fn line(op: &Operation) -> usize {
    op.complete_line.unwrap_or(op.invoke_line)
}

/// The invocation and completion lines of `op`.
pub(crate) fn op_lines(op: &Operation) -> impl Iterator<Item = usize> {
    std::iter::once(op.invoke_line).chain(op.complete_line)
}

// ---------------------------------------------------------------------------------------------
// Words.

/// A value as a message shows it: its JSON text, clipped to about 60 characters, with every
/// control or direction-changing character escaped, so that a terminal never receives one.
pub(crate) fn show(value: &Value) -> String {
    let text = value.to_json_string();
    let mut shown = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == MAX_VALUE_CHARS {
            shown.push('…');
            break;
        }
        if c.is_control() || is_direction_mark(c) {
            shown.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            shown.push(c);
        }
    }
    shown
}

/// A string as a message shows it: quoted, clipped and escaped like [`show`].
pub(crate) fn show_str(text: &str) -> String {
    show(&Value::Str(text.to_string()))
}

/// Unicode's bidirectional formatting characters, which can make a line read other than it is.
fn is_direction_mark(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `2, 4, 7` or `2, 4, 7 and 120 more`: at most [`MAX_LISTED`] items.
pub(crate) fn listing<T: Display>(items: &[T]) -> String {
    listing_at_most(items, MAX_LISTED)
}

/// [`listing`] with another limit.
pub(crate) fn listing_at_most<T: Display>(items: &[T], max: usize) -> String {
    let shown: Vec<String> = items.iter().take(max).map(ToString::to_string).collect();
    let mut text = shown.join(", ");
    if items.len() > max {
        text.push_str(&format!(" and {} more", items.len() - max));
    }
    text
}

/// `1 add`, `3 adds`.
pub(crate) fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use photofinish_history::{read_str, History};

    /// Parses a JSON Lines history written for a test.
    pub fn history(text: &str) -> History {
        read_str(text, "test", Some(photofinish_history::Format::JsonLines))
            .expect("a well-formed history")
    }

    /// The diagnosis `model` gives the JSON Lines history `text`, all one partition.
    pub fn diagnose<M: crate::Model>(model: &M, text: &str) -> Vec<Diagnosis> {
        let history = history(text);
        let ops: Vec<&Operation> = history.operations.iter().collect();
        model.diagnose(&ops)
    }

    /// A JSON Lines event.
    pub fn event(kind: &str, process: i64, f: &str, value: &str) -> String {
        format!("{{\"type\":\"{kind}\",\"f\":\"{f}\",\"value\":{value},\"process\":{process}}}\n")
    }

    /// An operation that completed `ok` at once: its invocation and completion events.
    pub fn ok(process: i64, f: &str, value: &str, result: &str) -> String {
        event("invoke", process, f, value) + &event("ok", process, f, result)
    }

    /// A JSON Lines event on `key`.
    pub fn keyed(kind: &str, process: i64, f: &str, key: &str, value: &str) -> String {
        format!(
            "{{\"type\":\"{kind}\",\"f\":\"{f}\",\"key\":{key},\"value\":{value},\"process\":{process}}}\n"
        )
    }

    /// An operation on `key` that completed `ok` at once.
    pub fn keyed_ok(process: i64, f: &str, key: &str, value: &str, result: &str) -> String {
        keyed("invoke", process, f, key, value) + &keyed("ok", process, f, key, result)
    }

    /// The messages of a diagnosis.
    pub fn messages(diagnosis: &[Diagnosis]) -> Vec<&str> {
        diagnosis.iter().map(|d| d.message.as_str()).collect()
    }

    #[test]
    fn values_are_clipped_and_escaped() {
        assert_eq!(show(&Value::from("a\u{1b}[31mb")), r#""a\u001b[31mb""#);
        assert_eq!(
            show(&Value::from("x\u{7f}\u{9b}\u{202e}")),
            r#""x\u007f\u009b\u202e""#
        );
        let long = show(&Value::from("y".repeat(100)));
        assert_eq!(long.chars().count(), MAX_VALUE_CHARS + 1);
        assert!(long.ends_with('…'));
    }

    #[test]
    fn listings_say_how_many_were_left_out() {
        assert_eq!(listing(&[1, 2, 3]), "1, 2, 3");
        let many: Vec<usize> = (1..=20).collect();
        assert_eq!(listing(&many), "1, 2, 3, 4, 5, 6, 7, 8 and 12 more");
    }

    #[test]
    fn findings_beyond_the_limit_are_summed_up() {
        let findings = (0..8)
            .map(|i| {
                Finding::later(DiagnosisKind::StaleRead, 10 + i, "stale reads", move || {
                    assert!(i < MAX_PER_KIND, "details of a finding left out were made");
                    (format!("stale {i}"), vec![i])
                })
            })
            .chain(std::iter::once(Finding::later(
                DiagnosisKind::LostUpdate,
                1,
                "lost updates",
                || ("lost".to_string(), vec![1]),
            )))
            .collect();
        let diagnosis = finish(findings);
        assert_eq!(
            messages(&diagnosis),
            [
                "lost",
                "stale 0",
                "stale 1",
                "stale 2",
                "stale 3",
                "stale 4",
                "... and 3 more stale reads"
            ]
        );
        assert_eq!(diagnosis[6].lines, vec![15, 16, 17]);
        assert_eq!(diagnosis[6].kind, DiagnosisKind::StaleRead);
    }

    #[test]
    fn kinds_serialize_in_kebab_case() {
        let d = Diagnosis {
            kind: DiagnosisKind::DuplicateCreate,
            message: "m".to_string(),
            lines: vec![3],
        };
        assert_eq!(
            serde_json::to_string(&d).unwrap(),
            r#"{"kind":"duplicate-create","message":"m","lines":[3]}"#
        );
        assert_eq!(DiagnosisKind::DuplicateCreate.as_str(), "duplicate-create");
    }
}
