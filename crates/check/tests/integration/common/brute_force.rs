//! An independent, deliberately naive linearizability checker, used as the reference the crate's
//! search is compared with. It shares only the models' sequential specifications (`prepare` and
//! `step`), never the search.
//!
//! Semantics, stated once:
//! - An operation is an invocation and the next completion by the same process.
//! - `ok`: it took effect, between its invocation and its completion, with the recorded result
//!   (the model's `prepare` encodes the result in the model operation).
//! - `fail`: it did not take effect; it is dropped (after `prepare` has validated it).
//! - `info` or no completion: indeterminate. It may take effect at any point after its
//!   invocation, even after the history ends, or never. It constrains nothing that comes after it.
//! - `Prepared::Skip` operations are dropped.
//! - Real time: A precedes B iff A completed `ok` and A's completion event comes before B's
//!   invocation event.
//!
//! A partition (the key returned by `prepare`, else the operation's `key` field) is linearizable iff some sequence of all its `ok`
//! operations plus any subset of its indeterminate operations respects real time and is accepted
//! by `model.step` from `model.init()`. A history is valid iff every partition is.
//!
//! The search is plain recursion: at each step, try every unplaced operation all of whose
//! real-time predecessors are placed; stop with success once every `ok` operation is placed
//! (unplaced indeterminate operations are the ones that never took effect). The only
//! refinement is a memo of (placed set, state) pairs already known to fail, which cannot change
//! the answer because the recursion's result depends on nothing else.

use std::collections::HashSet;

use photofinish_check::{Model, Prepared};
use photofinish_history::{History, Outcome, Value};

/// The largest partition the reference will try. Beyond this, plain enumeration is too slow.
pub const MAX_PARTITION_OPS: usize = 12;

struct RefOp<O> {
    op: O,
    invoked_at: u64,
    /// Completion position of an `ok` operation; `None` for an indeterminate one.
    ok_at: Option<u64>,
}

/// The operations of one key (or of the whole history, for an unkeyed model).
type Partition<O> = (Option<Value>, Vec<RefOp<O>>);

