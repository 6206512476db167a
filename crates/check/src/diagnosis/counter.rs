//! Counter findings: reads below every total the adds before them allow (lost increments),
//! reads above every total possible, and reads that went backwards.
//!
//! For an `ok` read, the adds that completed `ok` before it began surely counted; the adds that
//! did not fail and began before it returned may have; no other add can have. So the value read
//! is at least the initial value plus the first and every negative one of the second, and at
//! most the initial value plus the first and every positive one of the second. Amounts are
//! exact decimals.

use std::cmp::Reverse;

use photofinish_history::{Operation, Outcome, Value};

use super::{
    count, finish, line, lines, may_apply, ok_at, precedes, Diagnosis, DiagnosisKind, Finding,
};
use crate::decimal::{format_units, Decimal};

/// The findings of a counter that started at `init` (an integer or a decimal).
pub(crate) fn diagnose(init: &Value, ops: &[&Operation]) -> Vec<Diagnosis> {
    let Some(counter) = Counter::new(init, ops) else {
        return Vec::new();
    };
    counter.findings().map(finish).unwrap_or_default()
}

/// An add that may have taken effect, or an `ok` read, with its amount in units of the
/// counter's scale.
#[derive(Clone, Copy)]
struct Amount<'a> {
    op: &'a Operation,
    units: i128,
}

/// A partition's counter operations, every amount an integer count of 10^-scale.
struct Counter<'a> {
    scale: u32,
    init: i128,
    /// Adds that did not fail, by invocation.
    adds: Vec<Amount<'a>>,
    /// Reads that completed `ok` with a value.
    reads: Vec<Amount<'a>>,
}

