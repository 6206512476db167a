//! Linearizability checking for photofinish.
//!
//! Given a [`History`](photofinish_history::History) and a [`Model`] of what the system
//! promises, [`check`] decides whether some order of the operations, consistent with real time,
//! explains every result the clients saw. When none does, the [`Report`] says which partition
//! failed, the operation that could not be placed, the longest linearization found and the
//! states possible just before; [`Model::diagnose`] says what the failure means in the user's
//! terms (a [`Diagnosis`]: "read 77, but 398 adds completed before it began").
//!
//! Built-in models are chosen by name with [`check_model`]; a model of your own implements
//! [`Model`] and goes to [`check`].
//!
//! Each partition is decided by the fastest exact procedure its shape allows (see
//! [`SearchChoice`]): a register whose written values are all distinct by the polynomial
//! unique-values procedure, a grow-only set by the set procedure (linear in the history), a
//! queue whose enqueued values are all distinct by the queue procedure, anything else by the
//! generic search, which is exponential in the number of concurrent operations at worst.
//! [`Report::procedures`] says which decided what, and why the generic search had to.

mod decimal;
pub mod diagnosis;
mod model;
pub mod models;
mod procedures;
mod report;
mod search;

use std::time::Duration;

use photofinish_history::History;

pub use diagnosis::{Diagnosis, DiagnosisKind};
pub use model::{
    cas_args, int_arg, keyed_parts, CounterAccess, Fifo, Model, NilReads, Prepared, QueueAccess,
    RegisterAccess, SetAccess,
};
pub use models::{check_model, default_init, ModelInfo, MODELS};
pub use report::{
    Coverage, EarlierStates, Failure, ProcedureUse, Report, Step, UndecidedPartition, Verdict,
    Witness, GENERIC_SEARCH, GROWING_SET, UNIFORM_COUNTER, UNIQUE_QUEUE, UNIQUE_VALUES,
};
pub use search::NOTHING_TESTED;

/// How hard to try.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// Stop and answer [`Verdict::Unknown`] after this long.
    pub timeout: Option<Duration>,
    /// Stop and answer [`Verdict::Unknown`] before the search's memory passes this many bytes.
    pub max_memory: usize,
    /// Decide every partition instead of stopping at the first that fails.
    pub all_partitions: bool,
    /// Which decision procedure decides a partition.
    pub search: SearchChoice,
}

