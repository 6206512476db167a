//! Any program that speaks photofinish's JSON Lines protocol on standard input and output: one
//! program per client, so a team can test a system through its own client library, in any
//! language.
//!
//! The protocol, one JSON object per line in each direction, strictly alternating:
//!
//! - photofinish writes an operation: `{"f":"add","key":3,"value":1}` (`key` is absent when the
//!   workload has a single key; `value` is `null` for reads);
//! - the program answers `{"type":"ok","value":<result>}`, `{"type":"fail","error":"why"}`
//!   when the operation certainly had no effect, or `{"type":"info","error":"why"}` when it
//!   cannot tell.
//!
//! Before the run, one instance receives `{"f":"setup","workload":"counter","keys":1}` and
//! answers `ok` once the system is in its initial state (or `fail` to abort the run). A program
//! that exits, or answers something else, makes its operation indeterminate; the next process
//! gets a new instance of the program.
//!
//! Start-up is not an operation. A program may print `{"type":"ready"}` once, before anything
//! else, when it has started (loaded its libraries, connected to the system). Until that line,
//! or for a program that does not print it until its first answer, the program is starting:
//! the operation timeout does not run, and start-up has an allowance of its own
//! ([`RunConfig::start_timeout`](crate::RunConfig::start_timeout), `--start-timeout`). So a
//! program that takes seconds to start is never replaced, mid-start, by another that takes as
//! long. And the instance that replaces one is started ahead of need: whenever a client takes
//! an instance, the next one for its worker starts, so that after an indeterminate operation
//! the next one does not wait behind a start-up.
//!
//! Nothing a program writes is held without a bound: an answer line longer than the target's
//! limit ([`DEFAULT_MAX_ANSWER_BYTES`] unless set) makes its operation indeterminate without
//! being read further, the error texts recorded are clipped, and what the program writes on
//! standard error reaches the terminal line by line with control characters escaped.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use photofinish_history::{escape_and_clip, Value};
use serde::Deserialize;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStderr, ChildStdin, ChildStdout, Command};

use crate::workload::Workload;
use crate::{Client, Completion, Invocation, Started, Target};

/// A program to start once per client, with its arguments. No shell is involved: the arguments
/// reach the program as given.
#[derive(Clone, Debug)]
pub struct ExecTarget {
    program: PathBuf,
    args: Vec<String>,
    workload: Workload,
    max_answer_bytes: usize,
    /// Instances started ahead of need, one per worker.
    spares: Arc<Spares>,
}

/// The instance each worker takes next, already starting.
#[derive(Default)]
struct Spares(Mutex<HashMap<usize, ExecClient>>);

impl Spares {
    fn take(&self, worker: usize) -> Option<ExecClient> {
        self.lock().remove(&worker)
    }

    fn put(&self, worker: usize, client: ExecClient) {
        self.lock().insert(worker, client);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<usize, ExecClient>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl fmt::Debug for Spares {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} spare instances", self.lock().len())
    }
}

/// The longest answer line read from a program unless [`ExecTarget::with_max_answer_bytes`]
/// says otherwise: 1 MiB.
pub const DEFAULT_MAX_ANSWER_BYTES: usize = 1 << 20;

/// The longest line of a program's standard error passed on whole; longer lines are cut.
const STDERR_LINE_BYTES: usize = 64 << 10;

/// The most characters of a program's error text (of a `fail` or `info` answer) recorded; the
/// rest is replaced by its length.
const ERROR_CHARS: usize = 1000;

/// The most characters of an answer quoted in the error when it cannot be understood.
const QUOTED_CHARS: usize = 200;

impl ExecTarget {
    pub fn new(program: impl Into<PathBuf>, args: Vec<String>, workload: Workload) -> ExecTarget {
        ExecTarget {
            program: program.into(),
            args,
            workload,
            max_answer_bytes: DEFAULT_MAX_ANSWER_BYTES,
            spares: Arc::default(),
        }
    }

