//! One line of a history: an invocation or a completion.

use serde::{Deserialize, Serialize};

use crate::Value;

/// What an event says about its operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    /// The operation started.
    Invoke,
    /// The operation took effect.
    Ok,
    /// The operation certainly did not take effect.
    Fail,
    /// Nobody knows whether the operation took effect (a timeout, a lost connection). It may take
    /// effect at any moment after its invocation, even after the history ends.
    Info,
}

impl EventKind {
    pub fn parse(text: &str) -> Option<EventKind> {
        match text {
            "invoke" => Some(EventKind::Invoke),
            "ok" => Some(EventKind::Ok),
            "fail" => Some(EventKind::Fail),
            "info" => Some(EventKind::Info),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Invoke => "invoke",
            EventKind::Ok => "ok",
            EventKind::Fail => "fail",
            EventKind::Info => "info",
        }
    }
}

/// Who performed an event. Only clients perform operations that a model checks; the nemesis
/// (the fault injector) logs its own actions in the same history.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Process {
    Client(i64),
    Nemesis,
}

impl Process {
    pub fn client(self) -> Option<i64> {
        match self {
            Process::Client(p) => Some(p),
            Process::Nemesis => None,
        }
    }
}

impl std::fmt::Display for Process {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Process::Client(p) => write!(f, "{p}"),
            Process::Nemesis => f.write_str("nemesis"),
        }
    }
}

impl Serialize for Process {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Process::Client(p) => s.serialize_i64(*p),
            Process::Nemesis => s.serialize_str("nemesis"),
        }
    }
}

/// One recorded event, as read from a file or taken from a [`crate::Recorder`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Event {
    #[serde(rename = "type")]
    pub kind: EventKind,
    pub process: Process,
    pub f: String,
    pub value: Value,
    /// The key of a keyed operation, when the history gives it in a field of its own rather than
    /// inside `value`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<Value>,
    /// Wall-clock time in nanoseconds, when recorded. Only for display: real-time order is the
    /// order of events in the history.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
}

impl Event {
    pub fn new(kind: EventKind, process: Process, f: impl Into<String>, value: Value) -> Event {
        Event {
            kind,
            process,
            f: f.into(),
            value,
            key: None,
            time: None,
            error: None,
        }
    }

    pub fn with_key(mut self, key: impl Into<Value>) -> Event {
        self.key = Some(key.into());
        self
    }
}