impl<'a> Counter<'a> {
    /// `None` when some amount is not a number the counter model accepts, or too precise to be
    /// added exactly: then nothing is said.
    fn new(init: &Value, ops: &[&'a Operation]) -> Option<Counter<'a>> {
        let init = Decimal::parse(init)?;
        let mut adds = Vec::new();
        let mut reads = Vec::new();
        for &op in ops {
            match op.f.as_str() {
                "add" | "incr" | "increment" if may_apply(op) => {
                    let amount = if op.value.is_null() {
                        Decimal {
                            mantissa: 1,
                            scale: 0,
                        }
                    } else {
                        Decimal::parse(&op.value)?
                    };
                    adds.push((op, amount));
                }
                "read" if op.outcome == Outcome::Ok && !op.result.is_null() => {
                    reads.push((op, Decimal::parse(&op.result)?));
                }
                _ => {}
            }
        }
        let scale = adds
            .iter()
            .chain(&reads)
            .map(|(_, d)| d.scale)
            .chain([init.scale])
            .max()
            .unwrap_or(0);
        let in_units = |list: Vec<(&'a Operation, Decimal)>| {
            list.into_iter()
                .map(|(op, d)| {
                    Some(Amount {
                        op,
                        units: d.units_at(scale)?,
                    })
                })
                .collect::<Option<Vec<_>>>()
        };
        let mut adds = in_units(adds)?;
        adds.sort_by_key(|a| a.op.invoked_at);
        Some(Counter {
            scale,
            init: init.units_at(scale)?,
            adds,
            reads: in_units(reads)?,
        })
    }

    fn show(&self, units: i128) -> String {
        format_units(units, self.scale)
    }

    /// Every finding, each kind's most telling first; `None` if a sum overflows.
    fn findings(&self) -> Option<Vec<Finding<'_>>> {
        let sums = Sums::new(&self.adds, 10i128.checked_pow(self.scale)?)?;
        let mut lost = Vec::new();
        let mut above = Vec::new();
        let mut lost_reads = Vec::new();
        for read in &self.reads {
            let began = read.op.invoked_at;
            let returned = ok_at(read.op)?;
            let surely = sums.completed_before(began);
            let maybe = sums.begun_before(returned);
            // Negative adds that may have counted: begun before the read returned, not surely
            // counted already.
            let maybe_negative = maybe.negative.checked_sub(surely.negative)?;
            let lowest = self
                .init
                .checked_add(surely.total)?
                .checked_add(maybe_negative)?;
            let highest = self
                .init
                .checked_add(surely.negative)?
                .checked_add(maybe.positive)?;
            if read.units < lowest {
                let loss = lowest - read.units;
                lost.push((loss, self.lost(read, &surely, maybe_negative, loss)?));
                lost_reads.push(read.op.id);
            } else if read.units > highest {
                let excess = read.units - highest;
                above.push((excess, self.above(read, &maybe, highest, excess)));
            }
        }
        let mut findings = Vec::new();
        for mut group in [lost, self.backwards(&lost_reads), above] {
            group.sort_by_key(|(weight, finding)| (Reverse(*weight), finding.at));
            findings.extend(group.into_iter().map(|(_, f)| f));
        }
        Some(findings)
    }

    /// A read below every total possible: increments lost.
    fn lost<'s>(
        &'s self,
        read: &'s Amount,
        surely: &Counted,
        maybe_negative: i128,
        loss: i128,
    ) -> Option<Finding<'s>> {
        let mut because = if surely.count > 0 {
            let total = self.init.checked_add(surely.total)?;
            let initial = if self.init == 0 {
                String::new()
            } else {
                format!(", counting the initial {}", self.show(self.init))
            };
            format!(
                "{} completed before it began (total {}{initial})",
                count(surely.count, "add", "adds"),
                self.show(total)
            )
        } else {
            format!("the counter started at {}", self.show(self.init))
        };
        if maybe_negative < 0 {
            because.push_str(&format!(
                ", and the negative adds that may have counted by then subtract at most {}",
                self.show(-maybe_negative)
            ));
        }
        let one = 10i128.checked_pow(self.scale)?;
        // "Increments lost" only when the loss is a number of the unit adds surely counted.
        let increments = surely.ones == surely.count
            && maybe_negative == 0
            && loss % one == 0
            && loss / one <= i128::try_from(surely.count).ok()?;
        let lost = if increments {
            count(
                usize::try_from(loss / one).ok()?,
                "increment lost",
                "increments lost",
            )
        } else {
            format!("{} lost", self.show(loss))
        };
        let message = format!(
            "read {} on line {}, but {because}: at least {lost}",
            self.show(read.units),
            line(read.op)
        );
        Some(Finding::later(
            DiagnosisKind::LostUpdate,
            line(read.op),
            "reads that lost updates",
            move || {
                let mut counted: Vec<&Operation> = self
                    .adds
                    .iter()
                    .filter(|a| precedes(a.op, read.op))
                    .map(|a| a.op)
                    .collect();
                counted.sort_by_key(|op| Reverse(op.completed_at));
                (message, lines(&[read.op], &counted))
            },
        ))
    }

    /// A read above every total possible.
    fn above<'s>(
        &'s self,
        read: &'s Amount,
        maybe: &Counted,
        highest: i128,
        excess: i128,
    ) -> Finding<'s> {
        let initial = if self.init == 0 {
            String::new()
        } else {
            format!(", starting from {}", self.show(self.init))
        };
        let because = if maybe.count == 0 {
            format!(
                "no add had begun before it returned and the counter started at {}",
                self.show(self.init)
            )
        } else {
            format!(
                "the counter could be at most {} by then, whichever of the {} begun before it \
                 returned took effect{initial}",
                self.show(highest),
                count(maybe.count, "add", "adds"),
            )
        };
        let message = format!(
            "read {} on line {}, but {because}: {} more than possible",
            self.show(read.units),
            line(read.op),
            self.show(excess)
        );
        Finding::later(
            DiagnosisKind::Other,
            line(read.op),
            "reads above every possible total",
            move || {
                let mut begun: Vec<&Operation> = self
                    .adds
                    .iter()
                    .filter(|a| read.op.completed_at.is_some_and(|r| a.op.invoked_at < r))
                    .map(|a| a.op)
                    .collect();
                begun.sort_by_key(|op| Reverse(op.invoked_at));
                (message, lines(&[read.op], &begun))
            },
        )
    }

    /// Reads lower than a read that returned before they began, when no add can subtract.
    /// Reads already found below every possible total (`lost_reads`) are not repeated.
    fn backwards(&self, lost_reads: &[usize]) -> Vec<(i128, Finding<'static>)> {
        if self.adds.iter().any(|a| a.units < 0) {
            return Vec::new();
        }
        let mut by_return: Vec<&Amount> = self.reads.iter().collect();
        by_return.sort_by_key(|r| r.op.completed_at);
        let mut by_start: Vec<&Amount> = self.reads.iter().collect();
        by_start.sort_by_key(|r| r.op.invoked_at);
        let mut highest: Option<&Amount> = None;
        let mut returned = by_return.iter().peekable();
        let mut findings = Vec::new();
        for later in by_start {
            while let Some(earlier) =
                returned.next_if(|e| e.op.completed_at < Some(later.op.invoked_at))
            {
                if highest.is_none_or(|h| earlier.units > h.units) {
                    highest = Some(earlier);
                }
            }
            let Some(earlier) = highest else { continue };
            if earlier.units <= later.units || lost_reads.contains(&later.op.id) {
                continue;
            }
            let drop = earlier.units - later.units;
            findings.push((
                drop,
                Finding::new(
                    DiagnosisKind::StaleRead,
                    format!(
                        "stale read: read {} on line {}, but a read on line {} returned {} \
                         before it began, and no add subtracts: the counter went back by {}",
                        self.show(later.units),
                        line(later.op),
                        line(earlier.op),
                        self.show(earlier.units),
                        self.show(drop)
                    ),
                    line(later.op),
                    "reads that went backwards",
                    &[earlier.op, later.op],
                    &[],
                ),
            ));
        }
        findings
    }
}

