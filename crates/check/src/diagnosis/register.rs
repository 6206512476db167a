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

use super::{finish, line, listing, may_apply, ok_at, show, Diagnosis, DiagnosisKind, Finding};

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
    finish(findings(&model.init, &parsed, None))
}

/// A register operation with the recorded operation it came from.
pub(crate) struct RegOp<'a> {
    pub op: &'a Operation,
    pub reg: RegisterOp,
}

impl RegOp<'_> {
    /// The value it leaves in the register, if it writes.
    fn written(&self) -> Option<&Value> {
        match &self.reg {
            RegisterOp::Write(v) | RegisterOp::Cas(_, v) => Some(v),
            RegisterOp::Read(_) => None,
        }
    }

    /// The value it saw, if it completed `ok` and reads.
    fn observed(&self) -> Option<&Value> {
        match &self.reg {
            _ if ok_at(self.op).is_none() => None,
            RegisterOp::Read(v) | RegisterOp::Cas(v, _) => Some(v),
            RegisterOp::Write(_) => None,
        }
    }

    /// "write 112", "put \"x\"", "cas from 3 to 112".
    fn describe_write(&self) -> String {
        match &self.reg {
            RegisterOp::Cas(expected, new) => {
                format!("cas from {} to {}", show(expected), show(new))
            }
            RegisterOp::Write(v) | RegisterOp::Read(v) => format!("{} {}", self.op.f, show(v)),
        }
    }
}

/// The stale and phantom reads among `ops`, all of one register (of `key`, for a map).
pub(crate) fn findings(init: &Value, ops: &[RegOp], key: Option<&Value>) -> Vec<Finding> {
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
        let subject = match &read.reg {
            RegisterOp::Cas(expected, new) => format!(
                "cas from {} to {} succeeded on line {}{of_key}",
                show(expected),
                show(new),
                line(read.op)
            ),
            _ => format!("read {} on line {}{of_key}", show(seen), line(read.op)),
        };
        let noun = match read.reg {
            RegisterOp::Cas(..) => "cas",
            _ => "read",
        };
        let writers = explanations.before(seen, returned, read.op);
        if writers.count == 0 && seen != init {
            phantom.push(phantom_read(&subject, seen, read, ops));
            continue;
        }
        // Every write of `seen` begun before the read returned completed `ok` before some
        // write of another value began; the latest of them is ruled out by the earliest such
        // write, which then rules out all the others, and the initial value too.
        let (latest, overwrite) = if writers.count == 0 {
            (None, overwrites.first_after(None, seen))
        } else if writers.all_ruled_out {
            (writers.latest, writers.latest.and_then(|w| w.overwrite))
        } else {
            continue;
        };
        let Some(overwrite) = overwrite else { continue };
        let Some(overwritten) = ok_at(overwrite.op).filter(|&done| done < read.op.invoked_at)
        else {
            continue;
        };
        let before = match latest {
            None => format!(
                "and {v} was only the initial value: nothing else wrote {v} before the {noun} returned",
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
        let mut named = vec![read.op, overwrite.op];
        named.extend(latest.map(|w| w.write.op));
        stale.push((
            read.op.invoked_at - overwritten,
            Finding::new(
                DiagnosisKind::StaleRead,
                format!(
                    "stale read: {subject}, but {} completed on line {} before the {noun} began, {before}",
                    overwrite.describe_write(),
                    line(overwrite.op)
                ),
                line(read.op),
                "stale reads",
                &named,
                &[],
            ),
        ));
    }
    stale.sort_by_key(|(gap, f)| (Reverse(*gap), f.at));
    stale.into_iter().map(|(_, f)| f).chain(phantom).collect()
}

/// A read of a value no write could have left by the time it returned.
fn phantom_read(subject: &str, seen: &Value, read: &RegOp, ops: &[RegOp]) -> Finding {
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
        let lines: Vec<usize> = others.iter().map(|op| op.invoke_line).collect();
        format!(
            "every {other}write of {} failed or began after it returned (lines {})",
            show(seen),
            listing(&lines)
        )
    };
    let named: Vec<&Operation> = std::iter::once(read.op)
        .chain(others.iter().copied().take(8))
        .collect();
    Finding::new(
        DiagnosisKind::PhantomElement,
        format!("{subject}, but {why}"),
        line(read.op),
        "reads of values nothing wrote",
        &named,
        &[],
    )
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
