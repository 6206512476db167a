//! Splitting a history into independently checkable partitions, in model terms.

use rustc_hash::{FxHashMap, FxHashSet};

use photofinish_history::{History, Outcome, Value};

use crate::model::{Fifo, Model, Prepared};
use crate::CheckError;

/// One event of a partition, naming a partition-local operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PEvent {
    Invoke(u32),
    Return(u32),
}

/// An operation the search must place.
#[derive(Clone, Debug)]
pub(crate) struct PartOp<Op> {
    /// Index into `History::operations` (see [`PartOp::history_id`]): 32 bits, like the
    /// partition's own indices, which keeps a partition of half a million operations 4 MB
    /// smaller. No history that fits in memory has 2^32 operations.
    history_index: u32,
    pub op: Op,
    /// May or may not have taken effect: never returns, never forced.
    pub indeterminate: bool,
}

/// The operations on one key (or the whole history, for an unkeyed model), with their
/// invocations and returns in real-time order. Failed operations are gone: they did not happen.
pub(crate) struct Partition<Op> {
    pub key: Option<Value>,
    pub ops: Vec<PartOp<Op>>,
    pub events: Vec<PEvent>,
}

/// Translates every operation with the model and groups them by partition. Fails on the first
/// operation the model cannot make sense of, naming its line.
pub(crate) fn partition<M: Model>(
    model: &M,
    history: &History,
) -> Result<Vec<Partition<M::Op>>, CheckError> {
    let mut index: FxHashMap<Option<Value>, usize> = FxHashMap::default();
    let mut parts: Vec<Partition<M::Op>> = Vec::new();
    // (event sequence number, partition-local event) per partition, sorted at the end.
    let mut timed: Vec<Vec<(u64, PEvent)>> = Vec::new();
    for op in &history.operations {
        let prepared = model
            .prepare(op)
            .map_err(|message| CheckError::BadOperation {
                line: op.invoke_line,
                message: format!("{message} (in `{}` by process {})", op.f, op.process),
            })?;
        let (key, model_op) = match prepared {
            Prepared::Skip => continue,
            // An unkeyed model still checks each `key` field's object on its own, as Jepsen's
            // independent workloads do: operations on different keys never constrain each other.
            Prepared::Op { key, op: model_op } => (key.or_else(|| op.key.clone()), model_op),
        };
        if op.outcome == Outcome::Fail {
            continue;
        }
        let slot = *index.entry(key.clone()).or_insert_with(|| {
            parts.push(Partition {
                key,
                ops: Vec::new(),
                events: Vec::new(),
            });
            timed.push(Vec::new());
            parts.len() - 1
        });
        let part = &mut parts[slot];
        let local = part.ops.len() as u32;
        let returned = op.completed_at.filter(|_| !op.outcome.is_indeterminate());
        let indeterminate = returned.is_none();
        part.ops.push(PartOp {
            history_index: op.id as u32,
            op: model_op,
            indeterminate,
        });
        timed[slot].push((op.invoked_at, PEvent::Invoke(local)));
        if let Some(returned) = returned {
            timed[slot].push((returned, PEvent::Return(local)));
        }
    }
    for (part, mut events) in parts.iter_mut().zip(timed) {
        events.sort_unstable_by_key(|(seq, _)| *seq);
        part.events = events.into_iter().map(|(_, e)| e).collect();
        anonymize_unseen(model, part);
    }
    Ok(parts)
}

/// Makes anonymous every inserted element that no removal returned (see `Model::anonymous`).
fn anonymize_unseen<M: Model>(model: &M, part: &mut Partition<M::Op>) {
    let removed: FxHashSet<&Value> = part
        .ops
        .iter()
        .filter_map(|o| match model.fifo(&o.op) {
            Some(Fifo::Out(v)) => Some(v),
            _ => None,
        })
        .collect();
    let anonymous: Vec<(usize, M::Op)> = part
        .ops
        .iter()
        .enumerate()
        .filter_map(|(i, o)| match model.fifo(&o.op) {
            Some(Fifo::In(v)) if !removed.contains(v) => Some((i, model.anonymous(&o.op)?)),
            _ => None,
        })
        .collect();
    for (i, op) in anonymous {
        part.ops[i].op = op;
    }
}

impl<Op> PartOp<Op> {
    /// Index into `History::operations`.
    pub fn history_id(&self) -> usize {
        self.history_index as usize
    }
}

impl<Op: Clone> Partition<Op> {
    /// The same partition with only the operations in `keep` (local indices, ascending), their
    /// events in the same order.
    pub(crate) fn subset(&self, keep: &[u32]) -> Partition<Op> {
        let mut local = vec![u32::MAX; self.ops.len()];
        for (new, &old) in keep.iter().enumerate() {
            local[old as usize] = new as u32;
        }
        let renumber = |o: u32| local[o as usize];
        Partition {
            key: self.key.clone(),
            ops: keep.iter().map(|&o| self.ops[o as usize].clone()).collect(),
            events: self
                .events
                .iter()
                .filter_map(|event| match *event {
                    PEvent::Invoke(o) if renumber(o) != u32::MAX => {
                        Some(PEvent::Invoke(renumber(o)))
                    }
                    PEvent::Return(o) if renumber(o) != u32::MAX => {
                        Some(PEvent::Return(renumber(o)))
                    }
                    _ => None,
                })
                .collect(),
        }
    }

    /// The same partition with `op` invoked before everything else: concurrent with every
    /// other operation, so that real time no longer constrains where it takes effect.
    pub(crate) fn invoked_first(mut self, op: u32) -> Partition<Op> {
        if let Some(at) = self.events.iter().position(|e| *e == PEvent::Invoke(op)) {
            self.events[..=at].rotate_right(1);
        }
        self
    }

    /// Where operation `op`'s return is among the events; `None` if it never returns.
    pub(crate) fn return_position(&self, op: u32) -> Option<usize> {
        self.events.iter().position(|e| *e == PEvent::Return(op))
    }
}
