//! What a model is: the sequential specification a history is checked against.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt::Debug;
use std::hash::Hash;

use photofinish_history::{Operation, Outcome, Value};

use crate::diagnosis::Diagnosis;
use crate::models::Elements;

/// A sequential specification: a deterministic state machine whose steps are operations.
///
/// The search asks only three things of a model: translate a recorded operation into a model
/// operation ([`Model::prepare`]), apply one to a state ([`Model::step`]), and show a state to a
/// person ([`Model::describe`]). States and operations are hashed and compared, because the
/// search interns them and memoises transitions; keep them small.
///
/// A user-defined model, here a register that only ever grows:
///
/// ```
/// use photofinish_check::{check, CheckOptions, Model, Prepared, Verdict};
/// use photofinish_history::{read_str, Operation, Outcome, Value};
///
/// struct MaxRegister;
///
/// #[derive(Clone, Debug, PartialEq, Eq, Hash)]
/// enum MaxOp { Raise(i64), Read(i64) }
///
/// impl Model for MaxRegister {
///     type State = i64;
///     type Op = MaxOp;
///     fn name(&self) -> &str { "max-register" }
///     fn init(&self) -> i64 { 0 }
///     fn prepare(&self, op: &Operation) -> Result<Prepared<MaxOp>, String> {
///         let int = |v: &Value| v.as_i64().ok_or_else(|| format!("expected an integer, found {v}"));
///         match op.f.as_str() {
///             "raise" => Ok(Prepared::op(MaxOp::Raise(int(&op.value)?))),
///             "read" if op.outcome == Outcome::Ok => Ok(Prepared::op(MaxOp::Read(int(&op.result)?))),
///             "read" => Ok(Prepared::Skip),
///             other => Err(format!("unknown f `{other}`: expected raise or read")),
///         }
///     }
///     fn step(&self, state: &i64, op: &MaxOp) -> Option<i64> {
///         match op {
///             MaxOp::Raise(v) => Some((*state).max(*v)),
///             MaxOp::Read(v) => (v == state).then_some(*state),
///         }
///     }
///     fn describe(&self, state: &i64) -> Value { Value::Int(*state) }
/// }
///
/// let history = read_str(r#"{"type":"invoke","f":"raise","value":5,"process":0}
/// {"type":"ok","f":"raise","value":5,"process":0}
/// {"type":"invoke","f":"read","value":null,"process":1}
/// {"type":"ok","f":"read","value":3,"process":1}
/// "#, "example", None).unwrap();
/// let report = check(&MaxRegister, &history, &CheckOptions::default()).unwrap();
/// assert_eq!(report.verdict, Verdict::Invalid);
/// ```
pub trait Model: Send + Sync {
    type State: Clone + Eq + Hash + Debug + Send + Sync + 'static;
    type Op: Clone + Eq + Hash + Debug + Send + Sync;

    /// The model's name, as given to `--model`.
    fn name(&self) -> &str;

    /// The state every partition starts in.
    fn init(&self) -> Self::State;

    /// Translates a recorded operation, or explains why it makes no sense for this model (an
    /// unknown `f`, a value of the wrong shape). Called for every operation, including failed
    /// and indeterminate ones: look at `op.outcome`. For an `ok` operation the result is in
    /// `op.result`; for an indeterminate one the result is unknown, so the model operation must
    /// not depend on it. Failed operations are validated, then dropped by the search.
    fn prepare(&self, op: &Operation) -> Result<Prepared<Self::Op>, String>;

    /// Applies `op` to `state`: the next state, or `None` if `op` cannot happen in `state`
    /// (a read that returns another value, a second acquire of a held lock).
    fn step(&self, state: &Self::State, op: &Self::Op) -> Option<Self::State>;

    /// Shows a state to a person, in reports.
    fn describe(&self, state: &Self::State) -> Value;

    /// Whether `op` never changes any state: in every state it either fails or leaves the
    /// state as it is (a read; a create that answered "exists"). The search places such an
    /// operation as soon as it is legal, since placing it later is never better.
    fn read_only(&self, _op: &Self::Op) -> bool {
        false
    }

