//! Readers for the history formats photofinish understands, and detection of which one a file is.
//!
//! Every reader streams: it holds one record at a time (a line of a Jepsen log, an element of a
//! JSON array, a form of EDN) or, for JSON Lines, one batch of lines (about 4 MiB, parsed on
//! every CPU), never the whole input, and a record longer than
//! [`ReadOptions::max_record_bytes`] (16 MiB unless set) is an error naming where it starts.
//! The common shape of a JSON Lines or EDN event is read by a scanner of its own that leaves
//! anything else to the general parser, so errors and their positions are the general
//! parser's. Every
//! format reads `\n`, `\r\n` and lone `\r` line endings and skips a UTF-8 byte-order mark. A
//! writer that crashed mid-record leaves a torn last record: it is dropped with a warning in
//! [`crate::History::warnings`] and the rest is checked.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read};
use std::path::Path;

use crate::history::ParsedEvent;
use crate::text::quote;
use crate::{Event, EventKind, History, HistoryBuilder, Position, Process, ReadError, Value};

mod detect;
pub mod edn;
mod edn_fast;
pub mod jepsen_log;
pub(crate) mod json;
mod json_array;
mod json_fast;
pub mod jsonl;
mod lines;

use detect::{content_start, detect, Detected, BOM, HEAD_BYTES};
use lines::{Batch, BatchLine, LineError, Lines};

/// A history file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// photofinish's native format: one JSON object per line, with Jepsen's field names. A JSON
    /// array of the same objects (`[{"process": 0, "type": "invoke", ...}, ...]`, on one line or
    /// many, as elle-cli and Jepsen write JSON) is read under this format too.
    JsonLines,
    /// Jepsen's EDN: one map per line, or one vector of maps.
    Edn,
    /// Jepsen's log: `INFO  jepsen.util - 3\t:invoke\t:cas\t[1 4]`.
    JepsenLog,
}

/// The most bytes one record may hold unless [`ReadOptions::max_record_bytes`] says otherwise.
pub const DEFAULT_MAX_RECORD_BYTES: usize = 16 << 20;

/// How to read a history.
///
/// ```
/// use photofinish_history::{read_with, Format, ReadOptions};
///
/// let options = ReadOptions { format: Some(Format::JsonLines), max_record_bytes: 64 };
/// let long = format!("{{\"type\":\"invoke\",\"f\":\"{}\",\"process\":0}}\n", "x".repeat(100));
/// let err = read_with(long.as_bytes(), "h.jsonl", &options).unwrap_err();
/// assert_eq!(err.to_string(), "h.jsonl:1:1: the line is longer than 64 bytes, the most one record may hold");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadOptions {
    /// The format, or `None` to detect it from the start of the input.
    pub format: Option<Format>,
    /// The most bytes one record may hold: a line of JSON Lines or of a Jepsen log, an element
    /// of a JSON array, a top-level form of EDN. Bounds the memory a hostile or broken input
    /// (`/dev/zero`) can take.
    pub max_record_bytes: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            format: None,
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
        }
    }
}

impl ReadOptions {
    /// The defaults, with `format` given (or detected when `None`).
    pub fn format(format: Option<Format>) -> ReadOptions {
        ReadOptions {
            format,
            ..ReadOptions::default()
        }
    }
}

/// Reads a history file, detecting its format unless one is given.
pub fn read_path(path: &Path, format: Option<Format>) -> Result<History, ReadError> {
    read_path_with(path, &ReadOptions::format(format))
}

/// Reads a history file with the given options.
pub fn read_path_with(path: &Path, options: &ReadOptions) -> Result<History, ReadError> {
    let origin = path.display().to_string();
    let file = File::open(path).map_err(|source| ReadError::Io {
        origin: crate::text::escape(&origin),
        source,
    })?;
    read_with(BufReader::with_capacity(1 << 16, file), &origin, options)
}

/// Reads a history held in memory.
pub fn read_str(text: &str, origin: &str, format: Option<Format>) -> Result<History, ReadError> {
    read(text.as_bytes(), origin, format)
}

/// Reads a history from a stream; `origin` names it in errors.
pub fn read<R: BufRead>(
    input: R,
    origin: &str,
    format: Option<Format>,
) -> Result<History, ReadError> {
    read_with(input, origin, &ReadOptions::format(format))
}

