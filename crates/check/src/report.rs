//! What a check found, in a form both people and programs read.

use std::time::Duration;

use serde::Serialize;

use photofinish_history::{Operation, Value};

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
    pub model: String,
    /// Client operations in the history.
    pub operations: usize,
    /// Independent partitions (keys) the history split into.
    pub partitions: usize,
    /// Partitions whose verdict was decided before the check stopped.
    pub decided: usize,
    /// Every partition found not linearizable (only the first, unless all were asked for).
    pub failures: Vec<Failure>,
    /// Partitions left undecided, and why.
    pub undecided: Vec<UndecidedPartition>,
    /// Configurations the search explored, over all partitions.
    pub configurations: u64,
    #[serde(serialize_with = "as_millis")]
    pub elapsed: Duration,
}

/// Why one partition is not linearizable: the deepest point any search order reached.
#[derive(Clone, Debug, Serialize)]
pub struct Failure {
    /// The partition's key; `None` for an unkeyed model.
    pub key: Option<Value>,
    /// What went wrong, in a sentence.
    pub reason: String,
    /// The operation that could not be placed: it returned, and no order of the operations
    /// open at that moment lets it take effect.
    pub stuck: Option<Operation>,
    /// The end of the longest linearization found, with the model state after each step.
    pub prefix: Vec<Step>,
    /// How many operations that linearization has in all (`prefix` keeps the last ones).
    pub prefix_len: usize,
    /// Model states that were possible just before the stuck operation.
    pub possible_states: Vec<Value>,
    /// Other operations open at that moment: those the search tried to place first.
    pub concurrent: Vec<Operation>,
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
