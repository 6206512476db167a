//! Register findings: stale reads, and reads of values nothing wrote.
//!
//! A read (or a successful cas, which reads its expected value) of `v` is explained only by the
//! last write before it having written `v`, or by no write before it and an initial `v`. Each
//! write of `v` that may come before the read (it did not fail and began before the read
//! returned) is ruled out as that last write if it completed `ok` and another write, of another
//! value, began after it completed and completed `ok` before the read began; an indeterminate
//! one is never ruled out. The initial value is ruled out by any write of another value that
//! completed before the read began. When every explanation is ruled out, the read is stale;
//! when there is none to rule out, it read a value nothing wrote.

use std::cmp::Reverse;
use std::collections::HashMap;

use photofinish_history::{Operation, Value};

use crate::model::{Model, Prepared};
use crate::models::{Register, RegisterOp};

use super::{
    finish, line, lines, listing, may_apply, ok_at, show, Diagnosis, DiagnosisKind, Finding,
    MAX_LISTED,
};

/// The findings of a `register` or `cas-register`.
pub(crate) fn diagnose(model: &Register, ops: &[&Operation]) -> Vec<Diagnosis> {
    let mut parsed = Vec::new();
    for &op in ops {
        match model.prepare(op) {
            Ok(Prepared::Op { op: reg, .. }) => parsed.push(RegOp { op, reg }),
            Ok(Prepared::Skip) => {}
            Err(_) => return Vec::new(),
        }
    }
    // A Jepsen independent history, split by key: name the key.
    let key = ops.first().and_then(|op| op.key.as_ref());
    let key = key.filter(|k| ops.iter().all(|op| op.key.as_ref() == Some(*k)));
    finish(findings(&model.init, &parsed, key))
}

/// A register operation with the recorded operation it came from.
pub(crate) struct RegOp<'a> {
    pub op: &'a Operation,
    pub reg: RegisterOp,
}

impl RegOp<'_> {
    /// The value it leaves in the register, if it writes.
    fn written(&self) -> Option<&Value> {
        self.reg.written()
    }

    /// The value it saw, if it completed `ok` and reads.
    fn observed(&self) -> Option<&Value> {
        match &self.reg {
            _ if ok_at(self.op).is_none() => None,
            reg => reg.needed(),
        }
    }

    /// "write 112", "put \"x\"", "cas from 3 to 112".
    fn describe_write(&self) -> String {
        match &self.reg {
            RegisterOp::Cas(cas) => {
                format!("cas from {} to {}", show(&cas.expected), show(&cas.new))
            }
            RegisterOp::Write(v) | RegisterOp::Read(v) => format!("{} {}", self.op.f, show(v)),
        }
    }
}

/// The stale and phantom reads among `ops`, all of one register (of `key`, for a map).
pub(crate) fn findings<'a>(
    init: &Value,
    ops: &'a [RegOp<'a>],
    key: Option<&Value>,
) -> Vec<Finding<'a>> {
    let writes: Vec<&RegOp> = ops
        .iter()
        .filter(|o| o.written().is_some() && may_apply(o.op))
        .collect();
    let overwrites = Overwrites::new(&writes);
    let explanations = Explanations::new(&writes, &overwrites);
    let of_key = key.map_or(String::new(), |k| format!(" of key {}", show(k)));
    let mut stale = Vec::new();
    let mut phantom = Vec::new();
    for read in ops {
        let (Some(seen), Some(returned)) = (read.observed(), ok_at(read.op)) else {
            continue;
        };
        let reader = Reader {
            read,
            seen,
            subject: match &read.reg {
                RegisterOp::Cas(cas) => format!(
                    "cas from {} to {} succeeded on line {}{of_key}",
                    show(&cas.expected),
                    show(&cas.new),
                    line(read.op)
                ),
                _ => format!("read {} on line {}{of_key}", show(seen), line(read.op)),
            },
            noun: match read.reg {
                RegisterOp::Cas(..) => "cas",
                _ => "read",
            },
        };
        let writers = explanations.before(seen, returned, read.op);
        if writers.count == 0 && seen != init {
            phantom.push(reader.phantom(ops));
        } else if let Some(finding) = reader.stale(&writers, &overwrites) {
            stale.push(finding);
        }
    }
    stale.sort_by_key(|(gap, f)| (Reverse(*gap), f.at));
    stale.into_iter().map(|(_, f)| f).chain(phantom).collect()
}

/// An `ok` operation that saw a value: a read, or a successful cas.
struct Reader<'a> {
    read: &'a RegOp<'a>,
    seen: &'a Value,
    /// "read 58 on line 211", "cas from 0 to 5 succeeded on line 4".
    subject: String,
    noun: &'static str,
}

