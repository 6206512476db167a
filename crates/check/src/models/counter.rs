//! `counter`: add and read. Catches lost increments.
//!
//! Amounts may be decimals (`add 0.35`, as seed-style float accumulators write them) and are
//! added exactly: the state is an integer count of 10^-scale units, at one scale for the whole
//! history (the most decimal places any amount has), so 100 adds of 0.35 make exactly 35. A
//! float is taken as the decimal its shortest round-trip text spells, the number the client
//! wrote. A history of integers counts at scale 0, in plain integers.

use photofinish_history::{History, Operation, Outcome, Value};

use crate::decimal::{format_units, Decimal, NotDecimal};
use crate::diagnosis::{self, Diagnosis};
use crate::model::{CounterAccess, Model, Prepared};
use crate::CheckError;

/// A counter starting at an initial value; `add n` adds `n` (1 when `n` is `null`), `read`
/// returns the total. Amounts are counted exactly in units of 10^-[`Counter::scale`].
///
/// ```
/// use photofinish_check::models::Counter;
/// use photofinish_check::{check, CheckOptions, Verdict};
/// use photofinish_history::{read_str, Value};
///
/// let adds = r#"{"type":"invoke","f":"add","value":0.35,"process":0}
/// {"type":"ok","f":"add","value":0.35,"process":0}
/// "#
/// .repeat(100);
/// let read = r#"{"type":"invoke","f":"read","value":null,"process":1}
/// {"type":"ok","f":"read","value":35.0,"process":1}
/// "#;
/// let history = read_str(&(adds + read), "floats", None).unwrap();
/// let counter = Counter::for_history(&Value::Int(0), &history).unwrap();
/// assert_eq!(counter.scale(), 2);
/// let report = check(&counter, &history, &CheckOptions::default()).unwrap();
/// assert_eq!(report.verdict, Verdict::Valid);
/// ```
#[derive(Clone, Debug)]
pub struct Counter {
    /// The initial value, in units.
    init: i128,
    scale: u32,
}

/// A counter operation, amounts in the counter's units.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CounterOp {
    Add(i128),
    Read(i128),
}

impl Counter {
    /// An integer counter starting at `init`.
    pub fn new(init: i64) -> Counter {
        Counter {
            init: i128::from(init),
            scale: 0,
        }
    }

    /// A counter starting at `init` (an integer or a decimal) that counts every amount in
    /// `history` exactly. Fails, naming the line, on an amount that is not a number or has more
    /// than 18 decimal places, and when the amounts could add up to more than 128 bits hold.
    pub fn for_history(init: &Value, history: &History) -> Result<Counter, CheckError> {
        let bad_init =
            |why: NotDecimal| CheckError::BadInit(format!("counter's --init {why}, found {init}"));
        let init = Decimal::of_number(init).map_err(bad_init)?;
        let amounts: Vec<(Amount, Decimal)> = history
            .operations
            .iter()
            .filter_map(|op| Amount::of(op).transpose())
            .map(|amount| {
                let amount = amount?;
                Ok((amount, amount.decimal()?))
            })
            .collect::<Result<_, CheckError>>()?;
        let scale = amounts
            .iter()
            .map(|(_, d)| d.scale)
            .chain([init.scale])
            .max()
            .unwrap_or(0);
        let too_large = |line| CheckError::BadOperation {
            line,
            message: "the amounts are too large to add up exactly in 128 bits".to_string(),
        };
        let first_line = history.operations.first().map_or(1, |op| op.invoke_line);
        // Every sum the search can form is at most the sum of every amount's magnitude: when
        // that fits, no step overflows.
        let mut bound = init
            .units_at(scale)
            .map(i128::unsigned_abs)
            .ok_or_else(|| too_large(first_line))?;
        for (amount, decimal) in &amounts {
            bound = decimal
                .units_at(scale)
                .and_then(|units| bound.checked_add(units.unsigned_abs()))
                .filter(|&sum| i128::try_from(sum).is_ok())
                .ok_or_else(|| too_large(amount.line()))?;
        }
        Ok(Counter {
            init: init.units_at(scale).ok_or_else(|| too_large(first_line))?,
            scale,
        })
    }

    /// How many decimal places the counter counts: its unit is 10^-scale.
    pub fn scale(&self) -> u32 {
        self.scale
    }

    /// `value` in the counter's units.
    fn units(&self, what: &str, value: &Value) -> Result<i128, String> {
        let decimal = Decimal::of_number(value)
            .map_err(|why| format!("{what} {why}, found {}", shown(value)))?;
        decimal.units_at(self.scale).ok_or_else(|| {
            format!(
                "{what} {value} has more decimal places than the counter counts ({}): make it \
                 with Counter::for_history",
                self.scale
            )
        })
    }
}

