//! Readers for the history formats photofinish understands, and detection of which one a file is.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use crate::{Event, EventKind, History, HistoryBuilder, Process, ReadError, Value};

pub mod edn;
pub mod jepsen_log;
pub mod jsonl;

/// A history file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// photofinish's native format: one JSON object per line, with Jepsen's field names.
    JsonLines,
    /// Jepsen's EDN: one map per line, or one vector of maps.
    Edn,
    /// Jepsen's log: `INFO  jepsen.util - 3\t:invoke\t:cas\t[1 4]`.
    JepsenLog,
}

impl Format {
    /// Guesses the format from the start of the content.
    pub fn detect(head: &[u8]) -> Option<Format> {
        let text = String::from_utf8_lossy(head);
        let first = text
            .lines()
            .map(str::trim_start)
            .find(|l| !l.is_empty() && !l.starts_with(';'))?;
        if first.contains("jepsen.util") || first.starts_with("INFO") {
            Some(Format::JepsenLog)
        } else if first.starts_with("{\"") || first.starts_with("{ \"") {
            Some(Format::JsonLines)
        } else if first.starts_with(['{', '[', '#', '(']) {
            Some(Format::Edn)
        } else {
            None
        }
    }
}

/// Reads a history file, detecting its format unless one is given.
pub fn read_path(path: &Path, format: Option<Format>) -> Result<History, ReadError> {
    let origin = path.display().to_string();
    let file = File::open(path).map_err(|source| ReadError::Io {
        origin: origin.clone(),
        source,
    })?;
    read(BufReader::with_capacity(1 << 16, file), &origin, format)
}

/// Reads a history held in memory.
pub fn read_str(text: &str, origin: &str, format: Option<Format>) -> Result<History, ReadError> {
    read(text.as_bytes(), origin, format)
}

/// Reads a history from a stream; `origin` names it in errors.
pub fn read<R: BufRead>(
    mut input: R,
    origin: &str,
    format: Option<Format>,
) -> Result<History, ReadError> {
    let format = match format {
        Some(f) => f,
        None => {
            let head = input.fill_buf().map_err(|source| ReadError::Io {
                origin: origin.to_string(),
                source,
            })?;
            if head.iter().all(u8::is_ascii_whitespace) {
                return Ok(History::default());
            }
            Format::detect(head).ok_or_else(|| {
                ReadError::invalid(
                    origin,
                    crate::Position { line: 1, column: 1 },
                    "cannot tell the format: expected JSON Lines (`{\"type\": ...}`), Jepsen EDN (`{:type ...}` or `[{...}]`) or a Jepsen log (`INFO  jepsen.util - ...`); name it with --format",
                )
            })?
        }
    };
    let mut builder = HistoryBuilder::new(origin);
    match format {
        Format::JsonLines => jsonl::read_into(input, &mut builder)?,
        Format::Edn => edn::read_into(input, &mut builder)?,
        Format::JepsenLog => jepsen_log::read_into(input, &mut builder)?,
    }
    Ok(builder.finish())
}

/// Reads a line-oriented format. `parse` gets each line and its number, and answers `None` for
/// a line that holds no event, or the event, or an error with its column. An unparsable last
/// line without its newline is what a writer that crashed mid-line leaves: it is dropped with a
/// warning instead of failing the whole history.
pub(crate) fn read_lines<R: BufRead>(
    mut input: R,
    builder: &mut HistoryBuilder,
    mut parse: impl FnMut(&[u8], usize) -> Option<Result<Event, (usize, String)>>,
) -> Result<(), ReadError> {
    let mut line = Vec::with_capacity(256);
    let mut line_no = 0usize;
    loop {
        line.clear();
        let n = input
            .read_until(b'\n', &mut line)
            .map_err(|e| io_error(builder, e))?;
        if n == 0 {
            return Ok(());
        }
        line_no += 1;
        let at = |column| crate::Position {
            line: line_no,
            column,
        };
        match parse(&line, line_no) {
            None => {}
            Some(Ok(event)) => builder.push(event, at(1))?,
            Some(Err((_, message))) if line.last() != Some(&b'\n') => {
                builder.warn(format!(
                    "{}:{line_no}: ignored a torn last line ({message})",
                    builder.origin()
                ));
                return Ok(());
            }
            Some(Err((column, message))) => {
                return Err(ReadError::invalid(builder.origin(), at(column), message))
            }
        }
    }
}

pub(crate) fn io_error(builder: &HistoryBuilder, source: std::io::Error) -> ReadError {
    ReadError::Io {
        origin: builder.origin().to_string(),
        source,
    }
}

/// The fields of one event as a reader found them, before they are checked. Both the EDN and
/// the JSON Lines readers fill one of these, so the rules for what a valid event is live here.
#[derive(Default)]
pub(crate) struct Fields<'a> {
    pub kind: Option<std::borrow::Cow<'a, str>>,
    pub process: Option<Value>,
    pub f: Option<std::borrow::Cow<'a, str>>,
    pub value: Value,
    pub time: Option<Value>,
    pub key: Option<Value>,
    pub error: Option<Value>,
}

impl Fields<'_> {
    /// Takes Jepsen's operation fields from a map (keywords already turned into strings) in one
    /// pass; other fields (`index`, ...) are ignored.
    pub(crate) fn from_map(map: BTreeMap<Value, Value>) -> Result<Fields<'static>, String> {
        let mut fields = Fields::default();
        for (name, v) in map {
            let Value::Str(name) = name else { continue };
            let text = |v: Value, field: &str| match v {
                Value::Str(s) => Ok(Some(std::borrow::Cow::Owned(s))),
                other => Err(format!(
                    "`{field}` must be a keyword or string, found {}",
                    other.kind()
                )),
            };
            match name.as_str() {
                "type" => fields.kind = text(v, "type")?,
                "f" => fields.f = text(v, "f")?,
                "process" => fields.process = Some(v),
                "value" => fields.value = v,
                "time" => fields.time = Some(v),
                "key" => fields.key = Some(v),
                "error" => fields.error = Some(v),
                _ => {}
            }
        }
        Ok(fields)
    }

    pub(crate) fn into_event(self) -> Result<Event, String> {
        let kind = match self.kind.as_deref() {
            Some(k) => EventKind::parse(k)
                .ok_or_else(|| format!("`type` must be invoke, ok, fail or info, found `{k}`"))?,
            None => return Err("missing `type` (invoke, ok, fail or info)".to_string()),
        };
        let process = match &self.process {
            Some(v) => process_from_value(v)?,
            None => return Err("missing `process`".to_string()),
        };
        let f = match self.f {
            Some(f) => f.into_owned(),
            None => return Err("missing `f`".to_string()),
        };
        let time = match self.time {
            None | Some(Value::Null) => None,
            Some(Value::Int(t)) => Some(t),
            Some(Value::Float(t)) => Some(t.0 as i64),
            Some(other) => return Err(format!("`time` must be a number, found {}", other.kind())),
        };
        Ok(Event {
            kind,
            process,
            f,
            value: self.value,
            key: self.key,
            time,
            error: self.error.filter(|e| !e.is_null()),
        })
    }
}

fn process_from_value(v: &Value) -> Result<Process, String> {
    match v {
        Value::Int(p) => Ok(Process::Client(*p)),
        Value::Str(s) if s == "nemesis" => Ok(Process::Nemesis),
        Value::Str(s) => Err(format!(
            "`process` must be an integer or \"nemesis\", found \"{s}\""
        )),
        other => Err(format!(
            "`process` must be an integer or \"nemesis\", found {}",
            other.kind()
        )),
    }
}
