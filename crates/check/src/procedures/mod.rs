//! Decision procedures that are exact for partitions of a particular shape and polynomial where
//! the generic search is exponential. The check tries one when [`SearchChoice::Auto`] allows
//! and the model has a procedure ([`Procedure::for_model`]); when the partition is not of the
//! procedure's shape, the generic search decides it.
//!
//! Every procedure certifies its answers before giving them: a linearization replayed against
//! real time and the model, a counterexample decided again on its own (and by the generic
//! search when small). A procedure that cannot certify an answer declines, and the generic
//! search decides: a wrong verdict is worse than a slow one.
//!
//! [`SearchChoice::Auto`]: crate::SearchChoice::Auto

pub(crate) mod growing_set;
pub(crate) mod uniform_counter;
pub(crate) mod unique_queue;
pub(crate) mod unique_register;

use photofinish_history::History;

use crate::model::Model;
use crate::report::{GROWING_SET, UNIFORM_COUNTER, UNIQUE_QUEUE, UNIQUE_VALUES};
use crate::search::budget::Budget;
use crate::search::linearize::{linearize, Limits, SearchResult};
use crate::search::partition::{PEvent, Partition};

/// What a procedure found for one partition.
pub(crate) enum Decision {
    /// The partition is not of the procedure's shape: why, in a phrase for the report.
    NotApplicable(String),
    Linearizable,
    NotLinearizable(Conflict),
}

/// Why a partition has no linearization, in partition-local operation indices.
#[derive(Debug)]
pub(crate) struct Conflict {
    /// The operation that cannot be placed.
    pub stuck: u32,
    /// What leaves it no place, in a sentence.
    pub reason: String,
    /// A linearization of the operations placed before the conflict was found.
    pub prefix: Vec<u32>,
    /// Operations (ascending) that alone have no linearization, for the same reason.
    pub witness: Vec<u32>,
    /// How many values the model's states hold at most in this partition (1 for a register,
    /// the largest read's elements for a set): the generic search's work per configuration
    /// grows with it, so its explanation of the conflict gets fewer configurations.
    pub state_size: usize,
    /// Whether the generic shrinker may shrink the witness: not when the conflict lies in what
    /// the operations saw rather than in their order (two reads of sets neither inside the
    /// other), which the shrinker would reduce to one read of an element nothing added.
    pub shrink: bool,
}

/// A polynomial procedure, chosen by the model's shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Procedure {
    /// Registers whose written values are all distinct.
    UniqueRegister,
    /// Grow-only sets read whole.
    GrowingSet,
    /// FIFO queues whose enqueued values are all distinct.
    UniqueQueue,
    /// Counters whose adds all add the same positive amount.
    UniformCounter,
}

impl Procedure {
    /// The procedure for `model`'s partitions, if it has one.
    pub(crate) fn for_model<M: Model>(model: &M) -> Option<Procedure> {
        if unique_register::applies(model) {
            Some(Procedure::UniqueRegister)
        } else if growing_set::applies(model) {
            Some(Procedure::GrowingSet)
        } else if unique_queue::applies(model) {
            Some(Procedure::UniqueQueue)
        } else if uniform_counter::applies(model) {
            Some(Procedure::UniformCounter)
        } else {
            None
        }
    }

    /// Its name in reports.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Procedure::UniqueRegister => UNIQUE_VALUES,
            Procedure::GrowingSet => GROWING_SET,
            Procedure::UniqueQueue => UNIQUE_QUEUE,
            Procedure::UniformCounter => UNIFORM_COUNTER,
        }
    }

    /// Decides `part`, or says why the procedure does not apply to it. `budget` bounds the
    /// cross-check of a counterexample by the generic search.
    pub(crate) fn decide<M: Model>(
        self,
        model: &M,
        history: &History,
        part: &Partition<M::Op>,
        budget: &Budget,
    ) -> Decision {
        match self {
            Procedure::UniqueRegister => unique_register::decide(model, history, part, budget),
            Procedure::GrowingSet => growing_set::decide(model, history, part, budget),
            Procedure::UniqueQueue => unique_queue::decide(model, history, part, budget),
            Procedure::UniformCounter => uniform_counter::decide(model, history, part, budget),
        }
    }
}

/// The most operations a counterexample may have for the generic search to cross-check it.
const CROSS_CHECK_OPS: usize = 64;

/// The most configurations that cross-check may explore.
const CROSS_CHECK_CONFIGURATIONS: u64 = 200_000;

/// Whether the generic search does not find `witness` linearizable, when it is small enough
/// to ask (a larger witness passes: the procedure that found it has decided it again).
fn generic_search_agrees<M: Model>(model: &M, witness: &Partition<M::Op>, budget: &Budget) -> bool {
    if witness.ops.len() > CROSS_CHECK_OPS {
        return true;
    }
    let limits = Limits {
        budget,
        max_search_bytes: 64 << 20,
        first_failure: None,
        index: 0,
        max_configurations: CROSS_CHECK_CONFIGURATIONS,
    };
    !matches!(
        linearize(model, witness, &limits).0,
        SearchResult::Linearizable
    )
}

/// The position among a partition's events of the return of an operation that never returns.
const NEVER: u32 = u32::MAX;

/// Each operation's invocation and return positions among `part`'s events (`NEVER` for one
/// that never returns).
fn positions<Op>(part: &Partition<Op>) -> (Vec<u32>, Vec<u32>) {
    let n = part.ops.len();
    let mut invoked = vec![NEVER; n];
    let mut returned = vec![NEVER; n];
    for (pos, event) in part.events.iter().enumerate() {
        match *event {
            PEvent::Invoke(o) => invoked[o as usize] = pos as u32,
            PEvent::Return(o) => returned[o as usize] = pos as u32,
        }
    }
    (invoked, returned)
}

/// Whether `order` places every operation of `part` that completed ok, each once, and none
/// after an operation that completed before it began.
fn in_real_time<Op>(part: &Partition<Op>, order: &[u32]) -> bool {
    let n = part.ops.len();
    let (invoked, returned) = positions(part);
    let mut placed = vec![false; n];
    for &o in order {
        if (o as usize) >= n || std::mem::replace(&mut placed[o as usize], true) {
            return false;
        }
    }
    if (0..n).any(|o| !part.ops[o].indeterminate && !placed[o]) {
        return false;
    }
    let mut first_return_after = NEVER;
    for &o in order.iter().rev() {
        if invoked[o as usize] > first_return_after {
            return false;
        }
        first_return_after = first_return_after.min(returned[o as usize]);
    }
    true
}