/// A value a counter operation carries: an add's argument or an `ok` read's result.
#[derive(Clone, Copy)]
struct Amount<'a> {
    op: &'a Operation,
    /// Whether it is a read's result (on the completion line) rather than an add's argument.
    result: bool,
}

impl<'a> Amount<'a> {
    /// The amount `op` carries, if any; an error for an unknown `f`.
    fn of(op: &'a Operation) -> Result<Option<Amount<'a>>, CheckError> {
        match op.f.as_str() {
            "add" | "incr" | "increment" if !op.value.is_null() => {
                Ok(Some(Amount { op, result: false }))
            }
            "add" | "incr" | "increment" => Ok(None),
            "read" if op.outcome == Outcome::Ok && !op.result.is_null() => {
                Ok(Some(Amount { op, result: true }))
            }
            "read" => Ok(None),
            other => Err(CheckError::BadOperation {
                line: op.invoke_line,
                message: format!(
                    "unknown f `{other}`: expected add or read (in `{other}` by process {})",
                    op.process
                ),
            }),
        }
    }

    fn value(&self) -> &'a Value {
        if self.result {
            &self.op.result
        } else {
            &self.op.value
        }
    }

    /// The line that holds the value.
    fn line(&self) -> usize {
        match self.result {
            true => self.op.complete_line.unwrap_or(self.op.invoke_line),
            false => self.op.invoke_line,
        }
    }

    fn decimal(&self) -> Result<Decimal, CheckError> {
        Decimal::of_number(self.value()).map_err(|why| CheckError::BadOperation {
            line: self.line(),
            message: format!(
                "{} {why}, found {} (in `{}` by process {})",
                if self.result {
                    "read's result"
                } else {
                    "add's argument"
                },
                shown(self.value()),
                self.op.f,
                self.op.process
            ),
        })
    }
}

/// A value in an error message: its kind for what is not a number, the number itself otherwise.
fn shown(value: &Value) -> String {
    match value {
        Value::Int(_) | Value::BigInt(_) | Value::Float(_) => value.to_string(),
        other => other.kind().to_string(),
    }
}

impl Model for Counter {
    type State = i128;
    type Op = CounterOp;

    fn name(&self) -> &str {
        "counter"
    }

    fn init(&self) -> i128 {
        self.init
    }

    fn prepare(&self, op: &Operation) -> Result<Prepared<CounterOp>, String> {
        match op.f.as_str() {
            "add" | "incr" | "increment" => {
                let n = if op.value.is_null() {
                    10i128.pow(self.scale)
                } else {
                    self.units("add's argument", &op.value)?
                };
                Ok(Prepared::op(CounterOp::Add(n)))
            }
            "read" => match op.outcome {
                Outcome::Ok if !op.result.is_null() => Ok(Prepared::op(CounterOp::Read(
                    self.units("read's result", &op.result)?,
                ))),
                _ => Ok(Prepared::Skip),
            },
            other => Err(format!("unknown f `{other}`: expected add or read")),
        }
    }

    fn step(&self, state: &i128, op: &CounterOp) -> Option<i128> {
        match op {
            CounterOp::Add(n) => state.checked_add(*n),
            CounterOp::Read(v) => (v == state).then_some(*state),
        }
    }

    /// The total as the user wrote it: `35`, `0.35`, `1.05`.
    fn describe(&self, state: &i128) -> Value {
        let text = format_units(*state, self.scale);
        if let Some(integer) = Value::integer(&text) {
            return integer;
        }
        match text.parse::<f64>() {
            Ok(float) if format!("{float}") == text => {
                Value::Float(photofinish_history::Float(float))
            }
            // More digits than a float keeps: the exact text.
            _ => Value::Str(text),
        }
    }

    fn diagnose(&self, ops: &[&Operation]) -> Vec<Diagnosis> {
        diagnosis::counter(&self.describe(&self.init), ops)
    }

    fn read_only(&self, op: &CounterOp) -> bool {
        matches!(op, CounterOp::Read(_) | CounterOp::Add(0))
    }

    fn observed_state(&self, op: &CounterOp) -> Option<i128> {
        match op {
            CounterOp::Read(v) => Some(*v),
            CounterOp::Add(_) => None,
        }
    }

    /// Non-negative adds never decrease the counter.
    fn may_reach(&self, from: &i128, observation: &CounterOp) -> bool {
        match observation {
            CounterOp::Read(v) => from <= v,
            CounterOp::Add(_) => true,
        }
    }

    fn may_reset(&self, op: &CounterOp, _observation: &CounterOp) -> bool {
        matches!(op, CounterOp::Add(n) if *n < 0)
    }