/// `Ok(true)` if `history` is linearizable with respect to `model`, `Ok(false)` if not,
/// `Err` if the model rejects an operation (an unknown `f`, a malformed value).
pub fn brute_force<M: Model>(model: &M, history: &History) -> Result<bool, String> {
    for (key, ops) in partitions(model, history)? {
        assert!(
            ops.len() <= MAX_PARTITION_OPS,
            "partition {key:?} has {} operations: too many for the brute-force reference",
            ops.len()
        );
        if !partition_is_linearizable(model, &ops) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The same answer as [`brute_force`], found even more naively: every subset of the
/// indeterminate operations, every permutation of it with the `ok` operations, checked against
/// real time and the model. Only for tiny histories (at most 7 operations per partition); used
/// to check the reference itself.
pub fn by_permutations<M: Model>(model: &M, history: &History) -> Result<bool, String> {
    for (_, ops) in partitions(model, history)? {
        assert!(
            ops.len() <= 7,
            "too many operations to try every permutation"
        );
        // Whether operation a must be linearized before operation b.
        let precedes =
            |a: usize, b: usize| ops[a].ok_at.is_some_and(|done| done < ops[b].invoked_at);
        let indeterminate: Vec<usize> =
            (0..ops.len()).filter(|&i| ops[i].ok_at.is_none()).collect();
        let found = (0..1u32 << indeterminate.len()).any(|subset| {
            let chosen: Vec<usize> = (0..ops.len())
                .filter(|&i| match indeterminate.iter().position(|&j| j == i) {
                    Some(bit) => subset & (1 << bit) != 0,
                    None => true,
                })
                .collect();
            permutations(&chosen).into_iter().any(|order| {
                let respects_real_time = order.iter().enumerate().all(|(at, &later)| {
                    order[..at].iter().all(|&earlier| !precedes(later, earlier))
                });
                let mut state = model.init();
                respects_real_time
                    && order.iter().all(|&i| match model.step(&state, &ops[i].op) {
                        Some(next) => {
                            state = next;
                            true
                        }
                        None => false,
                    })
            })
        });
        if !found {
            return Ok(false);
        }
    }
    Ok(true)
}

fn permutations(items: &[usize]) -> Vec<Vec<usize>> {
    if items.is_empty() {
        return vec![Vec::new()];
    }
    let mut all = Vec::new();
    for (i, &first) in items.iter().enumerate() {
        let mut rest = items.to_vec();
        rest.remove(i);
        for mut tail in permutations(&rest) {
            tail.insert(0, first);
            all.push(tail);
        }
    }
    all
}

/// The operations that matter, by partition, in history order.
fn partitions<M: Model>(model: &M, history: &History) -> Result<Vec<Partition<M::Op>>, String> {
    let mut partitions: Vec<Partition<M::Op>> = Vec::new();
    for operation in &history.operations {
        let prepared = model.prepare(operation)?;
        let (key, op) = match prepared {
            Prepared::Skip => continue,
            // An unkeyed model checks each `key` field's object on its own.
            Prepared::Op { key, op } => (key.or_else(|| operation.key.clone()), op),
        };
        let ok_at = match operation.outcome {
            Outcome::Fail => continue,
            Outcome::Ok => Some(
                operation
                    .completed_at
                    .expect("an ok operation has a completion"),
            ),
            Outcome::Info | Outcome::Pending => None,
        };
        let ref_op = RefOp {
            op,
            invoked_at: operation.invoked_at,
            ok_at,
        };
        match partitions.iter_mut().find(|(k, _)| *k == key) {
            Some((_, ops)) => ops.push(ref_op),
            None => partitions.push((key, vec![ref_op])),
        }
    }
    Ok(partitions)
}

fn partition_is_linearizable<M: Model>(model: &M, ops: &[RefOp<M::Op>]) -> bool {
    let n = ops.len();
    // precedes[a][b]: a must be linearized before b.
    let precedes: Vec<Vec<bool>> = (0..n)
        .map(|a| {
            (0..n)
                .map(|b| ops[a].ok_at.is_some_and(|done| done < ops[b].invoked_at))
                .collect()
        })
        .collect();
    let ok_count = ops.iter().filter(|o| o.ok_at.is_some()).count();
    let mut search = Search {
        model,
        ops,
        precedes,
        failed: HashSet::new(),
    };
    search.extend(0, model.init(), ok_count)
}

struct Search<'a, M: Model> {
    model: &'a M,
    ops: &'a [RefOp<M::Op>],
    precedes: Vec<Vec<bool>>,
    /// (placed set, state) pairs from which no linearization exists.
    failed: HashSet<(u32, M::State)>,
}

impl<M: Model> Search<'_, M> {
    /// Whether the placed operations (bit set `placed`, leaving the model in `state`) can be
    /// extended to a linearization; `ok_left` is how many `ok` operations are not placed yet.
    fn extend(&mut self, placed: u32, state: M::State, ok_left: usize) -> bool {
        if ok_left == 0 {
            return true;
        }
        if self.failed.contains(&(placed, state.clone())) {
            return false;
        }
        let n = self.ops.len();
        for i in 0..n {
            if placed & (1 << i) != 0 {
                continue;
            }
            let minimal = (0..n).all(|j| placed & (1 << j) != 0 || !self.precedes[j][i]);
            if !minimal {
                continue;
            }
            let Some(next) = self.model.step(&state, &self.ops[i].op) else {
                continue;
            };
            let ok_left = ok_left - usize::from(self.ops[i].ok_at.is_some());
            if self.extend(placed | (1 << i), next, ok_left) {
                return true;
            }
        }
        self.failed.insert((placed, state));
        false
    }
}