    /// The state `op` reveals, if it is an observation: an operation that succeeds only in
    /// that state and leaves it as it is (a read of the whole value). [`Model::may_reach`]
    /// prunes with observations.
    fn observed_state(&self, _op: &Self::Op) -> Option<Self::State> {
        None
    }

    /// Whether `from` can still evolve into a state that `observation` accepts, using only
    /// operations for which [`Model::may_reset`] is false. The search abandons a state for which
    /// this is false once no resetting operation can be linearized any more, so answering
    /// `true` is always sound; answering `false` wrongly is not.
    ///
    /// For appends, a string can only grow, so it must be a prefix of what a later read returns:
    /// this is what lets the search follow the order of appends that reads reveal instead of
    /// trying every order.
    fn may_reach(&self, _from: &Self::State, _observation: &Self::Op) -> bool {
        true
    }

    /// For a first-in-first-out model: the element `op` puts in or takes out, if any.
    ///
    /// When elements are unique, they come out in the order they went in: if one element's
    /// removal returned before another's began, its insertion must be linearized first. The
    /// search then refuses at once an order of insertions that later removals contradict;
    /// otherwise it learns of the contradiction only when those removals return, after trying
    /// every order of everything in between. Answering `None` is always sound.
    fn fifo<'a>(&self, _op: &'a Self::Op) -> Option<Fifo<'a>> {
        None
    }

    /// The insertion `op` with its element made anonymous, for an element no removal ever
    /// returned. Nothing in the history tells such elements apart, so the search need not:
    /// k of them enqueued concurrently make one order, not k!. `None` keeps the element.
    fn anonymous(&self, _op: &Self::Op) -> Option<Self::Op> {
        None
    }

    /// Whether `op` can take some state to one from which `observation` is reachable when
    /// [`Model::may_reach`] says otherwise (a write that starts the value afresh).
    fn may_reset(&self, _op: &Self::Op, _observation: &Self::Op) -> bool {
        true
    }

    /// Whether `op` leaves the same state whatever state it is applied to (a blind write).
    fn overwrites(&self, _op: &Self::Op) -> bool {
        false
    }

    /// Findings in the user's terms about a partition that has no linearization (see
    /// [`Diagnosis`]). `ops` are the partition's operations in history order, every outcome
    /// included (ok, fail, info, pending); keyed models see the key in `op.key` and the
    /// unwrapped value in `op.value` / `op.result`. Only what the history proves.
    fn diagnose(&self, _ops: &[&Operation]) -> Vec<Diagnosis> {
        Vec::new()
    }

    /// For each operation of a partition: whether it succeeds in every state the partition can
    /// reach and reveals nothing about it (an append, a write; not a read or a cas).
    ///
    /// With [`Model::overwrites`], this lets the search treat alike all the states that no
    /// read can see before a write replaces them: with k appends racing a write, the k!
    /// orders they could take before the write are one case, not k!.
    fn unconditional(&self, ops: &[&Self::Op]) -> Vec<bool> {
        vec![false; ops.len()]
    }

    /// For a model whose partitions are single registers: what `op` does with the register's
    /// whole value, or `None` if it is no read, write or compare-and-set. The answer must agree
    /// with [`Model::step`] exactly: a read of `v` succeeds only in state `v` and changes
    /// nothing, a write of `v` always succeeds and leaves `v`, a cas succeeds only in state
    /// `expected` and leaves `new`.
    ///
    /// With [`Model::register_value`], this lets the check decide a partition whose written
    /// values are all distinct in polynomial time, instead of searching (see
    /// [`SearchChoice`](crate::SearchChoice)).
    fn register_access<'a>(&self, _op: &'a Self::Op) -> Option<RegisterAccess<'a>> {
        None
    }

    /// For a register model (see [`Model::register_access`]): the value `state` holds.
    fn register_value<'a>(&self, _state: &'a Self::State) -> Option<&'a Value> {
        None
    }

    /// For a model whose partitions are grow-only sets: what `op` does with the set, or `None`
    /// if it is no add or read of the whole set. The answer must agree with [`Model::step`]
    /// exactly: an add of `v` always succeeds and leaves the state with `v` in it, a read of
    /// `s` succeeds only in a state whose elements are exactly `s` and changes nothing.
    ///
    /// With [`Model::set_elements`], this lets the check decide such a partition in time
    /// linear in the history (see [`SearchChoice`](crate::SearchChoice)).
    fn set_access<'a>(&self, _op: &'a Self::Op) -> Option<SetAccess<'a>> {
        None
    }

    /// For a grow-only set model (see [`Model::set_access`]): the elements `state` holds.
    fn set_elements<'a>(&self, _state: &'a Self::State) -> Option<&'a BTreeSet<Value>> {
        None
    }

    /// For a model whose partitions are FIFO queues: what `op` does with the queue, or `None`
    /// if it is no enqueue or dequeue. The answer must agree with [`Model::step`] exactly: an
    /// enqueue always succeeds and adds its element at the back, a dequeue of `v` succeeds only
    /// when `v` is at the front and removes it, an empty dequeue succeeds only on an empty
    /// queue and changes nothing, and a dequeue whose result is unknown removes the front
    /// element and fails on an empty queue.
    ///
    /// With [`Model::queue_elements`], this lets the check decide a partition whose enqueued
    /// elements are all distinct in polynomial time (see [`SearchChoice`](crate::SearchChoice)).
    fn queue_access<'a>(&self, _op: &'a Self::Op) -> Option<QueueAccess<'a>> {
        None
    }

    /// For a queue model (see [`Model::queue_access`]): the elements `state` holds, front
    /// first; `None` for an element whose value is not known (see [`Model::anonymous`]).
    fn queue_elements<'a>(&self, _state: &'a Self::State) -> Option<Vec<Option<&'a Value>>> {
        None
    }

    /// For a model whose partitions are counters: what `op` does with the count, or `None` if
    /// it is no add or read. The answer must agree with [`Model::step`] exactly: an add of `n`
    /// always succeeds (short of overflow) and adds `n`, a read of `v` succeeds only when the
    /// count is `v` and changes nothing.
    ///
    /// With [`Model::counter_value`], this lets the check decide a partition whose adds all add
    /// the same positive amount in polynomial time (see [`SearchChoice`](crate::SearchChoice)).
    fn counter_access(&self, _op: &Self::Op) -> Option<CounterAccess> {
        None
    }

    /// For a counter model (see [`Model::counter_access`]): the count `state` holds.
    fn counter_value(&self, _state: &Self::State) -> Option<i128> {
        None
    }
}