    fn counter_access(&self, op: &CounterOp) -> Option<CounterAccess> {
        Some(match *op {
            CounterOp::Add(n) => CounterAccess::Add(n),
            CounterOp::Read(v) => CounterAccess::Read(v),
        })
    }

    fn counter_value(&self, state: &i128) -> Option<i128> {
        Some(*state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use photofinish_history::{read_str, Float, Format};

    fn history(text: &str) -> History {
        read_str(text, "test", Some(Format::JsonLines)).expect("a well-formed history")
    }

    fn ok(process: i64, f: &str, value: &str, result: &str) -> String {
        format!(
            "{{\"type\":\"invoke\",\"f\":\"{f}\",\"value\":{value},\"process\":{process}}}\n\
             {{\"type\":\"ok\",\"f\":\"{f}\",\"value\":{result},\"process\":{process}}}\n"
        )
    }

    fn error(text: &str) -> String {
        Counter::for_history(&Value::Int(0), &history(text))
            .expect_err("a bad amount")
            .to_string()
    }

    #[test]
    fn the_scale_is_the_most_places_of_any_amount() {
        let text =
            ok(0, "add", "1", "1") + &ok(0, "add", "0.5", "0.5") + &ok(1, "read", "null", "1.25");
        let counter = Counter::for_history(&Value::Int(0), &history(&text)).unwrap();
        assert_eq!(counter.scale(), 2);
        let integers = ok(0, "add", "1", "1") + &ok(0, "incr", "null", "null");
        assert_eq!(
            Counter::for_history(&Value::Int(3), &history(&integers))
                .unwrap()
                .scale(),
            0
        );
        let init = Value::Float(Float(0.125));
        assert_eq!(
            Counter::for_history(&init, &history(&integers))
                .unwrap()
                .scale(),
            3
        );
    }

    #[test]
    fn states_are_shown_as_the_user_wrote_them() {
        let counter = Counter { init: 0, scale: 2 };
        assert_eq!(counter.describe(&3500), Value::Int(35));
        assert_eq!(counter.describe(&35), Value::Float(Float(0.35)));
        assert_eq!(counter.describe(&105), Value::Float(Float(1.05)));
        assert_eq!(counter.describe(&-5), Value::Float(Float(-0.05)));
        let fine = Counter { init: 0, scale: 18 };
        assert_eq!(
            fine.describe(&123_456_789_012_345_678_901),
            Value::from("123.456789012345678901")
        );
        assert_eq!(Counter::new(7).describe(&7), Value::Int(7));
    }

    #[test]
    fn a_counter_made_for_fewer_places_says_so() {
        let h = history(&ok(0, "add", "0.35", "0.35"));
        assert_eq!(
            Counter::new(0).prepare(&h.operations[0]),
            Err(
                "add's argument 0.35 has more decimal places than the counter counts (0): make \
                 it with Counter::for_history"
                    .to_string()
            )
        );
    }

    #[test]
    fn an_increment_without_argument_is_one_whole_unit() {
        let counter = Counter { init: 0, scale: 2 };
        let text = ok(0, "incr", "null", "null");
        let h = history(&text);
        assert_eq!(
            counter.prepare(&h.operations[0]),
            Ok(Prepared::op(CounterOp::Add(100)))
        );
    }

    #[test]
    fn bad_amounts_name_the_line_that_holds_them() {
        assert_eq!(
            error(&(ok(0, "add", "1", "1") + &ok(0, "add", "\"one\"", "\"one\""))),
            "line 3: add's argument must be an integer or a decimal number, found a string (in \
             `add` by process 0)"
        );
        assert_eq!(
            error(&(ok(0, "add", "1", "1") + &ok(1, "read", "null", "[1]"))),
            "line 4: read's result must be an integer or a decimal number, found a list (in \
             `read` by process 1)"
        );
        assert_eq!(
            error(&ok(0, "add", "0.0000000000000000001", "null")),
            "line 1: add's argument has more than 18 decimal places, too many to count exactly, \
             found 1e-19 (in `add` by process 0)"
        );
        assert_eq!(
            error(&ok(
                0,
                "add",
                "99999999999999999999999999999999999999999",
                "null"
            )),
            "line 1: add's argument is too large to count exactly, found \
             99999999999999999999999999999999999999999 (in `add` by process 0)"
        );
        assert_eq!(
            error(&(ok(0, "add", "0.000000000000000001", "null") + &ok(0, "add", "1e21", "null"))),
            "line 3: the amounts are too large to add up exactly in 128 bits"
        );
        assert_eq!(
            error(&ok(0, "dec", "1", "null")),
            "line 1: unknown f `dec`: expected add or read (in `dec` by process 0)"
        );
    }
}