/// Which decision procedure decides a partition.
///
/// The generic search decides any model, in time exponential in the number of concurrent
/// operations at worst. Where a partition's shape allows, [`SearchChoice::Auto`] uses an exact
/// polynomial procedure instead: for a register (`register`, `cas-register`, each key of `kv`)
/// whose written values are all distinct, the unique-values procedure ([`UNIQUE_VALUES`]); for
/// a grow-only `set`, the set procedure ([`GROWING_SET`]), whatever its elements; for a `queue`
/// whose enqueued values are all distinct, the queue procedure ([`UNIQUE_QUEUE`]); for a
/// `counter` whose adds all add the same positive amount, the counter procedure
/// ([`UNIFORM_COUNTER`]). Each gives
/// the same verdict as the generic search; the report's [`procedures`](Report::procedures)
/// says which decided what.
///
/// ```
/// use photofinish_check::{check_model, CheckOptions, SearchChoice, Verdict, UNIQUE_VALUES};
/// use photofinish_history::read_str;
///
/// // A stale read: 1 was overwritten by 2 before the read began.
/// let history = read_str(r#"{"type":"invoke","f":"write","value":1,"process":0}
/// {"type":"ok","f":"write","value":1,"process":0}
/// {"type":"invoke","f":"write","value":2,"process":0}
/// {"type":"ok","f":"write","value":2,"process":0}
/// {"type":"invoke","f":"read","value":null,"process":1}
/// {"type":"ok","f":"read","value":1,"process":1}
/// "#, "stale", None).unwrap();
/// let report = check_model("register", None, None, &history, &CheckOptions::default()).unwrap();
/// assert_eq!(report.verdict, Verdict::Invalid);
/// assert_eq!(report.procedures[0].name, UNIQUE_VALUES);
///
/// let generic = CheckOptions { search: SearchChoice::Generic, ..CheckOptions::default() };
/// let report = check_model("register", None, None, &history, &generic).unwrap();
/// assert_eq!(report.verdict, Verdict::Invalid);
/// assert_eq!(report.procedures[0].name, "generic search");
/// ```
///
/// A set that lost an element: the add of 2 was acknowledged before the read began.
///
/// ```
/// use photofinish_check::{check_model, CheckOptions, Verdict, GROWING_SET};
/// use photofinish_history::read_str;
///
/// let history = read_str(r#"{"type":"invoke","f":"add","value":1,"process":0}
/// {"type":"ok","f":"add","value":1,"process":0}
/// {"type":"invoke","f":"add","value":2,"process":0}
/// {"type":"ok","f":"add","value":2,"process":0}
/// {"type":"invoke","f":"read","value":null,"process":1}
/// {"type":"ok","f":"read","value":[1],"process":1}
/// "#, "lost", None).unwrap();
/// let report = check_model("set", None, None, &history, &CheckOptions::default()).unwrap();
/// assert_eq!(report.verdict, Verdict::Invalid);
/// assert_eq!(report.procedures[0].name, GROWING_SET);
/// assert!(report.failures[0].reason.contains("misses 2, yet the `add` of 2"));
/// ```
///
/// A queue that returned its elements out of order: 1 went in before 2 began, yet 2 came out
/// first.
///
/// ```
/// use photofinish_check::{check_model, CheckOptions, Verdict, UNIQUE_QUEUE};
/// use photofinish_history::read_str;
///
/// let history = read_str(r#"{"type":"invoke","f":"enqueue","value":1,"process":0}
/// {"type":"ok","f":"enqueue","value":1,"process":0}
/// {"type":"invoke","f":"enqueue","value":2,"process":0}
/// {"type":"ok","f":"enqueue","value":2,"process":0}
/// {"type":"invoke","f":"dequeue","value":null,"process":1}
/// {"type":"ok","f":"dequeue","value":2,"process":1}
/// {"type":"invoke","f":"dequeue","value":null,"process":1}
/// {"type":"ok","f":"dequeue","value":1,"process":1}
/// "#, "reordered", None).unwrap();
/// let report = check_model("queue", None, None, &history, &CheckOptions::default()).unwrap();
/// assert_eq!(report.verdict, Verdict::Invalid);
/// assert_eq!(report.procedures[0].name, UNIQUE_QUEUE);
/// assert!(report.failures[0].reason.contains("in the order they went in"));
/// ```
///
/// A counter that lost an increment: two adds of 1 completed before the read began, which
/// returned 1.
///
/// ```
/// use photofinish_check::{check_model, CheckOptions, Verdict, UNIFORM_COUNTER};
/// use photofinish_history::read_str;
///
/// let history = read_str(r#"{"type":"invoke","f":"add","value":1,"process":0}
/// {"type":"invoke","f":"add","value":1,"process":1}
/// {"type":"ok","f":"add","value":1,"process":0}
/// {"type":"ok","f":"add","value":1,"process":1}
/// {"type":"invoke","f":"read","value":null,"process":2}
/// {"type":"ok","f":"read","value":1,"process":2}
/// "#, "lost", None).unwrap();
/// let report = check_model("counter", None, None, &history, &CheckOptions::default()).unwrap();
/// assert_eq!(report.verdict, Verdict::Invalid);
/// assert_eq!(report.procedures[0].name, UNIFORM_COUNTER);
/// assert!(report.failures[0].reason.contains("2 adds had completed before it began"));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SearchChoice {
    /// The fastest exact procedure each partition allows.
    #[default]
    Auto,
    /// The generic search for every partition.
    Generic,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            timeout: None,
            max_memory: 4 << 30,
            all_partitions: false,
            search: SearchChoice::Auto,
        }
    }
}

/// Why a history could not be checked at all.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("line {line}: {message}")]
    BadOperation { line: usize, message: String },
    #[error("bad initial value: {0}")]
    BadInit(String),
    #[error("unknown model `{0}`; the models are: {names}", names = model_names())]
    UnknownModel(String),
}

fn model_names() -> String {
    MODELS.iter().map(|m| m.name).collect::<Vec<_>>().join(", ")
}

/// Checks `history` against `model`. See [`Model`] for an example with a model of your own.
pub fn check<M: Model>(
    model: &M,
    history: &History,
    options: &CheckOptions,
) -> Result<Report, CheckError> {
    search::check(model, history, options)
}
