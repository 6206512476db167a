//! What a check found, in a form both people and programs read.

use std::time::Duration;

use serde::Serialize;

use photofinish_history::stall::Stall;
use photofinish_history::{Operation, Outcome, Value};

use crate::diagnosis::Diagnosis;

/// The answer to "could a correct system have produced this history?".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Yes: every partition has a linearization.
    Valid,
    /// No: some partition has none. The report says where the search got stuck.
    Invalid,
    /// Not decided within the time or memory budget; the report says why.
    Unknown,
}

impl Verdict {
    /// The process exit code for this verdict: 0 valid, 1 anomaly found, 3 undecided.
    pub fn exit_code(self) -> i32 {
        match self {
            Verdict::Valid => 0,
            Verdict::Invalid => 1,
            Verdict::Unknown => 3,
        }
    }
}

/// The result of checking a history against a model.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub verdict: Verdict,
    /// Why the verdict is what it is when no partition says so, e.g. "nothing was tested: no
    /// operation completed ok" for an [`Verdict::Unknown`] on a history that proves nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub model: String,
    /// Client operations in the history.
    pub operations: usize,
    /// How many operations completed ok, failed, or ended indeterminately: how much the verdict
    /// rests on.
    pub coverage: Coverage,
    /// What the failing partitions show in the user's terms, most telling first: the findings
    /// of every failure, in order. The first thing to read in an invalid report.
    pub diagnosis: Vec<Diagnosis>,
    /// What a reader of the verdict should know: most operations indeterminate, an initial
    /// value that was assumed rather than given, ...
    pub warnings: Vec<String>,
    /// Independent partitions (keys) the history split into.
    pub partitions: usize,
    /// Partitions whose verdict was decided before the check stopped.
    pub decided: usize,
    /// Every partition found not linearizable: all of them when every partition was asked
    /// for; otherwise the one whose first event comes first in the history.
    pub failures: Vec<Failure>,
    /// The first failure's partition shrunk to a few operations that alone have no
    /// linearization.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub witness: Option<Witness>,
    /// Partitions left undecided, and why.
    pub undecided: Vec<UndecidedPartition>,
    /// Which procedures decided the partitions, how many each, in how long: a polynomial
    /// procedure where the model has one and it applies ([`UNIQUE_VALUES`] for registers,
    /// [`GROWING_SET`] for sets, [`UNIQUE_QUEUE`] for queues, [`UNIFORM_COUNTER`] for counters),
    /// the generic search ([`GENERIC_SEARCH`]) elsewhere, and why.
    pub procedures: Vec<ProcedureUse>,
    /// Configurations the search explored, over all partitions.
    pub configurations: u64,
    #[serde(serialize_with = "as_millis")]
    pub elapsed: Duration,
    /// Spans in which operations waited and none completed: those the run recorded, else those
    /// the events' times show (see [`photofinish_history::stall`]). They leave the verdict
    /// alone: an operation caught in a stall is indeterminate, and proves nothing either way.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stalls: Vec<Stall>,
}

/// The name of the polynomial procedure for registers whose written values are all distinct.
pub const UNIQUE_VALUES: &str = "unique-values procedure";

/// The name of the polynomial procedure for grow-only sets read whole.
pub const GROWING_SET: &str = "grow-only set procedure";

/// The name of the polynomial procedure for FIFO queues whose enqueued values are all distinct.
pub const UNIQUE_QUEUE: &str = "unique-elements queue procedure";

/// The name of the polynomial procedure for counters whose adds all add the same positive
/// amount.
pub const UNIFORM_COUNTER: &str = "uniform-adds counter procedure";

/// The name of the generic search (exponential at worst).
pub const GENERIC_SEARCH: &str = "generic search";

/// The partitions one procedure decided.
#[derive(Clone, Debug, Serialize)]
pub struct ProcedureUse {
    /// [`UNIQUE_VALUES`], [`GROWING_SET`], [`UNIQUE_QUEUE`], [`UNIFORM_COUNTER`] or
    /// [`GENERIC_SEARCH`].
    pub name: String,
    /// How many partitions it decided.
    pub partitions: usize,
    /// The time it took, over all those partitions (threads add up).
    #[serde(serialize_with = "as_millis")]
    pub elapsed: Duration,
    /// For the generic search: why a faster procedure could not decide these partitions
    /// ("values repeat: 3 writes of 7"), the first partition's reason and how many more had one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
}