    /// Reads answer lines of at most `bytes` bytes (without the newline); a longer one makes
    /// its operation indeterminate, and the program is replaced.
    ///
    /// ```
    /// use photofinish_run::targets::exec::ExecTarget;
    /// use photofinish_run::{Workload, WorkloadKind};
    ///
    /// let workload = Workload::new(WorkloadKind::Counter, 1, 4);
    /// let target = ExecTarget::new("./client", vec![], workload).with_max_answer_bytes(64 << 10);
    /// assert_eq!(target.max_answer_bytes(), 65536);
    /// ```
    pub fn with_max_answer_bytes(mut self, bytes: usize) -> ExecTarget {
        self.max_answer_bytes = bytes.max(1);
        self
    }

    pub fn max_answer_bytes(&self) -> usize {
        self.max_answer_bytes
    }

    fn spawn(&self, worker: Option<usize>) -> Result<ExecClient, String> {
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(worker) = worker {
            command.env("PHOTOFINISH_WORKER", worker.to_string());
        }
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", self.program.display()))?;
        let stdin = child
            .stdin
            .take()
            .ok_or("the program's stdin is not a pipe")?;
        let stdout = child
            .stdout
            .take()
            .ok_or("the program's stdout is not a pipe")?;
        if let Some(stderr) = child.stderr.take() {
            tokio::spawn(pass_on_stderr(stderr));
        }
        Ok(ExecClient {
            _child: child,
            stdin,
            answers: BufReader::new(stdout),
            max_answer_bytes: self.max_answer_bytes,
            started: Started::new(),
        })
    }
}

/// Copies a program's standard error to ours, a line at a time, with control characters
/// escaped and long lines cut, until the program closes it.
async fn pass_on_stderr(stderr: ChildStderr) {
    let mut lines = BufReader::new(stderr);
    loop {
        let line = match read_line_bounded(&mut lines, STDERR_LINE_BYTES).await {
            Ok(Line::Whole(line)) => line,
            Ok(Line::TooLong(start)) => {
                if skip_line(&mut lines).await.is_err() {
                    return;
                }
                start
            }
            Ok(Line::End) | Err(_) => return,
        };
        let text = String::from_utf8_lossy(&line);
        eprintln!(
            "{}",
            escape_and_clip(text.trim_end_matches('\r'), ERROR_CHARS)
        );
    }
}

/// A line read with a bound on its length.
#[derive(Debug, PartialEq, Eq)]
enum Line {
    /// The line, without its newline (the last line of the stream may lack one).
    Whole(Vec<u8>),
    /// The line is longer than the bound: its first bytes, the rest unread.
    TooLong(Vec<u8>),
    /// The stream ended.
    End,
}

/// Reads one line of at most `max` bytes, never holding more than `max` of it.
async fn read_line_bounded<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    max: usize,
) -> std::io::Result<Line> {
    let mut line = Vec::new();
    loop {
        let buffer = reader.fill_buf().await?;
        if buffer.is_empty() {
            return Ok(if line.is_empty() {
                Line::End
            } else {
                Line::Whole(line)
            });
        }
        let newline = buffer.iter().position(|&b| b == b'\n');
        let take = newline.unwrap_or(buffer.len());
        if line.len() + take > max {
            let room = max - line.len();
            line.extend_from_slice(&buffer[..room]);
            reader.consume(room);
            return Ok(Line::TooLong(line));
        }
        line.extend_from_slice(&buffer[..take]);
        match newline {
            Some(at) => {
                reader.consume(at + 1);
                return Ok(Line::Whole(line));
            }
            None => reader.consume(take),
        }
    }
}

