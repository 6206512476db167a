//! One operation as the runner hands it to a client, and what the client says happened.

use photofinish_history::Value;
use serde::{Deserialize, Serialize};

/// An operation to perform: the `f`, `key` and `value` of the history's invoke event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Invocation {
    pub f: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<Value>,
    #[serde(default)]
    pub value: Value,
}

impl Invocation {
    pub fn new(f: &str, key: Option<Value>, value: Value) -> Invocation {
        Invocation {
            f: f.to_string(),
            key,
            value,
        }
    }
}

/// What a client learned about an operation. The distinction between `Fail` and `Info` is the
/// one the checker relies on: `Fail` promises the operation had no effect, `Info` does not.
#[derive(Clone, Debug, PartialEq)]
pub enum Completion {
    /// It happened, with this result (`null` for operations that return nothing).
    Ok(Value),
    /// It certainly did not happen (a refused cas, a lock held by someone else, a rejected
    /// request): the error says why.
    Fail(String),
    /// Nobody knows whether it happened: a timeout, a lost connection, a crash.
    Info(String),
    /// Nobody knows whether it happened (recorded as `info` with the reason), and the run
    /// must not go on: the runner stops every client and the summary says why.
    Halt(Halt),
}

impl Completion {
    /// Whether the history records it as `info`: the operation may or may not have happened,
    /// and the process that issued it is not used again.
    pub fn is_info(&self) -> bool {
        matches!(self, Completion::Info(_) | Completion::Halt(_))
    }

    /// An operation refused before its request was sent, because no connection could be made:
    /// `Fail` (certainly no effect) with an error that begins [`CANNOT_CONNECT`] and names the
    /// cause as a person reads it, `connection refused (127.0.0.1:18099)`, found in `error`'s
    /// chain of sources. The runner counts such failures, with failed connects, when it decides
    /// whether the target can be used at all.
    ///
    /// ```
    /// use photofinish_run::Completion;
    ///
    /// let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
    /// let completion = Completion::cannot_connect("127.0.0.1:18099", &refused);
    /// assert_eq!(
    ///     completion,
    ///     Completion::Fail("cannot connect: connection refused (127.0.0.1:18099)".into())
    /// );
    /// assert!(completion.is_connect_failure());
    /// ```
    pub fn cannot_connect(address: &str, error: &(dyn std::error::Error + 'static)) -> Completion {
        Completion::Fail(cannot_connect_error(address, error))
    }

    /// Whether it failed because no connection could be made (see
    /// [`Completion::cannot_connect`]).
    pub fn is_connect_failure(&self) -> bool {
        matches!(self, Completion::Fail(error) if error.starts_with(CANNOT_CONNECT))
    }

    /// The error the history records with it: none for `Ok`, the reason for the others.
    pub fn error(&self) -> Option<&str> {
        match self {
            Completion::Ok(_) => None,
            Completion::Fail(error) | Completion::Info(error) => Some(error),
            Completion::Halt(halt) => Some(&halt.reason),
        }
    }
}

/// How the error of an operation refused for want of a connection begins.
pub const CANNOT_CONNECT: &str = "cannot connect: ";

/// The error of an operation refused for want of a connection to `address`, as
/// [`Completion::cannot_connect`] records it: `cannot connect: connection refused
/// (127.0.0.1:18099)`.
pub fn cannot_connect_error(address: &str, error: &(dyn std::error::Error + 'static)) -> String {
    format!("{CANNOT_CONNECT}{} ({address})", connect_cause(error))
}

/// The cause of a failed connection as a person reads it: the operating system's error at the
/// bottom of `error`'s sources (`connection refused`, `connection timed out`), else the
/// innermost message.
fn connect_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut innermost = error;
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind::*;
            let named = match io.kind() {
                ConnectionRefused => Some("connection refused"),
                ConnectionReset => Some("connection reset"),
                TimedOut => Some("connection timed out"),
                AddrNotAvailable => Some("address not available"),
                NotFound => Some("no such address"),
                _ => None,
            };
            if let Some(named) = named {
                return named.to_string();
            }
        }
        innermost = e;
        current = e.source();
    }
    innermost.to_string()
}

/// Why a run stopped before its budget was spent: what went wrong, and what kind of problem
/// it is, which decides the exit code.
///
/// ```
/// use photofinish_run::{Completion, Halt, HaltKind};
///
/// let halt = Halt::new(
///     HaltKind::WorkloadMismatch,
///     "read's result at /value is a string, the workload needs an integer",
/// );
/// assert_eq!(halt.kind.exit_code(), 2);
/// let completion = Completion::Halt(halt);
/// assert!(completion.is_info());
/// assert_eq!(completion.error(), Some("read's result at /value is a string, the workload needs an integer"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Halt {
    /// What happened and what to do about it, for a person.
    pub reason: String,
    pub kind: HaltKind,
}

impl Halt {
    pub fn new(kind: HaltKind, reason: impl Into<String>) -> Halt {
        Halt {
            reason: reason.into(),
            kind,
        }
    }
}

/// What kind of problem stopped a run early.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HaltKind {
    /// The workload does not describe the target's answers (a result of the wrong shape): exit 2.
    WorkloadMismatch,
    /// The target cannot be used (refuses every connection, most operations time out or
    /// answer garbage): exit 3 unless the check already finds the history INVALID.
    TargetUnusable,
}

impl HaltKind {
    /// The exit code of a run that stopped for this reason, unless the history recorded so far
    /// is already INVALID (exit 1 wins): 2 for a workload that does not fit the target (bad
    /// input), 3 for a target that could not be tested (undecided).
    pub fn exit_code(self) -> u8 {
        match self {
            HaltKind::WorkloadMismatch => 2,
            HaltKind::TargetUnusable => 3,
        }
    }
}