/// Reads a history from any stream, standard input included: detection reads ahead into a
/// buffer of its own, so the stream need not be seekable.
///
/// ```
/// use photofinish_history::{read_with, ReadOptions};
///
/// // A JSON array of events, as elle-cli and Jepsen write them, arriving a few bytes at a time.
/// let text = "[{\"process\":0,\"type\":\"invoke\",\"f\":\"read\",\"value\":null,\"index\":0},\n {\"process\":0,\"type\":\"ok\",\"f\":\"read\",\"value\":18446744073709551615}]";
/// let slow = std::io::BufReader::with_capacity(3, text.as_bytes());
/// let history = read_with(slow, "-", &ReadOptions::default()).unwrap();
/// assert_eq!(history.operations[0].result.to_json_string(), "18446744073709551615");
/// assert_eq!(history.operations[0].complete_line, Some(2));
/// ```
pub fn read_with<R: BufRead>(
    mut input: R,
    origin: &str,
    options: &ReadOptions,
) -> Result<History, ReadError> {
    let io = |source| ReadError::Io {
        origin: crate::text::escape(origin),
        source,
    };
    // Read ahead until the format is known, keeping what was read to read it again.
    let mut head = Vec::new();
    let mut complete = false;
    loop {
        let decided = match options.format {
            Some(_) => head.len() >= BOM.len() && content_start(&head).is_some(),
            None => !matches!(detect(&head, false), Detected::NeedMore),
        };
        if decided || head.len() >= HEAD_BYTES {
            break;
        }
        let chunk = match input.fill_buf() {
            Ok(chunk) => chunk,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io(e)),
        };
        if chunk.is_empty() {
            complete = true;
            break;
        }
        let take = chunk.len().min(HEAD_BYTES - head.len());
        head.extend_from_slice(&chunk[..take]);
        input.consume(take);
    }
    let format = match options.format {
        Some(format) => format,
        None if complete && content_start(&head).is_none() => return Ok(History::default()),
        None => match detect(&head, complete) {
            Detected::Format(format) => format,
            Detected::Unknown | Detected::NeedMore => {
                return Err(ReadError::invalid(
                    &crate::text::escape(origin),
                    Position { line: 1, column: 1 },
                    "cannot tell the format: expected JSON Lines (`{\"type\": ...}`), a JSON array of events (`[{\"type\": ...}]`), Jepsen EDN (`{:type ...}` or `[{...}]`) or a Jepsen log (`INFO  jepsen.util - ...`); name it with --format",
                ))
            }
        },
    };
    let array = content_start(&head).is_some_and(|i| head[i] == b'[');
    if head.starts_with(BOM) {
        head.drain(..BOM.len());
    }
    let input = Cursor::new(head).chain(input);
    let max = options.max_record_bytes;
    let mut builder = HistoryBuilder::new(origin);
    match format {
        Format::JsonLines if array => json_array::read_into(input, &mut builder, max)?,
        Format::JsonLines => jsonl::read_into(input, &mut builder, max)?,
        Format::Edn => edn::read_into(input, &mut builder, max)?,
        Format::JepsenLog => jepsen_log::read_into(input, &mut builder, max)?,
    }
    Ok(builder.finish())
}

/// `bytes` as a person reads a size: `16 MiB`, `64 bytes`.
pub(crate) fn show_bytes(bytes: usize) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}

/// When a last line without its newline is taken as torn.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Torn {
    /// When it does not parse because it ends too soon: a JSON object is whole once it closes.
    WhenCutShort,
    /// Always: a line of a Jepsen log cut after `12` of `123` still parses.
    Always,
}

/// A line that could not be read: where in it, what, and whether it ended too soon.
pub(crate) struct LineFault {
    pub column: usize,
    pub message: String,
    pub at_end: bool,
}

