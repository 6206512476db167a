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
}

impl Completion {
    pub fn is_info(&self) -> bool {
        matches!(self, Completion::Info(_))
    }
}
