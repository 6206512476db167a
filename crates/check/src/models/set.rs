//! `set`: add elements, read the whole set.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::Arc;

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
/// Integers are kept as integers, shared with the history when the read returned them sorted
/// (as a set's reads of 10^5 elements do), so a history of long reads is held once, at 8 bytes
/// an element.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Elements(Repr);

/// One form per set, so that the derived equality is the sets' equality: [`Repr::Ints`]
/// whenever every element is an integer.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Repr {
    Values(Box<[Value]>),
    Ints(Arc<[i64]>),
}

impl Elements {
    /// The elements of `items`, in any order, repeats counted once.
    pub fn new(items: &[Value]) -> Elements {
        let ints: Option<Vec<i64>> = items.iter().map(Value::as_i64).collect();
        if let Some(ints) = ints {
            return Elements::of_ints(ints);
        }
        let mut items = items.to_vec();
        if !is_strictly_sorted(&items) {
            items.sort_unstable();
            items.dedup();
        }
        Elements(Repr::Values(items.into_boxed_slice()))
    }

    /// The elements of the list `value` (in either form, see [`Value::Ints`]), sharing a sorted
    /// list of integers rather than copying it; `None` if `value` is no list.
    pub fn of_list(value: &Value) -> Option<Elements> {
        match value {
            Value::Ints(ints) if is_strictly_sorted(ints) => {
                Some(Elements(Repr::Ints(Arc::clone(ints))))
            }
            Value::Ints(ints) => Some(Elements::of_ints(ints.to_vec())),
            Value::List(items) => Some(Elements::new(items)),
            _ => None,
        }
    }

    fn of_ints(mut ints: Vec<i64>) -> Elements {
        if !is_strictly_sorted(&ints) {
            ints.sort_unstable();
            ints.dedup();
        }
        Elements(Repr::Ints(ints.into()))
    }

    /// The elements when they are all integers.
    pub fn as_ints(&self) -> Option<&[i64]> {
        match &self.0 {
            Repr::Ints(ints) => Some(ints),
            Repr::Values(_) => None,
        }
    }

    /// The elements as values: borrowed, or made from the integers.
    pub fn to_values(&self) -> Cow<'_, [Value]> {
        match &self.0 {
            Repr::Values(values) => Cow::Borrowed(values),
            Repr::Ints(ints) => Cow::Owned(ints.iter().map(|&i| Value::Int(i)).collect()),
        }
    }

    /// The elements, in order.
    pub fn iter(&self) -> impl Iterator<Item = Cow<'_, Value>> {
        let (values, ints) = match &self.0 {
            Repr::Values(values) => (&values[..], &[][..]),
            Repr::Ints(ints) => (&[][..], &ints[..]),
        };
        values
            .iter()
            .map(Cow::Borrowed)
            .chain(ints.iter().map(|&i| Cow::Owned(Value::Int(i))))
    }

    pub fn len(&self) -> usize {
        match &self.0 {
            Repr::Values(values) => values.len(),
            Repr::Ints(ints) => ints.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn contains(&self, value: &Value) -> bool {
        match (&self.0, value) {
            (Repr::Values(values), _) => values.binary_search(value).is_ok(),
            (Repr::Ints(ints), Value::Int(i)) => ints.binary_search(i).is_ok(),
            (Repr::Ints(_), _) => false,
        }
    }
}

fn is_strictly_sorted<T: Ord>(items: &[T]) -> bool {
    items.windows(2).all(|w| w[0] < w[1])
}

impl Set {
    pub fn new(init: &Value) -> Result<Set, String> {
        Ok(Set {
            init: elements("--init", init)?,
        })
    }
}

fn elements(what: &str, value: &Value) -> Result<BTreeSet<Value>, String> {
    Ok(list(what, value)?.iter().map(Cow::into_owned).collect())
}

/// The elements of a list (or of `nil`, none).
fn list(what: &str, value: &Value) -> Result<Elements, String> {
    match value {
        Value::Null => Ok(Elements::new(&[])),
        other => Elements::of_list(other)
            .ok_or_else(|| format!("{what} must be a list of elements, found {}", other.kind())),
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
                Outcome::Ok => Ok(Prepared::op(SetOp::Read(list(
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
            SetOp::Read(seen) => (seen.len() == state.len()
                && seen.iter().zip(state).all(|(a, b)| *a == *b))
            .then(|| state.clone()),
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
            SetOp::Read(seen) => Some(seen.iter().map(Cow::into_owned).collect()),
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
            SetOp::Read(seen) => SetAccess::Read(seen),
        })
    }

    fn set_elements<'a>(&self, state: &'a Self::State) -> Option<&'a BTreeSet<Value>> {
        Some(state)
    }
}