impl<'a> Reader<'a> {
    /// A stale read, with how many events passed between the overwrite and the read, if every
    /// write of the value seen (and the initial value) is ruled out.
    fn stale(
        &self,
        writers: &Writers<'a>,
        overwrites: &Overwrites<'a>,
    ) -> Option<(u64, Finding<'a>)> {
        let (seen, noun) = (self.seen, self.noun);
        // Every write of `seen` begun before the read returned completed `ok` before some
        // write of another value began; the latest of them is ruled out by the earliest such
        // write, which then rules out all the others, and the initial value too.
        let (latest, overwrite) = if writers.count == 0 {
            (None, overwrites.first_after(None, seen)?)
        } else if writers.all_ruled_out {
            let latest = writers.latest?;
            (Some(latest), latest.overwrite?)
        } else {
            return None;
        };
        let overwritten = ok_at(overwrite.op).filter(|&done| done < self.read.op.invoked_at)?;
        let before = match latest {
            None => format!(
                "and {v} was only the initial value: nothing else wrote {v} before the {noun} \
                 returned",
                v = show(seen)
            ),
            Some(w) if writers.count == 1 => format!(
                "and began only after {} had completed on line {}",
                w.write.describe_write(),
                line(w.write.op)
            ),
            Some(w) => format!(
                "and began only after every write of {} begun before the {noun} returned had \
                 completed (the last on line {})",
                show(seen),
                line(w.write.op)
            ),
        };
        let mut named = vec![self.read.op, overwrite.op];
        named.extend(latest.map(|w| w.write.op));
        let finding = Finding::new(
            DiagnosisKind::StaleRead,
            format!(
                "stale read: {}, but {} completed on line {} before the {noun} began, {before}",
                self.subject,
                overwrite.describe_write(),
                line(overwrite.op)
            ),
            line(self.read.op),
            "stale reads",
            &named,
            &[],
        );
        Some((self.read.op.invoked_at - overwritten, finding))
    }

    /// A read of a value no write could have left by the time it returned.
    fn phantom(self, ops: &'a [RegOp<'a>]) -> Finding<'a> {
        let at = line(self.read.op);
        Finding::later(
            DiagnosisKind::PhantomElement,
            at,
            "reads of values nothing wrote",
            move || {
                let (read, seen) = (self.read, self.seen);
                let others: Vec<&Operation> = ops
                    .iter()
                    .filter(|o| o.written() == Some(seen) && !std::ptr::eq(o.op, read.op))
                    .map(|o| o.op)
                    .collect();
                let other = if read.written() == Some(seen) {
                    "other "
                } else {
                    ""
                };
                let why = if others.is_empty() {
                    format!("no {other}operation wrote {}", show(seen))
                } else {
                    let begun: Vec<usize> = others.iter().map(|op| op.invoke_line).collect();
                    let noun = if begun.len() == 1 { "line" } else { "lines" };
                    format!(
                        "every {other}write of {} failed or began after it returned ({noun} {})",
                        show(seen),
                        listing(&begun)
                    )
                };
                let named: Vec<&Operation> = std::iter::once(read.op)
                    .chain(others.iter().copied().take(MAX_LISTED))
                    .collect();
                (format!("{}, but {why}", self.subject), lines(&named, &[]))
            },
        )
    }
}

/// The `ok` writes by invocation, with, for each suffix, the two earliest-completing of
/// distinct values: enough to find the first write of a value other than `v` that began after
/// a given moment.
struct Overwrites<'a> {
    invocations: Vec<u64>,
    earliest: Vec<[Option<&'a RegOp<'a>>; 2]>,
}

impl<'a> Overwrites<'a> {
    fn new(writes: &[&'a RegOp<'a>]) -> Overwrites<'a> {
        let mut ok: Vec<&RegOp> = writes
            .iter()
            .copied()
            .filter(|w| ok_at(w.op).is_some())
            .collect();
        ok.sort_by_key(|w| w.op.invoked_at);
        let mut earliest = vec![[None, None]; ok.len() + 1];
        for i in (0..ok.len()).rev() {
            let mut best: Vec<&RegOp> = earliest[i + 1].iter().flatten().copied().collect();
            match best.iter_mut().find(|b| b.written() == ok[i].written()) {
                Some(same) if same.op.completed_at > ok[i].op.completed_at => *same = ok[i],
                Some(_) => {}
                None => best.push(ok[i]),
            }
            best.sort_by_key(|b| b.op.completed_at);
            earliest[i] = [best.first().copied(), best.get(1).copied()];
        }
        Overwrites {
            invocations: ok.iter().map(|w| w.op.invoked_at).collect(),
            earliest,
        }
    }

    /// The `ok` write of a value other than `value`, invoked after event `after` (or at any
    /// time), that completed first.
    fn first_after(&self, after: Option<u64>, value: &Value) -> Option<&'a RegOp<'a>> {
        let from = after.map_or(0, |at| self.invocations.partition_point(|&i| i <= at));
        self.earliest[from]
            .iter()
            .flatten()
            .copied()
            .find(|w| w.written() != Some(value))
    }
}