/// Reads a line-oriented format. `parse` gets each line (without its ending) and its number, and
/// answers `None` for a line that holds no event, or the event, or what is wrong. A torn last
/// line (see [`Torn`]) is what a writer that crashed mid-line leaves: it is dropped with a
/// warning instead of failing the whole history.
pub(crate) fn read_lines<R: BufRead>(
    input: R,
    builder: &mut HistoryBuilder,
    max: usize,
    torn: Torn,
    mut parse: impl FnMut(&[u8], usize, &mut HistoryBuilder) -> Result<Option<Event>, LineFault>,
) -> Result<(), ReadError> {
    let mut lines = Lines::new(input, max);
    loop {
        let step = lines.next_with(|line, terminated, line_no| {
            (terminated, line_no, parse(line, line_no, builder))
        });
        let (terminated, line_no, parsed) = match step {
            Ok(Some(step)) => step,
            Ok(None) => return Ok(()),
            Err(e) => return Err(line_error(builder, e, lines.number(), max)),
        };
        let parsed = parsed.map(|event| event.map(ParsedEvent::from));
        if !settle_line(builder, torn, line_no, terminated, parsed)? {
            return Ok(());
        }
    }
}

/// Lines taken together for [`read_lines_parallel`]: enough that parsing them outweighs handing
/// them to other threads, few enough that their events take little memory.
const BATCH_BYTES: usize = 4 << 20;
const BATCH_LINES: usize = 16 << 10;
/// Fewer lines than this are parsed on the calling thread.
const PARALLEL_LINES: usize = 256;

/// What one line of a line-oriented format holds, as [`read_lines_parallel`]'s `parse` finds it.
pub(crate) enum Record<'a> {
    /// Nothing: a blank line.
    Blank,
    Event(ParsedEvent<'a>),
    /// A header (see [`crate::RecordedWith`]), its fields not yet checked; `column` is where its
    /// object starts.
    Header {
        value: Value,
        column: usize,
    },
}

/// [`read_lines`] with the lines parsed in parallel, a batch at a time: `parse` turns one line
/// into a [`Record`] on any thread; then, in the order of the lines and on this thread, events
/// go into the history and a header to `header` with whether it is the first record. Errors,
/// torn last lines and line numbers are those of [`read_lines`]: the first line at fault is the
/// one reported.
pub(crate) fn read_lines_parallel<R, F>(
    input: R,
    builder: &mut HistoryBuilder,
    max: usize,
    torn: Torn,
    parse: F,
    mut header: impl FnMut(Value, bool, &mut HistoryBuilder) -> Result<(), String>,
) -> Result<(), ReadError>
where
    R: BufRead,
    F: Fn(&[u8]) -> Result<Record<'_>, LineFault> + Sync,
{
    use rayon::prelude::*;

    let mut lines = Lines::new(input, max);
    let mut batch = Batch::default();
    let mut first = true;
    loop {
        lines.fill(&mut batch, BATCH_BYTES, BATCH_LINES);
        let bytes = &batch.bytes;
        let parse_line = |line: &BatchLine| parse(&bytes[line.start..line.end]);
        let records: Vec<Result<Record<'_>, LineFault>> = if batch.lines.len() < PARALLEL_LINES {
            batch.lines.iter().map(parse_line).collect()
        } else {
            batch
                .lines
                .par_iter()
                .with_min_len(64)
                .map(parse_line)
                .collect()
        };
        for (line, record) in batch.lines.iter().zip(records) {
            let parsed = match record {
                Ok(Record::Blank) => Ok(None),
                Ok(Record::Event(event)) => {
                    first = false;
                    Ok(Some(event))
                }
                Ok(Record::Header { value, column }) => {
                    let is_first = std::mem::take(&mut first);
                    header(value, is_first, builder)
                        .map(|()| None)
                        .map_err(|message| LineFault {
                            column,
                            message,
                            at_end: false,
                        })
                }
                Err(fault) => Err(fault),
            };
            if !settle_line(builder, torn, line.number, line.terminated, parsed)? {
                return Ok(());
            }
        }
        if let Some(e) = batch.error.take() {
            return Err(line_error(builder, e, lines.number(), max));
        }
        if batch.ended {
            return Ok(());
        }
    }
}

/// The error for a line that could not be read: `line_no` is the line's number.
fn line_error(builder: &HistoryBuilder, error: LineError, line_no: usize, max: usize) -> ReadError {
    match error {
        LineError::Io(e) => io_error(builder, e),
        LineError::TooLong => ReadError::invalid(
            builder.origin(),
            Position {
                line: line_no,
                column: 1,
            },
            format!(
                "the line is longer than {}, the most one record may hold",
                show_bytes(max)
            ),
        ),
    }
}

