//! `set`: add elements, read the whole set.

use std::collections::BTreeSet;

use photofinish_history::{Operation, Outcome, Value};

use crate::diagnosis::{self, Diagnosis};
use crate::model::{Model, Prepared, SetAccess};

/// A grow-only set, starting from the elements of `init` (a list, or `nil` for empty).
#[derive(Clone, Debug)]
pub struct Set {
    pub init: BTreeSet<Value>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SetOp {
    Add(Value),
    Read(BTreeSet<Value>),
}

impl Set {
    pub fn new(init: &Value) -> Result<Set, String> {
        Ok(Set {
            init: elements("--init", init)?,
        })
    }
}

fn elements(what: &str, value: &Value) -> Result<BTreeSet<Value>, String> {
    match value {
        Value::Null => Ok(BTreeSet::new()),
        Value::List(items) => Ok(items.iter().cloned().collect()),
        other => Err(format!(
            "{what} must be a list of elements, found {}",
            other.kind()
        )),
    }
}

impl Model for Set {
    type State = BTreeSet<Value>;
    type Op = SetOp;

    fn name(&self) -> &str {
        "set"
    }

    fn init(&self) -> Self::State {
        self.init.clone()
    }

    fn prepare(&self, op: &Operation) -> Result<Prepared<SetOp>, String> {
        match op.f.as_str() {
            "add" => Ok(Prepared::op(SetOp::Add(op.value.clone()))),
            "read" => match op.outcome {
                Outcome::Ok => Ok(Prepared::op(SetOp::Read(elements(
                    "read's result",
                    &op.result,
                )?))),
                _ => Ok(Prepared::Skip),
            },
            other => Err(format!("unknown f `{other}`: expected add or read")),
        }
    }

    fn step(&self, state: &Self::State, op: &SetOp) -> Option<Self::State> {
        match op {
            SetOp::Add(v) => {
                let mut next = state.clone();
                next.insert(v.clone());
                Some(next)
            }
            SetOp::Read(seen) => (seen == state).then(|| state.clone()),
        }
    }

    fn describe(&self, state: &Self::State) -> Value {
        Value::List(state.iter().cloned().collect())
    }

    fn diagnose(&self, ops: &[&Operation]) -> Vec<Diagnosis> {
        diagnosis::set(self, ops)
    }

    fn read_only(&self, op: &SetOp) -> bool {
        matches!(op, SetOp::Read(_))
    }

    fn observed_state(&self, op: &SetOp) -> Option<Self::State> {
        match op {
            SetOp::Read(seen) => Some(seen.clone()),
            SetOp::Add(_) => None,
        }
    }

    /// Elements are never removed, so a state must be a subset of what a later read returns.
    fn may_reach(&self, from: &Self::State, observation: &SetOp) -> bool {
        match observation {
            SetOp::Read(seen) => from.is_subset(seen),
            SetOp::Add(_) => true,
        }
    }

    fn may_reset(&self, _op: &SetOp, _observation: &SetOp) -> bool {
        false
    }

    fn set_access<'a>(&self, op: &'a SetOp) -> Option<SetAccess<'a>> {
        Some(match op {
            SetOp::Add(v) => SetAccess::Add(v),
            SetOp::Read(seen) => SetAccess::Read(seen),
        })
    }

    fn set_elements<'a>(&self, state: &'a Self::State) -> Option<&'a BTreeSet<Value>> {
        Some(state)
    }
}