/// A write that may explain reads of its value, with the write that rules it out, if any.
#[derive(Clone, Copy)]
struct Explanation<'a> {
    write: &'a RegOp<'a>,
    /// The first-completing `ok` write of another value invoked after this one completed;
    /// `None` for an indeterminate write, which may take effect at any time.
    overwrite: Option<&'a RegOp<'a>>,
}

/// What the writes of one value begun before some moment add up to.
#[derive(Clone, Copy, Default)]
struct Writers<'a> {
    count: usize,
    /// Whether every one of them is ruled out.
    all_ruled_out: bool,
    /// The one that completed last.
    latest: Option<Explanation<'a>>,
}

impl<'a> Writers<'a> {
    fn none() -> Writers<'a> {
        Writers {
            count: 0,
            all_ruled_out: true,
            latest: None,
        }
    }

    fn plus(self, e: Explanation<'a>) -> Writers<'a> {
        let later = self
            .latest
            .is_none_or(|l| l.write.op.completed_at < e.write.op.completed_at);
        Writers {
            count: self.count + 1,
            all_ruled_out: self.all_ruled_out && e.overwrite.is_some(),
            latest: if later { Some(e) } else { self.latest },
        }
    }
}

/// Every write that did not fail, grouped by the value written, by invocation, with what each
/// prefix of them adds up to.
struct Explanations<'a> {
    by_value: HashMap<&'a Value, (Vec<Explanation<'a>>, Vec<Writers<'a>>)>,
}