/// What a counter operation does with the count: see [`Model::counter_access`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CounterAccess {
    /// Added this amount.
    Add(i128),
    /// Returned this count.
    Read(i128),
}

/// What a queue operation does with the queue: see [`Model::queue_access`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueAccess<'a> {
    /// Added this element at the back; `None` for an element no dequeue returned, whose value
    /// the model has forgotten (see [`Model::anonymous`]).
    Enqueue(Option<&'a Value>),
    /// Removed this element from the front.
    Dequeue(&'a Value),
    /// Found the queue empty.
    DequeueEmpty,
    /// Removed whatever was at the front: a dequeue whose result is not known.
    DequeueUnknown,
}

/// What a grow-only set operation does with the set: see [`Model::set_access`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetAccess<'a> {
    /// Added this element (nothing, if it was there already).
    Add(&'a Value),
    /// Returned the whole set: these elements.
    Read(&'a Elements),
}

/// What a register operation does with the register's value: see [`Model::register_access`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegisterAccess<'a> {
    /// Returned this value.
    Read(&'a Value),
    /// Replaced the value with this one.
    Write(&'a Value),
    /// Replaced `expected` with `new` (a cas that did not succeed is no operation at all).
    Cas { expected: &'a Value, new: &'a Value },
}

/// A recorded operation, translated for a model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Prepared<Op> {
    /// The operation neither changes the state nor constrains it (a read whose result is not
    /// known): the search ignores it.
    Skip,
    /// A model operation, in the partition named by `key` (`None` when the model is not keyed).
    Op { key: Option<Value>, op: Op },
}

impl<Op> Prepared<Op> {
    /// An operation of an unkeyed model.
    pub fn op(op: Op) -> Prepared<Op> {
        Prepared::Op { key: None, op }
    }

    /// An operation on one key of a keyed model.
    pub fn keyed(key: Value, op: Op) -> Prepared<Op> {
        Prepared::Op { key: Some(key), op }
    }
}

/// What a first-in-first-out operation does with an element: see [`Model::fifo`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fifo<'a> {
    In(&'a Value),
    Out(&'a Value),
}

/// How a read that returned `nil` is understood.
///
/// Jepsen's etcd logs say `:ok :read nil` when the key is absent, so `nil` is a value to compare.
/// Knossos' histories say it when the client did not learn the value, so it constrains nothing.
/// [`NilReads::infer`] tells them apart by whether `nil` can be a value of the register at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NilReads {
    /// `nil` is the value read: the register was absent.
    Absent,
    /// `nil` means the result is unknown.
    Unknown,
}

impl NilReads {
    /// `Absent` if the register can hold `nil` (it starts as `nil`, or something writes `nil`);
    /// otherwise `Unknown`, since a `nil` read could not be a real observation. `keyed` says
    /// whether arguments come as `[key, value]` pairs.
    pub fn infer(init: &Value, operations: &[Operation], keyed: bool) -> NilReads {
        let writes_nil = operations.iter().any(|op| {
            let arg = if keyed {
                keyed_parts(op).map_or(Cow::Owned(Value::Null), |(_, arg, _)| arg)
            } else {
                Cow::Borrowed(&op.value)
            };
            match op.f.as_str() {
                "write" | "put" => arg.is_null(),
                "cas" => matches!(arg.as_pair(), Some((_, new)) if new.is_null()),
                // A list of integers holds no micro-operation: only lists of values are read.
                "txn" => matches!(arg.as_ref(), Value::List(micro) if micro.iter().any(|m| {
                    matches!(m.as_list().as_deref(), Some([Value::Str(f), _, v]) if f == "write" && v.is_null())
                })),
                _ => false,
            }
        });
        let starts_nil = match init {
            Value::Map(entries) => entries.values().any(Value::is_null),
            other => other.is_null(),
        };
        if starts_nil || writes_nil {
            NilReads::Absent
        } else {
            NilReads::Unknown
        }
    }
}

/// The key and the arguments/result of an operation of a keyed model: the key comes from the
/// `key` field, or, as Jepsen's independent histories write it, from a `[key, value]` pair.
#[allow(clippy::type_complexity)]
pub fn keyed_parts(op: &Operation) -> Result<(Value, Cow<'_, Value>, Cow<'_, Value>), String> {
    if let Some(key) = &op.key {
        return Ok((
            key.clone(),
            Cow::Borrowed(&op.value),
            Cow::Borrowed(&op.result),
        ));
    }
    match op.value.as_pair() {
        Some((key, value)) => {
            let result = match op.result.as_pair() {
                Some((_, r)) if op.outcome == Outcome::Ok => r,
                _ => Cow::Owned(Value::Null),
            };
            Ok((key.into_owned(), value, result))
        }
        _ => Err(format!(
            "expected a key: a `key` field, or a value of the form [key, value]; found value {}",
            op.value
        )),
    }
}

/// The `[expected, new]` arguments of a compare-and-set.
pub fn cas_args(value: &Value) -> Result<(Value, Value), String> {
    match value.as_pair() {
        Some((expected, new)) => Ok((expected.into_owned(), new.into_owned())),
        _ => Err(format!("cas expects [expected, new], found {value}")),
    }
}

/// An integer argument or result.
pub fn int_arg(what: &str, value: &Value) -> Result<i64, String> {
    value
        .as_i64()
        .ok_or_else(|| format!("{what} must be an integer, found {}", value.kind()))
}
