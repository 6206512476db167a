//! Operations: invocations paired with their completions.

use std::borrow::Cow;

use rustc_hash::FxHashMap;

use serde::Serialize;

use crate::error::{Position, ReadError};
use crate::name::Names;
use crate::text::{escape, quote};
use crate::{Event, EventKind, Name, Process, RecordedWith, Value};

/// How an operation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Took effect; the completion's value is the result.
    Ok,
    /// Certainly did not take effect.
    Fail,
    /// Indeterminate: completed with `info`.
    Info,
    /// Indeterminate: never completed before the history ended.
    Pending,
}

impl Outcome {
    /// Whether the operation may or may not have taken effect.
    pub fn is_indeterminate(self) -> bool {
        matches!(self, Outcome::Info | Outcome::Pending)
    }
}

/// One client operation: an invocation and (if any) its completion.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Operation {
    /// Position of this operation in [`History::operations`].
    pub id: usize,
    pub process: i64,
    /// The function: `read`, `write`, ... Shared with every operation of the same name.
    pub f: Name,
    /// The key, when the history gives it in a field of its own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<Value>,
    /// The value given at invocation (the arguments).
    pub value: Value,
    pub outcome: Outcome,
    /// The value given at completion (the result, for `ok`); null when there was no completion.
    pub result: Value,
    /// Why the operation failed or is indeterminate, when the history says. Boxed: most
    /// operations have none, and an unboxed [`Value`] would cost every one of them 24 bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Box<Value>>,
    /// Index of the invocation among all events: real-time order.
    pub invoked_at: u64,
    /// Index of the completion among all events; `None` if it never completed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<u64>,
    pub invoke_line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub complete_line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoke_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub complete_time: Option<i64>,
}

/// An event of the nemesis (fault injector): shown in reports, never checked.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NemesisEvent {
    #[serde(rename = "type")]
    pub kind: EventKind,
    pub f: String,
    pub value: Value,
    pub at: u64,
    pub line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<i64>,
}

/// A whole history, paired into operations in order of invocation.
#[derive(Clone, Debug, Default, Serialize)]
pub struct History {
    pub operations: Vec<Operation>,
    pub nemesis: Vec<NemesisEvent>,
    /// How many events (lines) the history had.
    pub event_count: u64,
    /// Problems that did not stop reading, such as a torn last line.
    pub warnings: Vec<String>,
    /// What the history was recorded with, from its header line, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header: Option<RecordedWith>,
}

impl History {
    /// Builds a history from events in real-time order, e.g. made by a test.
    pub fn from_events(events: impl IntoIterator<Item = Event>) -> Result<History, ReadError> {
        let mut builder = HistoryBuilder::new("<events>");
        for (i, event) in events.into_iter().enumerate() {
            builder.push(
                event,
                Position {
                    line: i + 1,
                    column: 1,
                },
            )?;
        }
        Ok(builder.finish())
    }
}

/// An event as a reader found it: an [`Event`] whose `f` may still be borrowed from the input.
#[derive(Debug)]
pub(crate) struct ParsedEvent<'a> {
    pub kind: EventKind,
    pub process: Process,
    pub f: Cow<'a, str>,
    pub value: Value,
    pub key: Option<Value>,
    pub time: Option<i64>,
    pub error: Option<Value>,
}

impl From<Event> for ParsedEvent<'static> {
    fn from(event: Event) -> Self {
        ParsedEvent {
            kind: event.kind,
            process: event.process,
            f: Cow::Owned(event.f),
            value: event.value,
            key: event.key,
            time: event.time,
            error: event.error,
        }
    }
}

impl ParsedEvent<'_> {
    pub(crate) fn into_event(self) -> Event {
        Event {
            kind: self.kind,
            process: self.process,
            f: self.f.into_owned(),
            value: self.value,
            key: self.key,
            time: self.time,
            error: self.error,
        }
    }
}

/// Pairs events into operations as they stream in, so a reader never holds the events and the
/// operations at once.
pub struct HistoryBuilder {
    origin: String,
    history: History,
    /// The open operation of each process.
    open: FxHashMap<i64, usize>,
    /// The operation names met so far, each kept once.
    names: Names,
}