impl<'a> Explanations<'a> {
    fn new(writes: &[&'a RegOp<'a>], overwrites: &Overwrites<'a>) -> Explanations<'a> {
        let mut lists: HashMap<&Value, Vec<Explanation>> = HashMap::new();
        for &write in writes {
            let Some(value) = write.written() else {
                continue;
            };
            let overwrite =
                ok_at(write.op).and_then(|done| overwrites.first_after(Some(done), value));
            lists
                .entry(value)
                .or_default()
                .push(Explanation { write, overwrite });
        }
        let by_value = lists
            .into_iter()
            .map(|(value, mut list)| {
                list.sort_by_key(|e| e.write.op.invoked_at);
                let mut prefixes = vec![Writers::none()];
                for &e in &list {
                    let next = prefixes[prefixes.len() - 1].plus(e);
                    prefixes.push(next);
                }
                (value, (list, prefixes))
            })
            .collect();
        Explanations { by_value }
    }

    /// The writes of `value` begun before event `returned`, other than `read` itself.
    fn before(&self, value: &Value, returned: u64, read: &Operation) -> Writers<'a> {
        let Some((list, prefixes)) = self.by_value.get(value) else {
            return Writers::none();
        };
        let begun = list.partition_point(|e| e.write.op.invoked_at < returned);
        if list[..begun].iter().any(|e| std::ptr::eq(e.write.op, read)) {
            // A cas that writes the value it expects: it cannot explain itself.
            return list[..begun]
                .iter()
                .filter(|e| !std::ptr::eq(e.write.op, read))
                .fold(Writers::none(), |w, &e| w.plus(e));
        }
        prefixes[begun]
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{diagnose, event, messages, ok};
    use super::*;
    use crate::model::NilReads;
    use photofinish_history::read_str;

    fn register(init: &str) -> Register {
        let init = Value::from_json_str(init).unwrap();
        let nil_reads = NilReads::infer(&init, &[], false);
        Register::new(init, false, nil_reads)
    }

    fn cas_register(init: &str) -> Register {
        Register::new(Value::from_json_str(init).unwrap(), true, NilReads::Unknown)
    }

    fn write(process: i64, v: &str) -> String {
        ok(process, "write", v, v)
    }

    fn read(process: i64, v: &str) -> String {
        ok(process, "read", "null", v)
    }

    #[test]
    fn a_read_of_an_overwritten_value_is_stale() {
        let text = [write(0, "58"), write(0, "112"), read(1, "58")].concat();
        let diagnosis = diagnose(&register("null"), &text);
        assert_eq!(
            messages(&diagnosis),
            [
                "stale read: read 58 on line 6, but write 112 completed on line 4 before the read \
              began, and began only after write 58 had completed on line 2"
            ]
        );
        assert_eq!(diagnosis[0].kind, DiagnosisKind::StaleRead);
        assert_eq!(diagnosis[0].lines, vec![1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn a_write_that_may_land_late_explains_the_read() {
        // The write of 112 is concurrent with the read.
        let text = [
            write(0, "58"),
            event("invoke", 0, "write", "112"),
            read(1, "58"),
            event("ok", 0, "write", "112"),
        ]
        .concat();
        assert!(diagnose(&register("null"), &text).is_empty());
        // The write of 58 timed out or never completed: it may take effect after 112.
        for ending in [event("info", 2, "write", "58"), String::new()] {
            let text = [
                event("invoke", 2, "write", "58"),
                ending,
                write(0, "112"),
                read(1, "58"),
            ]
            .concat();
            assert!(diagnose(&register("null"), &text).is_empty());
        }
    }

    #[test]
    fn every_write_of_a_repeated_value_must_be_overwritten() {
        let text = [
            write(0, "1"),
            write(0, "2"),
            write(0, "1"),
            write(0, "3"),
            read(1, "1"),
        ]
        .concat();
        assert_eq!(
            messages(&diagnose(&register("null"), &text)),
            [
                "stale read: read 1 on line 10, but write 3 completed on line 8 before the read \
              began, and began only after every write of 1 begun before the read returned had \
              completed (the last on line 6)"
            ]
        );
        // Overwritten once, then written again: fine.
        let text = [write(0, "1"), write(0, "2"), write(0, "1"), read(1, "1")].concat();
        assert!(diagnose(&register("null"), &text).is_empty());
    }

    #[test]
    fn the_initial_value_once_overwritten_is_stale() {
        let text = [write(0, "2"), read(1, "0")].concat();
        assert_eq!(
            messages(&diagnose(&register("0"), &text)),
            [
                "stale read: read 0 on line 4, but write 2 completed on line 2 before the read \
              began, and 0 was only the initial value: nothing else wrote 0 before the read \
              returned"
            ]
        );
    }

    #[test]
    fn a_successful_cas_reads_its_expected_value() {
        let text = [write(0, "1"), ok(1, "cas", "[0,5]", "[0,5]")].concat();
        let diagnosis = diagnose(&cas_register("0"), &text);
        assert_eq!(
            messages(&diagnosis),
            [
                "stale read: cas from 0 to 5 succeeded on line 4, but write 1 completed on line 2 \
              before the cas began, and 0 was only the initial value: nothing else wrote 0 \
              before the cas returned"
            ]
        );
        // A cas can overwrite too; a failed one did nothing.
        let text = [
            ok(0, "cas", "[0,7]", "[0,7]"),
            event("invoke", 2, "cas", "[7,0]"),
            event("fail", 2, "cas", "[7,0]"),
            read(1, "0"),
        ]
        .concat();
        assert_eq!(
            messages(&diagnose(&cas_register("0"), &text)),
            [
                "stale read: read 0 on line 6, but cas from 0 to 7 completed on line 2 before the \
              read began, and 0 was only the initial value: nothing else wrote 0 before the read \
              returned"
            ]
        );
    }

    #[test]
    fn a_value_nothing_wrote() {
        let diagnosis = diagnose(&register("null"), &[write(0, "1"), read(1, "9")].concat());
        assert_eq!(
            messages(&diagnosis),
            ["read 9 on line 4, but no operation wrote 9"]
        );
        assert_eq!(diagnosis[0].kind, DiagnosisKind::PhantomElement);
        let text = [
            event("invoke", 2, "write", "9"),
            event("fail", 2, "write", "9"),
            read(1, "9"),
            write(0, "9"),
        ]
        .concat();
        let diagnosis = diagnose(&register("null"), &text);
        assert_eq!(
            messages(&diagnosis),
            ["read 9 on line 4, but every write of 9 failed or began after it returned (lines 1, 5)"]
        );
        assert_eq!(diagnosis[0].lines, vec![1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn unknown_nil_reads_say_nothing() {
        // Knossos' histories say nil when the client did not learn the value.
        let text = [write(0, "1"), read(1, "null")].concat();
        assert!(diagnose(&cas_register("0"), &text).is_empty());
    }

    #[test]
    fn messages_escape_what_the_history_says() {
        let text = [write(0, "\"a\\u001b[2Jb\""), read(1, "\"\\u009b31m\"")].concat();
        let history = read_str(&text, "t", None).unwrap();
        let ops: Vec<&Operation> = history.operations.iter().collect();
        let diagnosis = register("null").diagnose(&ops);
        assert_eq!(
            messages(&diagnosis),
            ["read \"\\u009b31m\" on line 4, but no operation wrote \"\\u009b31m\""]
        );
    }
}
