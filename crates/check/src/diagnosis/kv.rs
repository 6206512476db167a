//! Key-value findings: for keys that are only read and written, those of a register; for keys
//! with appends, what a read misses and what it has that nothing explains.
//!
//! An append that completed `ok` before a read began is in the read's value, unless a write
//! (or cas) may have replaced the value after it: one that did not fail, began before the read
//! returned, and did not surely complete before the append began. A string append then shows as
//! a substring of a string read; a list append as an element of a list read; and a read of
//! `null` can have none. Conversely, a value read must be some starting value (the initial one,
//! or that of a write begun before the read returned) followed by appends begun before it
//! returned: text or elements beyond the longest prefix so made are unexplained.

use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::{BTreeMap, HashSet};

use photofinish_history::{Operation, Value};

use crate::model::{Model, Prepared};
use crate::models::{Kv, KvOp as Kind, RegisterOp};

use super::register::{self, RegOp};
use super::{
    count, finish, line, listing_at_most, may_apply, ok_at, precedes, show, show_str, Diagnosis,
    DiagnosisKind, Finding,
};

/// How much comparing one partition may cost (bytes of read values scanned for an append,
/// pieces tried at a position of a read); past it, the remaining reads get no append findings.
/// A count, not a time, so the answer is the same every run.
const WORK_BUDGET: usize = 200_000_000;

/// The findings of a `kv` map.
pub(crate) fn diagnose(model: &Kv, ops: &[&Operation]) -> Vec<Diagnosis> {
    let init = &model.init;
    let mut keys: BTreeMap<Option<Value>, Vec<KvOp>> = BTreeMap::new();
    for &op in ops {
        match model.prepare(op) {
            Ok(Prepared::Op { key, op: kind }) => {
                keys.entry(key).or_default().push(KvOp { op, kind })
            }
            Ok(Prepared::Skip) => {}
            Err(_) => return Vec::new(),
        }
    }
    // Keys with no append that may have happened are registers.
    let registers: BTreeMap<&Option<Value>, Vec<RegOp>> = keys
        .iter()
        .filter(|(_, ops)| {
            !ops.iter()
                .any(|o| matches!(o.kind, Kind::Append(_)) && may_apply(o.op))
        })
        .map(|(key, ops)| {
            let registers = ops
                .iter()
                .filter_map(|o| match &o.kind {
                    Kind::Register(reg) => Some(RegOp {
                        op: o.op,
                        reg: reg.clone(),
                    }),
                    Kind::Append(_) => None,
                })
                .collect();
            (key, registers)
        })
        .collect();
    let mut findings = Vec::new();
    let mut budget = WORK_BUDGET;
    for (key, ops) in &keys {
        match registers.get(key) {
            Some(registers) => {
                findings.extend(register::findings(init, registers, key.as_ref()));
            }
            None => findings.extend(Appended::new(init, ops).findings(key.as_ref(), &mut budget)),
        }
    }
    finish(findings)
}

struct KvOp<'a> {
    op: &'a Operation,
    kind: Kind,
}

/// One key's operations, sorted for the questions a read asks.
struct Appended<'a> {
    init: &'a Value,
    /// `ok` reads: the operation and the value seen.
    reads: Vec<(&'a Operation, &'a Value)>,
    /// Appends that did not fail, by invocation.
    appends: Vec<(&'a Operation, &'a Value)>,
    /// Writes and cas (the values they leave) that did not fail, by invocation, with whether
    /// any of the first n is indeterminate and the latest completion among them.
    resets: Vec<(&'a Operation, &'a Value)>,
    resets_indeterminate: Vec<bool>,
    resets_latest: Vec<Option<u64>>,
}

