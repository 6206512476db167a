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

use std::path::PathBuf;
use std::process::Stdio;

use photofinish_history::Value;
use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use crate::workload::Workload;
use crate::{Client, Completion, Invocation, Target};

/// A program to start once per client, with its arguments. No shell is involved: the arguments
/// reach the program as given.
#[derive(Clone, Debug)]
pub struct ExecTarget {
    program: PathBuf,
    args: Vec<String>,
    workload: Workload,
}

impl ExecTarget {
    pub fn new(program: impl Into<PathBuf>, args: Vec<String>, workload: Workload) -> ExecTarget {
        ExecTarget {
            program: program.into(),
            args,
            workload,
        }
    }

    fn spawn(&self, worker: Option<usize>) -> Result<ExecClient, String> {
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
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
        Ok(ExecClient {
            _child: child,
            stdin,
            answers: BufReader::new(stdout).lines(),
        })
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
            Completion::Fail(why) | Completion::Info(why) => Err(format!("setup: {why}")),
        }
    }

    async fn connect(&self, worker: usize) -> Result<ExecClient, String> {
        self.spawn(Some(worker))
    }
}

/// One running instance of the program. Dropping it kills the program.
pub struct ExecClient {
    _child: Child,
    stdin: ChildStdin,
    answers: Lines<BufReader<ChildStdout>>,
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
        match self.answers.next_line().await {
            Ok(Some(answer)) => parse_answer(&answer),
            Ok(None) => Completion::Info("client program exited".to_string()),
            Err(e) => Completion::Info(format!("client program: read: {e}")),
        }
    }
}

fn parse_answer(line: &str) -> Completion {
    let answer: Answer = match serde_json::from_str(line) {
        Ok(answer) => answer,
        Err(e) => return Completion::Info(format!("client program: bad answer ({e}): {line}")),
    };
    let error = || {
        answer
            .error
            .clone()
            .unwrap_or_else(|| "no reason given".into())
    };
    match answer.kind.as_str() {
        "ok" => Completion::Ok(answer.value),
        "fail" => Completion::Fail(error()),
        "info" => Completion::Info(error()),
        other => Completion::Info(format!(
            "client program: answer type `{other}`, expected ok, fail or info"
        )),
    }
}

impl Client for ExecClient {
    async fn invoke(&mut self, op: &Invocation) -> Completion {
        let request = serde_json::to_string(op).expect("operations always serialize");
        self.exchange(&request).await
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
        assert!(parse_answer("not json").is_info());
    }
}