/// Reads and drops the rest of a line.
async fn skip_line<R: AsyncBufRead + Unpin>(reader: &mut R) -> std::io::Result<()> {
    loop {
        let buffer = reader.fill_buf().await?;
        if buffer.is_empty() {
            return Ok(());
        }
        match buffer.iter().position(|&b| b == b'\n') {
            Some(at) => {
                reader.consume(at + 1);
                return Ok(());
            }
            None => {
                let all = buffer.len();
                reader.consume(all);
            }
        }
    }
}

/// `text` cut to `max` characters, saying how long it was; control characters are kept (the
/// history records them, escaped as JSON; the terminal escapes them when it shows them).
fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((end, _)) => format!("{}... ({} bytes)", &text[..end], text.len()),
    }
}

impl Target for ExecTarget {
    type Client = ExecClient;

    fn describe(&self) -> String {
        let mut words = vec![self.program.display().to_string()];
        words.extend(self.args.iter().cloned());
        format!("exec {}", words.join(" "))
    }

    async fn setup(&self) -> Result<(), String> {
        let mut client = self.spawn(None)?;
        let setup = serde_json::json!({
            "f": "setup",
            "workload": self.workload.kind.model(),
            "keys": self.workload.keys,
        });
        match client.exchange(&setup.to_string()).await {
            Completion::Ok(_) => Ok(()),
            refused => Err(format!(
                "setup: {}",
                refused.error().unwrap_or("no reason given")
            )),
        }
    }

    /// Takes the worker's instance started ahead of need (or starts one), and starts the next.
    async fn connect(&self, worker: usize) -> Result<ExecClient, String> {
        let client = match self.spares.take(worker) {
            Some(spare) => spare,
            None => self.spawn(Some(worker))?,
        };
        // A spare that cannot start now is tried again, and reported, at the next connect.
        if let Ok(spare) = self.spawn(Some(worker)) {
            self.spares.put(worker, spare);
        }
        Ok(client)
    }
}

/// One running instance of the program. Dropping it kills the program.
pub struct ExecClient {
    _child: Child,
    stdin: ChildStdin,
    answers: BufReader<ChildStdout>,
    max_answer_bytes: usize,
    /// Set at the program's `ready` line or first answer.
    started: Started,
}

/// An answer line as the protocol defines it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Answer {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    value: Value,
    #[serde(default)]
    error: Option<String>,
}

impl ExecClient {
    async fn exchange(&mut self, request: &str) -> Completion {
        let mut line = request.as_bytes().to_vec();
        line.push(b'\n');
        if let Err(e) = self.stdin.write_all(&line).await {
            // Nothing reached a program that is gone, but a partial write may have: unknown.
            return Completion::Info(format!("client program: write: {e}"));
        }
        if let Err(e) = self.stdin.flush().await {
            return Completion::Info(format!("client program: write: {e}"));
        }
        let mut line = read_line_bounded(&mut self.answers, self.max_answer_bytes).await;
        if !self.started.is_set() {
            let ready = matches!(&line, Ok(Line::Whole(answer)) if is_ready(answer));
            self.started.set();
            if ready {
                line = read_line_bounded(&mut self.answers, self.max_answer_bytes).await;
            }
        }
        match line {
            Ok(Line::Whole(answer)) => match std::str::from_utf8(&answer) {
                Ok(answer) => parse_answer(answer),
                Err(_) => Completion::Info(format!(
                    "client program: the answer is not UTF-8: {}",
                    clip(&String::from_utf8_lossy(&answer), QUOTED_CHARS)
                )),
            },
            // Read no further: the client is dropped (and the program with it) after an
            // indeterminate answer.
            Ok(Line::TooLong(start)) => Completion::Info(format!(
                "client program: answer longer than {} bytes, not read further: {}",
                self.max_answer_bytes,
                clip(&String::from_utf8_lossy(&start), QUOTED_CHARS)
            )),
            Ok(Line::End) => Completion::Info("client program exited".to_string()),
            Err(e) => Completion::Info(format!("client program: read: {e}")),
        }
    }
}