/// Sums over a set of adds.
#[derive(Clone, Copy, Default)]
struct Counted {
    count: usize,
    /// Adds of exactly 1.
    ones: usize,
    total: i128,
    positive: i128,
    negative: i128,
}

impl Counted {
    fn plus(&self, units: i128, one: i128) -> Option<Counted> {
        Some(Counted {
            count: self.count + 1,
            ones: self.ones + usize::from(units == one),
            total: self.total.checked_add(units)?,
            positive: self.positive.checked_add(units.max(0))?,
            negative: self.negative.checked_add(units.min(0))?,
        })
    }
}

/// Prefix sums of the adds by completion (of the `ok` ones) and by invocation (of all).
struct Sums {
    completions: Vec<u64>,
    completed: Vec<Counted>,
    invocations: Vec<u64>,
    begun: Vec<Counted>,
}

impl Sums {
    /// `one` is 1 in the counter's units.
    fn new(adds: &[Amount], one: i128) -> Option<Sums> {
        let prefix = |mut list: Vec<(u64, i128)>| -> Option<(Vec<u64>, Vec<Counted>)> {
            list.sort_by_key(|(at, _)| *at);
            let mut sums = vec![Counted::default()];
            for &(_, units) in &list {
                let next = sums.last()?.plus(units, one)?;
                sums.push(next);
            }
            Some((list.into_iter().map(|(at, _)| at).collect(), sums))
        };
        let (completions, completed) = prefix(
            adds.iter()
                .filter_map(|a| Some((ok_at(a.op)?, a.units)))
                .collect(),
        )?;
        let (invocations, begun) =
            prefix(adds.iter().map(|a| (a.op.invoked_at, a.units)).collect())?;
        Some(Sums {
            completions,
            completed,
            invocations,
            begun,
        })
    }

    /// The adds that completed `ok` before event `at`.
    fn completed_before(&self, at: u64) -> Counted {
        self.completed[self.completions.partition_point(|&c| c < at)]
    }