/// How many client operations ended each way. `info` counts every indeterminate operation:
/// those that completed `info` and those that never completed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Coverage {
    pub ok: usize,
    pub fail: usize,
    pub info: usize,
}

impl Coverage {
    /// Counts the outcomes of `operations`.
    pub fn of(operations: &[Operation]) -> Coverage {
        let mut coverage = Coverage::default();
        for op in operations {
            match op.outcome {
                Outcome::Ok => coverage.ok += 1,
                Outcome::Fail => coverage.fail += 1,
                Outcome::Info | Outcome::Pending => coverage.info += 1,
            }
        }
        coverage
    }

    pub fn total(&self) -> usize {
        self.ok + self.fail + self.info
    }
}

/// Why one partition is not linearizable: the deepest point any search order reached.
#[derive(Clone, Debug, Serialize)]
pub struct Failure {
    /// The partition's key; `None` for an unkeyed model.
    pub key: Option<Value>,
    /// What went wrong, in a sentence.
    pub reason: String,
    /// What the partition shows in the user's terms ("read 77, but 398 adds completed before
    /// it began"), each finding true whatever order the concurrent operations took. Empty when
    /// nothing can be said that way; the stuck operation and the witness still say where.
    /// Serialized once, as the report's top-level `diagnosis`.
    #[serde(skip)]
    pub diagnosis: Vec<Diagnosis>,
    /// The operation that could not be placed: it returned, and no order of the operations
    /// open at that moment lets it take effect.
    pub stuck: Option<Operation>,
    /// The end of the longest linearization found, with the model state after each step.
    pub prefix: Vec<Step>,
    /// How many operations that linearization has in all (`prefix` keeps the last ones).
    pub prefix_len: usize,
    /// The model states in which the stuck operation was tried, after every operation that
    /// must precede it, and could not take effect (or could no longer grow into what it saw).
    /// Empty when the search never got as far as its invocation: see `earlier_states`.
    pub possible_states: Vec<Value>,
    /// When no state got as far as the stuck operation's invocation: the last states the
    /// search had, and the history line they held just before. None of them could become what
    /// the stuck operation saw.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub earlier_states: Option<EarlierStates>,
    /// The operations concurrent with the stuck one (invoked before it returned, returned after
    /// it was invoked or never), in order of invocation: the ones whose order was in question.
    pub concurrent: Vec<Operation>,
}

/// States the search had at a point before the stuck operation began.
#[derive(Clone, Debug, Serialize)]
pub struct EarlierStates {
    /// The states held just before this line of the history.
    pub before_line: usize,
    pub states: Vec<Value>,
}

/// A small set of operations that alone have no linearization: the counterexample to read
/// first. It is found by removing operations from the failing partition while the rest stays
/// impossible to explain.
#[derive(Clone, Debug, Serialize)]
pub struct Witness {
    /// The partition's key; `None` for an unkeyed model.
    pub key: Option<Value>,
    /// Whether removing any one of the operations makes the rest linearizable. False when the
    /// shrinking ran out of its time budget first: the witness is then smaller than the
    /// partition, but maybe not as small as it gets.
    pub minimal: bool,
    /// Whether the shrinker worked on them. False when they are a polynomial procedure's
    /// counterexample left as it found it: too many operations for the shrinker to work on
    /// within its budget, or a conflict in what the operations saw that shrinking would
    /// misrepresent.
    pub shrunk: bool,
    /// The operations, in order of invocation, as the history recorded them (with their lines).
    pub operations: Vec<Operation>,
}

/// One operation of a linearization.
#[derive(Clone, Debug, Serialize)]
pub struct Step {
    /// 1-based position in the linearization.
    pub index: usize,
    pub op: Operation,
    /// The model state after this operation.
    pub state: Value,
}

/// A partition the check could not decide.
#[derive(Clone, Debug, Serialize)]
pub struct UndecidedPartition {
    pub key: Option<Value>,
    pub reason: String,
}

fn as_millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64() * 1e3)
}