impl<'a> Appended<'a> {
    fn new(init: &'a Value, ops: &'a [KvOp<'a>]) -> Appended<'a> {
        let mut reads = Vec::new();
        let mut appends = Vec::new();
        let mut resets = Vec::new();
        for o in ops {
            match &o.kind {
                Kind::Register(RegisterOp::Read(seen)) if ok_at(o.op).is_some() => {
                    reads.push((o.op, seen));
                }
                Kind::Register(register @ (RegisterOp::Write(_) | RegisterOp::Cas(_)))
                    if may_apply(o.op) =>
                {
                    resets.extend(register.written().map(|v| (o.op, v)));
                }
                Kind::Append(v) if may_apply(o.op) => appends.push((o.op, v)),
                _ => {}
            }
        }
        appends.sort_by_key(|(op, _)| op.invoked_at);
        resets.sort_by_key(|(op, _)| op.invoked_at);
        let mut resets_indeterminate = vec![false];
        let mut resets_latest = vec![None];
        for (op, _) in &resets {
            let done = ok_at(op);
            let indeterminate = resets_indeterminate[resets_indeterminate.len() - 1];
            resets_indeterminate.push(indeterminate || done.is_none());
            resets_latest.push(resets_latest[resets_latest.len() - 1].max(done));
        }
        Appended {
            init,
            reads,
            appends,
            resets,
            resets_indeterminate,
            resets_latest,
        }
    }

    fn findings(&self, key: Option<&Value>, budget: &mut usize) -> Vec<Finding<'static>> {
        let mut missing = Vec::new();
        let mut extra = Vec::new();
        for &(read, seen) in &self.reads {
            if *budget == 0 {
                break;
            }
            missing.extend(self.missing(key, read, seen, budget));
            extra.extend(self.unexplained(key, read, seen, budget));
        }
        missing.sort_by_key(|(n, f)| (Reverse(*n), f.at));
        extra.sort_by_key(|f| f.at);
        missing.into_iter().map(|(_, f)| f).chain(extra).collect()
    }

    /// The writes and cas begun before event `returned`.
    fn resets_before(&self, returned: u64) -> usize {
        self.resets
            .partition_point(|(op, _)| op.invoked_at < returned)
    }

    /// The acknowledged appends `read` lacks, with how many.
    fn missing(
        &self,
        key: Option<&Value>,
        read: &Operation,
        seen: &Value,
        budget: &mut usize,
    ) -> Option<(usize, Finding<'static>)> {
        let returned = read.completed_at?;
        let resets = self.resets_before(returned);
        if self.resets_indeterminate[resets] {
            return None;
        }
        // Only appends begun after every such write completed are surely still there.
        let from = match self.resets_latest[resets] {
            Some(settled) => self
                .appends
                .partition_point(|(op, _)| op.invoked_at <= settled),
            None => 0,
        };
        let mut lacking: Vec<(&Operation, &Value)> = Vec::new();
        for &(append, piece) in &self.appends[from..] {
            if !precedes(append, read) {
                continue;
            }
            let absent = match (seen, piece) {
                (Value::Str(text), Value::Str(p)) if !p.is_empty() => {
                    *budget = budget.saturating_sub(text.len());
                    !text.contains(p.as_str())
                }
                (Value::List(_) | Value::Ints(_), p) => {
                    let items = seen.as_list().unwrap_or_default();
                    *budget = budget.saturating_sub(items.len());
                    !items.contains(p)
                }
                (Value::Null, _) => true,
                _ => false,
            };
            if absent {
                lacking.push((append, piece));
            }
        }
        if lacking.is_empty() {
            return None;
        }
        lacking.sort_by_key(|(op, _)| line(op));
        let pieces: Vec<String> = lacking
            .iter()
            .map(|(op, piece)| format!("{} (line {})", show(piece), line(op)))
            .collect();
        let what = if let [(op, piece)] = lacking[..] {
            format!(
                "{} appended on line {} before it began",
                show(piece),
                line(op)
            )
        } else {
            format!(
                "{} acknowledged before it began: {}",
                count(lacking.len(), "append", "appends"),
                listing_at_most(&pieces, 3)
            )
        };
        let named: Vec<&Operation> = std::iter::once(read)
            .chain(lacking.iter().take(3).map(|(op, _)| *op))
            .collect();
        Some((
            lacking.len(),
            Finding::new(
                DiagnosisKind::LostUpdate,
                format!(
                    "read on line {}{} is missing {what}",
                    line(read),
                    of_key(key)
                ),
                line(read),
                "reads missing acknowledged appends",
                &named,
                &[],
            ),
        ))
    }

    /// The part of what `read` saw that no starting value and appends begun before it returned
    /// can make.
    fn unexplained(
        &self,
        key: Option<&Value>,
        read: &Operation,
        seen: &Value,
        budget: &mut usize,
    ) -> Option<Finding<'static>> {
        let returned = read.completed_at?;
        let starts = std::iter::once(self.init).chain(
            self.resets[..self.resets_before(returned)]
                .iter()
                .map(|(_, v)| *v),
        );
        let begun = self
            .appends
            .partition_point(|(op, _)| op.invoked_at < returned);
        let pieces = self.appends[..begun].iter().map(|(_, p)| *p);
        let message = match seen {
            Value::Str(text) => {
                let at = explained_text(text, starts, pieces, budget)?;
                let position = text[..at].chars().count() + 1;
                format!(
                    "read on line {}{} has text that no write or append begun before it \
                     returned explains, from character {position}: {}",
                    line(read),
                    of_key(key),
                    show_str(&text[at..])
                )
            }
            Value::List(_) | Value::Ints(_) => {
                let items = seen.as_list().unwrap_or_default();
                let at = explained_list(&items, starts, pieces)?;
                format!(
                    "read on line {}{} has {} at position {}, which no write or append \
                     begun before it returned explains",
                    line(read),
                    of_key(key),
                    show(&items[at]),
                    at + 1
                )
            }
            _ => return None,
        };
        Some(Finding::new(
            DiagnosisKind::PhantomElement,
            message,
            line(read),
            "reads with parts nothing explains",
            &[read],
            &[],
        ))
    }
}

