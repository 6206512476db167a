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
    Read(Elements),
}

/// What a read of the whole set returned: its elements, sorted, each once. A slice rather than
/// a tree: reads of a large set are many and long, and are only walked in order and searched.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Elements(Box<[Value]>);

impl Elements {
    /// The elements of `items`, in any order, repeats counted once.
    pub fn new(items: &[Value]) -> Elements {
        let mut items = items.to_vec();
        if !items.windows(2).all(|w| w[0] < w[1]) {
            items.sort_unstable();
            items.dedup();
        }
        Elements(items.into_boxed_slice())
    }

    pub fn as_slice(&self) -> &[Value] {
        &self.0
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Value> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, value: &Value) -> bool {
        self.0.binary_search(value).is_ok()
    }
}

impl Set {
    pub fn new(init: &Value) -> Result<Set, String> {
        Ok(Set {
            init: elements("--init", init)?,
        })
    }
}

fn elements(what: &str, value: &Value) -> Result<BTreeSet<Value>, String> {
    Ok(list(what, value)?.iter().cloned().collect())
}

fn list<'v>(what: &str, value: &'v Value) -> Result<&'v [Value], String> {
    match value {
        Value::Null => Ok(&[]),
        Value::List(items) => Ok(items),
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
                Outcome::Ok => Ok(Prepared::op(SetOp::Read(Elements::new(list(
                    "read's result",
                    &op.result,
                )?)))),
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
            SetOp::Read(seen) => seen.iter().eq(state.iter()).then(|| state.clone()),
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
            SetOp::Read(seen) => Some(seen.iter().cloned().collect()),
            SetOp::Add(_) => None,
        }
    }

    /// Elements are never removed, so a state must be a subset of what a later read returns.
    fn may_reach(&self, from: &Self::State, observation: &SetOp) -> bool {
        match observation {
            SetOp::Read(seen) => from.len() <= seen.len() && from.iter().all(|v| seen.contains(v)),
            SetOp::Add(_) => true,
        }
    }

    fn may_reset(&self, _op: &SetOp, _observation: &SetOp) -> bool {
        false
    }

    fn set_access<'a>(&self, op: &'a SetOp) -> Option<SetAccess<'a>> {
        Some(match op {
            SetOp::Add(v) => SetAccess::Add(v),
            SetOp::Read(seen) => SetAccess::Read(seen.as_slice()),
        })
    }

    fn set_elements<'a>(&self, state: &'a Self::State) -> Option<&'a BTreeSet<Value>> {
        Some(state)
    }
}