/// Whether `line` is the `{"type":"ready"}` a program may print once, before anything else.
fn is_ready(line: &[u8]) -> bool {
    serde_json::from_slice::<Answer>(line).is_ok_and(|answer| {
        answer.kind == "ready" && answer.value == Value::Null && answer.error.is_none()
    })
}

fn parse_answer(line: &str) -> Completion {
    let answer: Answer = match serde_json::from_str(line) {
        Ok(answer) => answer,
        Err(e) => {
            return Completion::Info(format!(
                "client program: bad answer ({e}): {}",
                clip(line, QUOTED_CHARS)
            ))
        }
    };
    let error = || {
        answer
            .error
            .as_deref()
            .map_or_else(|| "no reason given".into(), |e| clip(e, ERROR_CHARS))
    };
    match answer.kind.as_str() {
        "ok" => Completion::Ok(answer.value),
        "fail" => Completion::Fail(error()),
        "info" => Completion::Info(error()),
        other => Completion::Info(format!(
            "client program: answer type `{}`, expected ok, fail or info",
            clip(other, QUOTED_CHARS)
        )),
    }
}

impl Client for ExecClient {
    async fn invoke(&mut self, op: &Invocation) -> Completion {
        let request = serde_json::to_string(op).expect("operations always serialize");
        self.exchange(&request).await
    }

    fn started(&self) -> Option<Started> {
        Some(self.started.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_map_to_completions() {
        assert_eq!(
            parse_answer(r#"{"type":"ok","value":[1,2]}"#),
            Completion::Ok(Value::List(vec![Value::Int(1), Value::Int(2)]))
        );
        assert_eq!(
            parse_answer(r#"{"type":"fail","error":"busy"}"#),
            Completion::Fail("busy".into())
        );
        assert!(parse_answer(r#"{"type":"maybe"}"#).is_info());
        // `ready` is a start-up line, not an answer.
        assert!(parse_answer(r#"{"type":"ready"}"#).is_info());
        assert!(is_ready(br#"{"type":"ready"}"#));
        assert!(is_ready(br#" {"type" : "ready"} "#));
        assert!(!is_ready(br#"{"type":"ready","value":1}"#));
        assert!(!is_ready(br#"{"type":"ok"}"#));
        assert!(parse_answer("not json").is_info());
    }

    #[test]
    fn long_errors_and_garbage_are_recorded_clipped() {
        let long = format!(r#"{{"type":"fail","error":"{}"}}"#, "E".repeat(5000));
        let Completion::Fail(error) = parse_answer(&long) else {
            panic!("a fail answer")
        };
        assert_eq!(
            error,
            format!("{}... (5000 bytes)", "E".repeat(ERROR_CHARS))
        );
        let Completion::Info(error) = parse_answer(&"G".repeat(10_000)) else {
            panic!("garbage is info")
        };
        assert!(error.ends_with("... (10000 bytes)"), "{error}");
        assert!(error.len() < 400, "{error}");
    }

    async fn lines_of(input: &[u8], max: usize) -> Vec<Line> {
        let mut reader = BufReader::with_capacity(4, input);
        let mut lines = Vec::new();
        loop {
            let line = read_line_bounded(&mut reader, max).await.unwrap();
            if line == Line::End {
                return lines;
            }
            if matches!(line, Line::TooLong(_)) {
                skip_line(&mut reader).await.unwrap();
            }
            lines.push(line);
        }
    }

    #[tokio::test]
    async fn lines_are_read_with_a_bound() {
        let whole = |s: &str| Line::Whole(s.as_bytes().to_vec());
        assert_eq!(
            lines_of(b"ab\n\ncdefgh\nij", 5).await,
            vec![
                whole("ab"),
                whole(""),
                Line::TooLong(b"cdefg".to_vec()),
                whole("ij")
            ]
        );
        assert_eq!(lines_of(b"abcde\n", 5).await, vec![whole("abcde")]);
        assert_eq!(lines_of(b"", 5).await, vec![]);
    }
}