/// " of key \"3\"", or nothing for a model without keys.
fn of_key(key: Option<&Value>) -> String {
    key.map_or(String::new(), |k| format!(" of key {}", show(k)))
}

/// Where the longest prefix of `text` made of a starting string and string pieces ends, if
/// that is before the end of `text`. `None` when all of it is explained, or when deciding would
/// exceed the budget.
fn explained_text<'v>(
    text: &str,
    starts: impl Iterator<Item = &'v Value>,
    pieces: impl Iterator<Item = &'v Value>,
    budget: &mut usize,
) -> Option<usize> {
    let pieces: HashSet<&str> = pieces
        .filter_map(Value::as_str)
        .filter(|p| !p.is_empty())
        .collect();
    let mut reachable = vec![false; text.len() + 1];
    for start in starts {
        let start = match start {
            Value::Str(s) => s.as_str(),
            Value::Null => "",
            _ => continue,
        };
        if text.starts_with(start) {
            reachable[start.len()] = true;
        }
    }
    let mut furthest = 0;
    for at in 0..=text.len() {
        if !reachable[at] {
            continue;
        }
        furthest = at;
        // Each piece costs at most its own length to compare; count it as one.
        let Some(left) = budget.checked_sub(pieces.len().max(1)) else {
            *budget = 0;
            return None;
        };
        *budget = left;
        for piece in &pieces {
            if text[at..].starts_with(piece) {
                reachable[at + piece.len()] = true;
            }
        }
    }
    (furthest < text.len()).then_some(furthest)
}

/// Where the longest prefix of `items` made of a starting list and appended elements ends, if
/// that is before the end of `items`.
fn explained_list<'v>(
    items: &[Value],
    starts: impl Iterator<Item = &'v Value>,
    pieces: impl Iterator<Item = &'v Value>,
) -> Option<usize> {
    let pieces: HashSet<&Value> = pieces.collect();
    let mut furthest = 0;
    for start in starts {
        let start: Cow<[Value]> = match start {
            Value::Null => Cow::Borrowed(&[]),
            other => match other.as_list() {
                Some(list) => list,
                None => continue,
            },
        };
        if !items.starts_with(&start) {
            continue;
        }
        let end = start.len()
            + items[start.len()..]
                .iter()
                .take_while(|item| pieces.contains(item))
                .count();
        furthest = furthest.max(end);
    }
    (furthest < items.len()).then_some(furthest)
}

#[cfg(test)]
mod tests {
    use super::super::tests::{diagnose, keyed, keyed_ok, messages};
    use super::*;
    use crate::model::NilReads;

    fn kv(init: &str) -> Kv {
        Kv {
            init: Value::from_json_str(init).unwrap(),
            nil_reads: NilReads::Absent,
        }
    }

    fn append(process: i64, key: &str, piece: &str) -> String {
        keyed_ok(process, "append", key, piece, piece)
    }

    fn get(process: i64, key: &str, seen: &str) -> String {
        keyed_ok(process, "get", key, "null", seen)
    }