impl HistoryBuilder {
    /// `origin` names the history in errors; its control characters are escaped there.
    pub fn new(origin: &str) -> HistoryBuilder {
        HistoryBuilder {
            origin: escape(origin),
            history: History::default(),
            open: FxHashMap::default(),
            names: Names::default(),
        }
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub fn warn(&mut self, warning: String) {
        self.history.warnings.push(warning);
    }

    /// Records what the history was recorded with, from its header.
    pub fn set_header(&mut self, header: RecordedWith) {
        self.history.header = Some(header);
    }

    /// Adds the next event; `at` is where it was read, for error messages.
    pub fn push(&mut self, event: Event, at: Position) -> Result<(), ReadError> {
        self.push_parsed(ParsedEvent::from(event), at)
    }

    /// Adds the next event as a reader found it, its `f` still borrowed from the input: only an
    /// invocation keeps a copy of it, a completion just compares it with its invocation's.
    pub(crate) fn push_parsed(
        &mut self,
        event: ParsedEvent<'_>,
        at: Position,
    ) -> Result<(), ReadError> {
        let seq = self.history.event_count;
        self.history.event_count += 1;
        let process = match event.process {
            Process::Client(p) => p,
            Process::Nemesis => {
                self.history.nemesis.push(NemesisEvent {
                    kind: event.kind,
                    f: event.f.into_owned(),
                    value: event.value,
                    at: seq,
                    line: at.line,
                    time: event.time,
                });
                return Ok(());
            }
        };
        match event.kind {
            EventKind::Invoke => {
                if let Some(&open) = self.open.get(&process) {
                    let prior = &self.history.operations[open];
                    return Err(ReadError::invalid(
                        &self.origin,
                        at,
                        format!(
                            "process {process} invokes `{}` while its `{}` invoked on line {} has not completed",
                            quote(&event.f),
                            quote(&prior.f),
                            prior.invoke_line
                        ),
                    ));
                }
                let id = self.history.operations.len();
                self.open.insert(process, id);
                self.history.operations.push(Operation {
                    id,
                    process,
                    f: self.names.intern(&event.f),
                    key: event.key,
                    value: event.value,
                    outcome: Outcome::Pending,
                    result: Value::Null,
                    error: event.error.map(Box::new),
                    invoked_at: seq,
                    completed_at: None,
                    invoke_line: at.line,
                    complete_line: None,
                    invoke_time: event.time,
                    complete_time: None,
                });
            }
            kind => {
                let Some(id) = self.open.remove(&process) else {
                    return Err(ReadError::invalid(
                        &self.origin,
                        at,
                        format!(
                            "`{}` completion of `{}` by process {process} has no matching invoke",
                            kind.as_str(),
                            quote(&event.f)
                        ),
                    ));
                };
                let op = &mut self.history.operations[id];
                if op.f.as_str() != event.f {
                    return Err(ReadError::invalid(
                        &self.origin,
                        at,
                        format!(
                            "process {process} completes `{}` but invoked `{}` on line {}",
                            quote(&event.f),
                            quote(&op.f),
                            op.invoke_line
                        ),
                    ));
                }
                if op.key.is_none() {
                    op.key = event.key;
                } else if event.key.is_some() && event.key != op.key {
                    return Err(ReadError::invalid(
                        &self.origin,
                        at,
                        format!(
                            "process {process} completes key {} but invoked key {} on line {}",
                            quote(&event.key.unwrap_or_default().to_json_string()),
                            quote(&op.key.clone().unwrap_or_default().to_json_string()),
                            op.invoke_line
                        ),
                    ));
                }
                op.outcome = match kind {
                    EventKind::Ok => Outcome::Ok,
                    EventKind::Fail => Outcome::Fail,
                    _ => Outcome::Info,
                };
                op.result = event.value;
                if let Some(error) = event.error {
                    op.error = Some(Box::new(error));
                }
                op.completed_at = Some(seq);
                op.complete_line = Some(at.line);
                op.complete_time = event.time;
            }
        }
        Ok(())
    }

    pub fn finish(mut self) -> History {
        // Vectors grow by doubling: give back what the last doubling reserved and never used.
        self.history.operations.shrink_to_fit();
        self.history.nemesis.shrink_to_fit();
        self.history
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(kind: EventKind, p: i64, f: &str, v: Value) -> Event {
        Event::new(kind, Process::Client(p), f, v)
    }

    #[test]
    fn pairs_invocations_with_completions() {
        let h = History::from_events([
            ev(EventKind::Invoke, 0, "write", 1.into()),
            ev(EventKind::Invoke, 1, "read", Value::Null),
            ev(EventKind::Ok, 1, "read", 1.into()),
        ])
        .unwrap();
        assert_eq!(h.operations.len(), 2);
        assert_eq!(h.operations[0].outcome, Outcome::Pending);
        assert_eq!(h.operations[1].outcome, Outcome::Ok);
        assert_eq!(h.operations[1].result, Value::Int(1));
        assert_eq!(h.operations[1].completed_at, Some(2));
    }

    #[test]
    fn rejects_double_invoke_and_orphan_completion() {
        let err = History::from_events([
            ev(EventKind::Invoke, 0, "write", 1.into()),
            ev(EventKind::Invoke, 0, "read", Value::Null),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("<events>:2:1"), "{err}");
        assert!(err.to_string().contains("has not completed"), "{err}");
        let err = History::from_events([ev(EventKind::Ok, 3, "read", 1.into())]).unwrap_err();
        assert!(err.to_string().contains("no matching invoke"), "{err}");
    }
}
