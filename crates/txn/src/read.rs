//! Reading transaction histories from files.
//!
//! The history readers of `photofinish-history` do the work. One addition: Elle's own example
//! histories (its paper's example among them) leave out `:process` and `:f`, writing one
//! invocation and its completion after another. When the history readers reject a file only
//! for that, it is read again line by line: a missing `f` is `txn`, and a completion without a
//! process completes the oldest open invocation without one whose micro-operations have the
//! same shape. Each such transaction gets a process of its own, so no process order is
//! assumed between them.

use std::path::Path;

use photofinish_history::formats::edn;
use photofinish_history::{
    read, Event, EventKind, Format, History, HistoryBuilder, Position, Process, ReadError, Value,
};

use crate::error::TxnError;
use crate::stream;
use crate::txns::{Txns, Workload};

/// Whether the content looks like JSON Lines, where the streaming reader may take it.
fn streamable(head: &[u8], format: Option<Format>) -> bool {
    match format {
        Some(Format::JsonLines) => true,
        Some(_) => false,
        None => Format::detect(head) == Some(Format::JsonLines),
    }
}

/// Reads the transactions of the history at `path` (format detected unless given).
pub fn read_txns(
    path: &Path,
    workload: Workload,
    format: Option<Format>,
) -> Result<(Txns, Vec<String>), TxnError> {
    let origin = path.display().to_string();
    if let Ok(file) = std::fs::File::open(path) {
        let mut input = std::io::BufReader::with_capacity(1 << 16, file);
        let head = std::io::BufRead::fill_buf(&mut input)
            .unwrap_or_default()
            .to_vec();
        if streamable(&head, format) {
            if let Some(txns) = stream::read_jsonl(input, workload, &origin) {
                return Ok((txns, Vec::new()));
            }
        }
    }
    let history = read_history(path, format)?;
    let anonymous = history.anonymous;
    let warnings = history.history.warnings.clone();
    let mut txns = Txns::from_history(&history.history, workload, &origin)?;
    txns.anonymous_processes = anonymous;
    Ok((txns, warnings))
}

/// Reads the transactions of a history held in memory; `origin` names it in errors.
pub fn read_txns_str(
    text: &str,
    origin: &str,
    workload: Workload,
    format: Option<Format>,
) -> Result<(Txns, Vec<String>), TxnError> {
    if streamable(text.as_bytes(), format) {
        if let Some(txns) = stream::read_jsonl(text.as_bytes(), workload, origin) {
            return Ok((txns, Vec::new()));
        }
    }
    let history = read_history_bytes(text.as_bytes(), origin, format)?;
    let anonymous = history.anonymous;
    let warnings = history.history.warnings.clone();
    let mut txns = Txns::from_history(&history.history, workload, origin)?;
    txns.anonymous_processes = anonymous;
    Ok((txns, warnings))
}

/// A history, and whether its processes were made up because it gave none.
pub struct ReadHistory {
    pub history: History,
    pub anonymous: bool,
}

/// Reads a history file, accepting events without `process` or `f` as Elle's examples write
/// them.
pub fn read_history(path: &Path, format: Option<Format>) -> Result<ReadHistory, TxnError> {
    let origin = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|source| ReadError::Io {
        origin: origin.clone(),
        source,
    })?;
    match read(
        std::io::BufReader::with_capacity(1 << 16, file),
        &origin,
        format,
    ) {
        Ok(history) => Ok(ReadHistory {
            history,
            anonymous: false,
        }),
        Err(e) if lacks_process_or_f(&e) => {
            let bytes = std::fs::read(path).map_err(|source| ReadError::Io {
                origin: origin.clone(),
                source,
            })?;
            read_anonymous(&bytes, &origin).map_err(|_| TxnError::Read(e))
        }
        Err(e) => Err(e.into()),
    }
}

fn read_history_bytes(
    bytes: &[u8],
    origin: &str,
    format: Option<Format>,
) -> Result<ReadHistory, TxnError> {
    match read(bytes, origin, format) {
        Ok(history) => Ok(ReadHistory {
            history,
            anonymous: false,
        }),
        Err(e) if lacks_process_or_f(&e) => {
            read_anonymous(bytes, origin).map_err(|_| TxnError::Read(e))
        }
        Err(e) => Err(e.into()),
    }
}

fn lacks_process_or_f(e: &ReadError) -> bool {
    matches!(e, ReadError::Invalid { message, .. }
        if message.contains("missing `process`") || message.contains("missing `f`"))
}