    /// The adds (not failed) invoked before event `at`.
    fn begun_before(&self, at: u64) -> Counted {
        self.begun[self.invocations.partition_point(|&i| i < at)]
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{diagnose, messages, ok};
    use super::*;
    use crate::models::Counter as CounterModel;

    fn diagnose_text(init: i64, text: &str) -> Vec<Diagnosis> {
        diagnose(&CounterModel::new(init), text)
    }

    fn add(process: i64, amount: &str) -> String {
        ok(process, "add", amount, amount)
    }

    fn read(process: i64, seen: &str) -> String {
        ok(process, "read", "null", seen)
    }

    #[test]
    fn a_read_below_the_acknowledged_adds_lost_increments() {
        let text = add(0, "1").repeat(10) + &read(1, "3");
        let diagnosis = diagnose_text(0, &text);
        assert_eq!(
            messages(&diagnosis),
            [
                "read 3 on line 22, but 10 adds completed before it began (total 10): at least 7 \
              increments lost"
            ]
        );
        assert_eq!(diagnosis[0].kind, DiagnosisKind::LostUpdate);
        assert_eq!(diagnosis[0].lines, (1..=22).collect::<Vec<_>>());
    }

    #[test]
    fn only_the_adds_nearest_the_read_are_listed_when_there_are_many() {
        let text = add(0, "1").repeat(100) + &read(1, "3");
        let diagnosis = diagnose_text(0, &text);
        assert_eq!(diagnosis[0].lines, (163..=202).collect::<Vec<_>>());
        assert!(diagnosis[0]
            .message
            .ends_with("at least 97 increments lost"));
    }

    #[test]
    fn adds_concurrent_with_the_read_prove_nothing() {
        let text = r#"{"type":"invoke","f":"add","value":1,"process":0}
{"type":"invoke","f":"read","value":null,"process":1}
{"type":"ok","f":"add","value":1,"process":0}
{"type":"ok","f":"read","value":0,"process":1}
"#;
        assert!(diagnose_text(0, text).is_empty());
    }

    /// An `ok` add, an `info` one and one that never completes, then a read of `seen`.
    fn indeterminate_adds(seen: i64) -> String {
        format!(
            r#"{{"type":"invoke","f":"add","value":1,"process":0}}
{{"type":"ok","f":"add","value":1,"process":0}}
{{"type":"invoke","f":"add","value":1,"process":1}}
{{"type":"info","f":"add","value":1,"process":1}}
{{"type":"invoke","f":"incr","value":null,"process":2}}
{{"type":"invoke","f":"read","value":null,"process":3}}
{{"type":"ok","f":"read","value":{seen},"process":3}}
"#
        )
    }

    #[test]
    fn indeterminate_adds_may_or_may_not_have_counted() {
        for seen in 1..=3 {
            assert!(diagnose_text(0, &indeterminate_adds(seen)).is_empty());
        }
        let below = diagnose_text(0, &indeterminate_adds(0));
        assert_eq!(
            messages(&below),
            [
                "read 0 on line 7, but 1 add completed before it began (total 1): at least 1 \
              increment lost"
            ]
        );
        assert_eq!(below[0].lines, vec![1, 2, 6, 7]);
        let above = diagnose_text(0, &indeterminate_adds(4));
        assert_eq!(
            messages(&above),
            [
                "read 4 on line 7, but the counter could be at most 3 by then, whichever of the 3 \
              adds begun before it returned took effect: 1 more than possible"
            ]
        );
        assert_eq!(above[0].kind, DiagnosisKind::Other);
        assert_eq!(above[0].lines, vec![1, 2, 3, 4, 5, 6, 7]);
    }

    #[test]
    fn failed_adds_never_counted() {
        let text = r#"{"type":"invoke","f":"add","value":5,"process":0}
{"type":"fail","f":"add","value":5,"process":0}
{"type":"invoke","f":"read","value":null,"process":0}
{"type":"ok","f":"read","value":5,"process":0}
"#;
        assert_eq!(
            messages(&diagnose_text(0, text)),
            [
                "read 5 on line 4, but no add had begun before it returned and the counter \
              started at 0: 5 more than possible"
            ]
        );
    }

    #[test]
    fn decimal_adds_are_exact() {
        let adds = add(0, "0.35").repeat(100);
        for exact in ["35", "35.0", "35.00"] {
            assert!(
                diagnose_text(0, &(adds.clone() + &read(1, exact))).is_empty(),
                "{exact}"
            );
        }
        assert_eq!(
            messages(&diagnose_text(0, &(adds.clone() + &read(1, "34.65")))),
            [
                "read 34.65 on line 202, but 100 adds completed before it began (total 35): at \
              least 0.35 lost"
            ]
        );
        assert_eq!(
            messages(&diagnose_text(0, &(adds + &read(1, "34.3")))),
            [
                "read 34.3 on line 202, but 100 adds completed before it began (total 35): at \
              least 0.7 lost"
            ]
        );
    }

    #[test]
    fn negative_adds_that_may_have_counted_lower_the_bound() {
        let text = |seen: i64| {
            format!(
                r#"{{"type":"invoke","f":"add","value":5,"process":0}}
{{"type":"ok","f":"add","value":5,"process":0}}
{{"type":"invoke","f":"add","value":-2,"process":1}}
{{"type":"info","f":"add","value":-2,"process":1}}
{{"type":"invoke","f":"read","value":null,"process":0}}
{{"type":"ok","f":"read","value":{seen},"process":0}}
"#
            )
        };
        assert!(diagnose_text(0, &text(3)).is_empty());
        assert_eq!(
            messages(&diagnose_text(0, &text(2))),
            ["read 2 on line 6, but 1 add completed before it began (total 5), and the negative \
              adds that may have counted by then subtract at most 2: at least 1 lost"]
        );
    }

    #[test]
    fn the_initial_value_counts() {
        assert_eq!(
            messages(&diagnose_text(10, &(add(0, "1") + &read(1, "10")))),
            [
                "read 10 on line 4, but 1 add completed before it began (total 11, counting the \
              initial 10): at least 1 increment lost"
            ]
        );
        assert_eq!(
            messages(&diagnose_text(10, &(add(0, "1") + &read(1, "5")))),
            [
                "read 5 on line 4, but 1 add completed before it began (total 11, counting the \
              initial 10): at least 6 lost"
            ]
        );
        assert_eq!(
            messages(&diagnose_text(10, &read(1, "5"))),
            ["read 5 on line 2, but the counter started at 10: at least 5 lost"]
        );
    }

    #[test]
    fn a_counter_that_only_grows_cannot_go_back() {
        let text = |amount: i64| {
            format!(
                r#"{{"type":"invoke","f":"add","value":{amount},"process":0}}
{{"type":"invoke","f":"read","value":null,"process":1}}
{{"type":"ok","f":"read","value":{amount},"process":1}}
{{"type":"invoke","f":"read","value":null,"process":1}}
{{"type":"ok","f":"read","value":0,"process":1}}
"#
            )
        };
        let diagnosis = diagnose_text(0, &text(1));
        assert_eq!(
            messages(&diagnosis),
            ["stale read: read 0 on line 5, but a read on line 3 returned 1 before it began, and \
              no add subtracts: the counter went back by 1"]
        );
        assert_eq!(diagnosis[0].kind, DiagnosisKind::StaleRead);
        assert_eq!(diagnosis[0].lines, vec![2, 3, 4, 5]);
        // With a negative add about, a later read may be lower: nothing is said.
        assert!(diagnose_text(0, &(text(1) + &add(2, "-1"))).is_empty());
    }

    #[test]
    fn amounts_the_model_rejects_silence_the_diagnosis() {
        let text = add(0, "\"x\"") + &read(1, "0");
        assert!(diagnose_text(0, &text).is_empty());
    }
}