    #[test]
    fn a_read_missing_an_acknowledged_append() {
        let text = [
            append(0, r#""3""#, r#""x 1 0 y""#),
            append(0, r#""3""#, r#""x 3 14 y""#),
            get(1, r#""3""#, r#""x 1 0 y""#),
        ]
        .concat();
        let diagnosis = diagnose(&kv(r#""""#), &text);
        assert_eq!(
            messages(&diagnosis),
            [
                r#"read on line 6 of key "3" is missing "x 3 14 y" appended on line 4 before it began"#
            ]
        );
        assert_eq!(diagnosis[0].kind, DiagnosisKind::LostUpdate);
        assert_eq!(diagnosis[0].lines, vec![3, 4, 5, 6]);
    }

    #[test]
    fn text_nothing_explains() {
        let text = [
            append(0, r#""3""#, r#""x 1 0 y""#),
            get(1, r#""3""#, r#""x 1 0 yx 9 9 y""#),
        ]
        .concat();
        let diagnosis = diagnose(&kv(r#""""#), &text);
        assert_eq!(
            messages(&diagnosis),
            [
                r#"read on line 4 of key "3" has text that no write or append begun before it returned explains, from character 8: "x 9 9 y""#
            ]
        );
        assert_eq!(diagnosis[0].kind, DiagnosisKind::PhantomElement);
    }

    #[test]
    fn a_put_racing_appends_may_have_replaced_them() {
        let text = [
            keyed("invoke", 0, "append", r#""a""#, r#""1""#),
            keyed("invoke", 2, "put", r#""a""#, r#""x""#),
            keyed("ok", 0, "append", r#""a""#, r#""1""#),
            keyed("ok", 2, "put", r#""a""#, r#""x""#),
            get(3, r#""a""#, r#""x""#),
        ]
        .concat();
        assert!(diagnose(&kv("null"), &text).is_empty());
        // But "1x" is no starting value followed by appends.
        let wrong = text.replace(r#""value":"x","process":3"#, r#""value":"1x","process":3"#);
        assert_eq!(
            messages(&diagnose(&kv("null"), &wrong)),
            [
                r#"read on line 6 of key "a" has text that no write or append begun before it returned explains, from character 2: "x""#
            ]
        );
    }

    #[test]
    fn list_appends() {
        let appends = [append(0, r#""k""#, "1"), append(0, r#""k""#, "2")].concat();
        let diagnosis = diagnose(&kv("null"), &(appends.clone() + &get(1, r#""k""#, "[1,9]")));
        assert_eq!(
            messages(&diagnosis),
            [
                r#"read on line 6 of key "k" is missing 2 appended on line 4 before it began"#,
                r#"read on line 6 of key "k" has 9 at position 2, which no write or append begun before it returned explains"#,
            ]
        );
        assert!(diagnose(&kv("null"), &(appends.clone() + &get(1, r#""k""#, "[1,2]"))).is_empty());
        // A null read after acknowledged appends misses them all.
        assert_eq!(
            messages(&diagnose(
                &kv("null"),
                &(appends + &get(1, r#""k""#, "null"))
            )),
            [
                r#"read on line 6 of key "k" is missing 2 appends acknowledged before it began: 1 (line 2), 2 (line 4)"#
            ]
        );
    }

    #[test]
    fn keys_without_appends_are_registers() {
        let text = [
            keyed_ok(0, "put", r#""k""#, r#""a""#, r#""a""#),
            keyed_ok(0, "put", r#""k""#, r#""b""#, r#""b""#),
            get(1, r#""k""#, r#""a""#),
            get(1, r#""other""#, r#""a""#),
        ]
        .concat();
        assert_eq!(
            messages(&diagnose(&kv("null"), &text)),
            [
                r#"stale read: read "a" on line 6 of key "k", but put "b" completed on line 4 before the read began, and began only after put "a" had completed on line 2"#,
                r#"read "a" on line 8 of key "other", but no operation wrote "a""#,
            ]
        );
    }

    #[test]
    fn the_work_budget_stops_append_findings() {
        let text = [
            append(0, r#""k""#, r#""x""#),
            get(1, r#""k""#, r#""""#),
            get(1, r#""k""#, r#""y""#),
        ]
        .concat();
        let history = super::super::tests::history(&text);
        let model = kv(r#""""#);
        let ops: Vec<KvOp> = history
            .operations
            .iter()
            .map(|op| match model.prepare(op) {
                Ok(Prepared::Op { op: kind, .. }) => KvOp { op, kind },
                other => panic!("{other:?}"),
            })
            .collect();
        let appended = Appended::new(&model.init, &ops);
        let key = Value::from("k");
        let messages = |budget: usize| {
            let mut budget = budget;
            let findings = appended.findings(Some(&key), &mut budget);
            finish(findings)
                .into_iter()
                .map(|d| d.message)
                .collect::<Vec<_>>()
        };
        assert_eq!(messages(WORK_BUDGET).len(), 3);
        assert_eq!(
            messages(1),
            [r#"read on line 4 of key "k" is missing "x" appended on line 2 before it began"#]
        );
        assert!(messages(0).is_empty());
    }

    #[test]
    fn jepsen_pairs_name_the_key() {
        let text = r#"{"type":"invoke","f":"append","value":["k","x"],"process":0}
{"type":"ok","f":"append","value":["k","x"],"process":0}
{"type":"invoke","f":"read","value":["k",null],"process":1}
{"type":"ok","f":"read","value":["k",""],"process":1}
"#;
        assert_eq!(
            messages(&diagnose(&kv(r#""""#), text)),
            [r#"read on line 4 of key "k" is missing "x" appended on line 2 before it began"#]
        );
    }
}
