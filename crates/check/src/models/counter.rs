//! `counter`: add and read. Catches lost increments.

use photofinish_history::{Operation, Outcome, Value};

use crate::diagnosis::{self, Diagnosis};
use crate::model::{int_arg, Model, Prepared};

/// A counter starting at `init`; `add n` adds `n`, `read` returns the total.
#[derive(Clone, Debug)]
pub struct Counter {
    pub init: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CounterOp {
    Add(i64),
    Read(i64),
}

impl Model for Counter {
    type State = i64;
    type Op = CounterOp;

    fn name(&self) -> &str {
        "counter"
    }

    fn init(&self) -> i64 {
        self.init
    }

    fn prepare(&self, op: &Operation) -> Result<Prepared<CounterOp>, String> {
        match op.f.as_str() {
            "add" | "incr" | "increment" => {
                let n = if op.value.is_null() {
                    1
                } else {
                    int_arg("add's argument", &op.value)?
                };
                Ok(Prepared::op(CounterOp::Add(n)))
            }
            "read" => match op.outcome {
                Outcome::Ok if !op.result.is_null() => Ok(Prepared::op(CounterOp::Read(int_arg(
                    "read's result",
                    &op.result,
                )?))),
                _ => Ok(Prepared::Skip),
            },
            other => Err(format!("unknown f `{other}`: expected add or read")),
        }
    }

    fn step(&self, state: &i64, op: &CounterOp) -> Option<i64> {
        match op {
            CounterOp::Add(n) => state.checked_add(*n),
            CounterOp::Read(v) => (v == state).then_some(*state),
        }
    }

    fn describe(&self, state: &i64) -> Value {
        Value::Int(*state)
    }

    fn diagnose(&self, ops: &[&Operation]) -> Vec<Diagnosis> {
        diagnosis::counter(&Value::Int(self.init), ops)
    }

    fn read_only(&self, op: &CounterOp) -> bool {
        matches!(op, CounterOp::Read(_) | CounterOp::Add(0))
    }

    fn observed_state(&self, op: &CounterOp) -> Option<i64> {
        match op {
            CounterOp::Read(v) => Some(*v),
            CounterOp::Add(_) => None,
        }
    }

    /// Non-negative adds never decrease the counter.
    fn may_reach(&self, from: &i64, observation: &CounterOp) -> bool {
        match observation {
            CounterOp::Read(v) => from <= v,
            CounterOp::Add(_) => true,
        }
    }

    fn may_reset(&self, op: &CounterOp, _observation: &CounterOp) -> bool {
        matches!(op, CounterOp::Add(n) if *n < 0)
    }
}
