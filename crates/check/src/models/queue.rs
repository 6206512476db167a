//! `queue`: a FIFO queue.

use std::collections::VecDeque;

use photofinish_history::{Operation, Outcome, Value};

use crate::diagnosis::{self, Diagnosis};
use crate::model::{Fifo, Model, Prepared, QueueAccess};

/// A FIFO queue starting with the elements of `init` (a list, or `nil` for empty). `enqueue x`
/// adds at the back; an ok `dequeue` returns the front element, or `nil` when the queue was empty.
#[derive(Clone, Debug)]
pub struct Queue {
    pub init: VecDeque<Value>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum QueueOp {
    Enqueue(Value),
    /// An enqueue of an element that no dequeue returned (see `Model::anonymous`).
    EnqueueAnonymous,
    /// The element dequeued; `None` when it is not known (an indeterminate dequeue), which
    /// removes whatever is at the front.
    Dequeue(Option<Value>),
}

impl Queue {
    pub fn new(init: &Value) -> Result<Queue, String> {
        match init {
            Value::Null => Ok(Queue {
                init: VecDeque::new(),
            }),
            Value::List(_) | Value::Ints(_) => Ok(Queue {
                init: init.as_list().unwrap_or_default().iter().cloned().collect(),
            }),
            other => Err(format!(
                "queue needs --init as a list, found {}",
                other.kind()
            )),
        }
    }
}

/// An element in the queue: a value, or one of the anonymous elements that no dequeue returned.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Element {
    Known(Value),
    Anonymous,
}

impl Model for Queue {
    type State = VecDeque<Element>;
    type Op = QueueOp;

    fn name(&self) -> &str {
        "queue"
    }

    fn init(&self) -> Self::State {
        self.init.iter().cloned().map(Element::Known).collect()
    }

    fn prepare(&self, op: &Operation) -> Result<Prepared<QueueOp>, String> {
        match op.f.as_str() {
            "enqueue" => Ok(Prepared::op(QueueOp::Enqueue(op.value.clone()))),
            "dequeue" => Ok(Prepared::op(QueueOp::Dequeue(
                (op.outcome == Outcome::Ok).then(|| op.result.clone()),
            ))),
            other => Err(format!("unknown f `{other}`: expected enqueue or dequeue")),
        }
    }

    /// Elements that were in the queue from the start carry no insertion of their own, so
    /// they and any later insertion of the same value are left out.
    fn fifo<'a>(&self, op: &'a QueueOp) -> Option<Fifo<'a>> {
        let fifo = match op {
            QueueOp::Enqueue(v) => Fifo::In(v),
            QueueOp::Dequeue(Some(v)) if !v.is_null() => Fifo::Out(v),
            QueueOp::Dequeue(_) | QueueOp::EnqueueAnonymous => return None,
        };
        let (Fifo::In(v) | Fifo::Out(v)) = fifo;
        (!self.init.contains(v)).then_some(fifo)
    }

    /// A dequeue that found the queue empty changes nothing: the search places concurrent
    /// ones at once instead of trying their orders.
    fn read_only(&self, op: &QueueOp) -> bool {
        matches!(op, QueueOp::Dequeue(Some(Value::Null)))
    }

    fn anonymous(&self, op: &QueueOp) -> Option<QueueOp> {
        matches!(op, QueueOp::Enqueue(_)).then_some(QueueOp::EnqueueAnonymous)
    }

    fn step(&self, state: &Self::State, op: &QueueOp) -> Option<Self::State> {
        let push = |element| {
            let mut next = state.clone();
            next.push_back(element);
            Some(next)
        };
        match op {
            QueueOp::Enqueue(v) => push(Element::Known(v.clone())),
            QueueOp::EnqueueAnonymous => push(Element::Anonymous),
            QueueOp::Dequeue(None) => {
                let mut next = state.clone();
                next.pop_front().map(|_| next)
            }
            QueueOp::Dequeue(Some(Value::Null)) => state.is_empty().then(|| state.clone()),
            QueueOp::Dequeue(Some(v)) => {
                if matches!(state.front(), Some(Element::Known(front)) if front == v) {
                    let mut next = state.clone();
                    next.pop_front();
                    Some(next)
                } else {
                    None
                }
            }
        }
    }

    fn queue_access<'a>(&self, op: &'a QueueOp) -> Option<QueueAccess<'a>> {
        Some(match op {
            QueueOp::Enqueue(v) => QueueAccess::Enqueue(Some(v)),
            QueueOp::EnqueueAnonymous => QueueAccess::Enqueue(None),
            QueueOp::Dequeue(None) => QueueAccess::DequeueUnknown,
            QueueOp::Dequeue(Some(Value::Null)) => QueueAccess::DequeueEmpty,
            QueueOp::Dequeue(Some(v)) => QueueAccess::Dequeue(v),
        })
    }

    fn queue_elements<'a>(&self, state: &'a Self::State) -> Option<Vec<Option<&'a Value>>> {
        Some(
            state
                .iter()
                .map(|element| match element {
                    Element::Known(v) => Some(v),
                    Element::Anonymous => None,
                })
                .collect(),
        )
    }

    /// Anonymous elements show as `"(never dequeued)"`.
    fn describe(&self, state: &Self::State) -> Value {
        Value::List(
            state
                .iter()
                .map(|element| match element {
                    Element::Known(v) => v.clone(),
                    Element::Anonymous => Value::from("(never dequeued)"),
                })
                .collect(),
        )
    }

    fn diagnose(&self, ops: &[&Operation]) -> Vec<Diagnosis> {
        diagnosis::queue(self, ops)
    }
}