/// Takes what one line held into the history. Answers whether to read on: `false` after a torn
/// last line, dropped with a warning.
fn settle_line(
    builder: &mut HistoryBuilder,
    torn: Torn,
    line_no: usize,
    terminated: bool,
    parsed: Result<Option<ParsedEvent<'_>>, LineFault>,
) -> Result<bool, ReadError> {
    let at = |column| Position {
        line: line_no,
        column,
    };
    if !terminated {
        let cut = match &parsed {
            Ok(None) => None,
            Ok(Some(_)) if torn == Torn::Always => {
                Some("it ends without a newline, so it may have been cut short".to_string())
            }
            Ok(Some(_)) => None,
            Err(fault) if fault.at_end || torn == Torn::Always => Some(fault.message.clone()),
            Err(_) => None,
        };
        if let Some(reason) = cut {
            builder.warn(format!(
                "{}:{line_no}: ignored a torn last line ({reason})",
                builder.origin()
            ));
            return Ok(false);
        }
    }
    match parsed {
        Ok(None) => {}
        Ok(Some(event)) => builder.push_parsed(event, at(1))?,
        Err(fault) => {
            return Err(ReadError::invalid(
                builder.origin(),
                at(fault.column),
                fault.message,
            ))
        }
    }
    Ok(true)
}

pub(crate) fn io_error(builder: &HistoryBuilder, source: std::io::Error) -> ReadError {
    ReadError::Io {
        origin: builder.origin().to_string(),
        source,
    }
}

/// Which field of an event a problem is in, so that a reader can point at it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EventField {
    Type,
    Process,
    Time,
    /// The event as a whole (a field is missing).
    Whole,
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

impl<'a> Fields<'a> {
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
            // A field that repeats in a JSON object is an error there; EDN maps reject
            // duplicate keys while they are read.
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

    /// Checks the fields; an error names the field at fault.
    pub(crate) fn into_event(self) -> Result<Event, (EventField, String)> {
        self.into_parsed().map(ParsedEvent::into_event)
    }

    /// Checks the fields, keeping `f` borrowed; an error names the field at fault.
    pub(crate) fn into_parsed(self) -> Result<ParsedEvent<'a>, (EventField, String)> {
        let kind = match self.kind.as_deref() {
            Some(k) => EventKind::parse(k).ok_or_else(|| {
                (
                    EventField::Type,
                    format!(
                        "`type` must be invoke, ok, fail or info, found `{}`",
                        quote(k)
                    ),
                )
            })?,
            None => {
                return Err((
                    EventField::Whole,
                    "missing `type` (invoke, ok, fail or info)".to_string(),
                ))
            }
        };
        let process = match &self.process {
            Some(v) => process_from_value(v).map_err(|m| (EventField::Process, m))?,
            None => return Err((EventField::Whole, "missing `process`".to_string())),
        };
        let f = match self.f {
            Some(f) => f,
            None => return Err((EventField::Whole, "missing `f`".to_string())),
        };
        let time = match self.time {
            None | Some(Value::Null) => None,
            Some(Value::Int(t)) => Some(t),
            Some(Value::Float(t)) if t.0.abs() < 9.2e18 => Some(t.0 as i64),
            Some(Value::Float(_) | Value::BigInt(_)) => {
                return Err((
                    EventField::Time,
                    "`time` does not fit in 64 bits of nanoseconds".to_string(),
                ))
            }
            Some(other) => {
                return Err((
                    EventField::Time,
                    format!("`time` must be a number, found {}", other.kind()),
                ))
            }
        };
        Ok(ParsedEvent {
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
            "`process` must be an integer or \"nemesis\", found \"{}\"",
            quote(s)
        )),
        Value::BigInt(n) => Err(format!(
            "`process` must be an integer that fits in 64 bits, found {}",
            quote(n.as_str())
        )),
        other => Err(format!(
            "`process` must be an integer or \"nemesis\", found {}",
            other.kind()
        )),
    }
}