/// The shape of a transaction's micro-operations, for pairing completions with invocations:
/// names and keys.
fn shape(value: &Value) -> Vec<(Value, Value)> {
    value
        .as_list()
        .unwrap_or_default()
        .iter()
        .map(|m| match m.as_list().as_deref() {
            Some([f, k, ..]) => (f.clone(), k.clone()),
            _ => (Value::Null, Value::Null),
        })
        .collect()
}

/// Reads one event map per line (EDN or JSON), inventing what is missing.
fn read_anonymous(bytes: &[u8], origin: &str) -> Result<ReadHistory, ReadError> {
    let text = String::from_utf8_lossy(bytes);
    let mut builder = HistoryBuilder::new(origin);
    // Open invocations without a process: (process given, shape).
    let mut open: Vec<(i64, Vec<(Value, Value)>)> = Vec::new();
    let mut next_process = i64::MIN / 2;
    let mut anonymous = false;
    for (i, line) in text.lines().enumerate() {
        let at = Position {
            line: i + 1,
            column: 1,
        };
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with(';') {
            continue;
        }
        let value = if trimmed.starts_with("{\"") {
            serde_json::from_str::<Value>(trimmed).map_err(|e| {
                ReadError::invalid(origin, at, format!("expected a JSON event object: {e}"))
            })?
        } else {
            edn::parse_value(trimmed).map_err(|(column, message)| {
                ReadError::invalid(
                    origin,
                    Position {
                        line: i + 1,
                        column,
                    },
                    message,
                )
            })?
        };
        let Value::Map(map) = value else {
            return Err(ReadError::invalid(
                origin,
                at,
                "expected a map of operation fields",
            ));
        };
        let field = |name: &str| map.get(&Value::Str(name.to_string()));
        let kind = field("type")
            .and_then(Value::as_str)
            .and_then(EventKind::parse)
            .ok_or_else(|| {
                ReadError::invalid(origin, at, "missing `type` (invoke, ok, fail or info)")
            })?;
        let f = match field("f") {
            None => "txn".to_string(),
            Some(Value::Str(f)) => f.clone(),
            Some(_) => {
                return Err(ReadError::invalid(
                    origin,
                    at,
                    "`f` must be a keyword or string",
                ))
            }
        };
        let value = field("value").cloned().unwrap_or_default();
        let process = match field("process") {
            Some(Value::Int(p)) => *p,
            Some(Value::Str(s)) if s == "nemesis" => continue,
            Some(_) => {
                return Err(ReadError::invalid(
                    origin,
                    at,
                    "`process` must be an integer",
                ))
            }
            None => {
                anonymous = true;
                let shape = shape(&value);
                if kind == EventKind::Invoke {
                    next_process += 1;
                    open.push((next_process, shape));
                    next_process
                } else {
                    let Some(pos) = open.iter().position(|(_, s)| *s == shape) else {
                        return Err(ReadError::invalid(
                            origin,
                            at,
                            "a completion without `process` matches no open invocation with the same micro-operations",
                        ));
                    };
                    open.remove(pos).0
                }
            }
        };
        let mut event = Event::new(kind, Process::Client(process), f, value);
        event.time = field("time").and_then(Value::as_i64);
        builder.push(event, at)?;
    }
    Ok(ReadHistory {
        history: builder.finish(),
        anonymous,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_without_process_or_f_pair_by_shape() {
        let text = "{:index 0 :type :invoke :value [[:append 1 2]]}\n\
                    {:index 1 :type :invoke :value [[:r 1 nil]]}\n\
                    ; a comment\n\n\
                    {:index 2 :type :ok :value [[:r 1 [2]]]}\n\
                    {:index 3 :type :ok :value [[:append 1 2]]}\n";
        let (txns, _) = read_txns_str(text, "e.edn", Workload::ListAppend, None).unwrap();
        assert!(txns.anonymous_processes);
        assert_eq!(txns.txns.len(), 2);
        assert_eq!(txns.txns[0].complete_line, 6);
        assert_eq!(txns.txns[1].complete_line, 5);
        assert_ne!(txns.txns[0].process, txns.txns[1].process);
    }

    #[test]
    fn other_errors_are_reported_as_they_were() {
        let err = read_txns_str(
            "{:process 0 :type :bogus :f :txn :value []}",
            "e.edn",
            Workload::ListAppend,
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("e.edn:1:1"), "{err}");
        let err = read_txns_str(
            "{:type :ok :value [[:r 1 [2]]]}",
            "e.edn",
            Workload::ListAppend,
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("missing `process`"), "{err}");
    }
}
