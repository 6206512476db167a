//! photofinish: catch race conditions in concurrent systems and prove when they are fixed.
//!
//! This crate is the facade over the workspace: [`history`] reads and records histories,
//! [`checker`] decides linearizability against a model, [`runner`] drives concurrent clients
//! against a real system (Redis, PostgreSQL, HTTP, any program) and records the history,
//! [`lab`] is the race lab behind `photofinish demo`, [`terminal`] renders a report for a
//! person and [`report`] renders the self-contained HTML page (timeline, counterexample, run
//! statistics), and [`faults`] starts throwaway servers and clusters behind fault proxies and
//! runs the nemesis. Everything the `photofinish` command does is a call into these;
//! [`run_and_check`] is `photofinish run`.
//!
//! ```
//! use photofinish::{check_text, CheckRequest};
//!
//! let history = r#"{"type":"invoke","f":"create","key":"alert-7","process":0}
//! {"type":"invoke","f":"create","key":"alert-7","process":1}
//! {"type":"ok","f":"create","key":"alert-7","value":"created","process":0}
//! {"type":"ok","f":"create","key":"alert-7","value":"created","process":1}
//! "#;
//! let (_, report) = check_text(history, "dupes.jsonl", &CheckRequest::new("create-once")).unwrap();
//! assert_eq!(report.verdict, photofinish::checker::Verdict::Invalid);
//! println!("{}", photofinish::terminal::render(&report));
//! ```
//!
//! The HTML report, as `photofinish report` and `check --html` write it: with the check's
//! report the page opens on the counterexample; with `None` it shows the timeline and run
//! statistics only.
//!
//! ```
//! use photofinish::{check_text, CheckRequest};
//!
//! let history = r#"{"type":"invoke","f":"write","value":1,"process":0,"time":1000}
//! {"type":"ok","f":"write","value":1,"process":0,"time":2000}
//! {"type":"invoke","f":"read","value":null,"process":1,"time":3000}
//! {"type":"ok","f":"read","value":0,"process":1,"time":4000}
//! "#;
//! let (history, report) = check_text(history, "stale.jsonl", &CheckRequest::new("register")).unwrap();
//! let page = photofinish::report::render_html(&history, Some(&report), "stale.jsonl");
//! let out = std::env::temp_dir().join("photofinish-doc-report.html");
//! std::fs::write(&out, page).unwrap();
//! ```

pub mod terminal;

pub use photofinish_check as checker;
pub use photofinish_faults as faults;
pub use photofinish_history as history;
pub use photofinish_lab as lab;
pub use photofinish_report as report;
pub use photofinish_run as runner;
pub use photofinish_txn as txn;

use std::path::Path;

use checker::{check_model, CheckOptions, NilReads, Report};
use history::{Format, History, Value};

/// What to check a history against, and how.
#[derive(Clone, Debug)]
pub struct CheckRequest {
    pub model: String,
    /// The model's initial value; its default when `None`.
    pub init: Option<Value>,
    /// The file format; detected from the content when `None`.
    pub format: Option<Format>,
    /// How `nil` reads are understood; inferred when `None`.
    pub nil_reads: Option<NilReads>,
    pub options: CheckOptions,
}

impl CheckRequest {
    pub fn new(model: &str) -> CheckRequest {
        CheckRequest {
            model: model.to_string(),
            init: None,
            format: None,
            nil_reads: None,
            options: CheckOptions::default(),
        }
    }
}

/// Why a check could not run: the input was bad. Every variant means exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Read(#[from] history::ReadError),
    #[error("{origin}:{line}: {message}")]
    Operation {
        origin: String,
        line: usize,
        message: String,
    },
    #[error("{0}")]
    Check(checker::CheckError),
    #[error(transparent)]
    Run(#[from] runner::RunError),
}

fn run_check(history: &History, origin: &str, request: &CheckRequest) -> Result<Report, Error> {
    check_model(
        &request.model,
        request.init.as_ref(),
        request.nil_reads,
        history,
        &request.options,
    )
    .map_err(|e| match e {
        checker::CheckError::BadOperation { line, message } => Error::Operation {
            origin: origin.to_string(),
            line,
            message,
        },
        other => Error::Check(other),
    })
}

/// Reads the history at `path` and checks it.
pub fn check_path(path: &Path, request: &CheckRequest) -> Result<(History, Report), Error> {
    let history = history::read_path(path, request.format)?;
    let report = run_check(&history, &path.display().to_string(), request)?;
    Ok((history, report))
}

/// Checks a history held in memory; `origin` names it in errors.
pub fn check_text(
    text: &str,
    origin: &str,
    request: &CheckRequest,
) -> Result<(History, Report), Error> {
    let history = history::read_str(text, origin, request.format)?;
    let report = run_check(&history, origin, request)?;
    Ok((history, report))
}

/// A run and the checker's verdict on the history it recorded.
#[derive(Debug)]
pub struct Checked {
    pub summary: runner::Summary,
    pub history: History,
    pub report: Report,
}

/// Runs a workload against `target` (see [`runner::run_blocking`]; Ctrl-C stops it cleanly),
/// then reads back the history file the run wrote and checks it against the workload's model.
///
/// Reading back the file rather than keeping the operations in memory checks exactly what was
/// recorded on disk.
///
/// ```
/// use photofinish::runner::targets::exec::ExecTarget;
/// use photofinish::runner::{RunConfig, Workload, WorkloadKind};
///
/// let dir = std::env::temp_dir().join(format!("pf-doc-run-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let state = dir.join("counter.json");
/// let history = dir.join("history.jsonl");
/// let _ = std::fs::remove_file(&history);
/// let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/exec/file_counter.py");
///
/// // A counter behind an exclusive lock: every increment is kept.
/// let workload = Workload::new(WorkloadKind::Counter, 1, 4);
/// let target = ExecTarget::new(
///     "python3",
///     vec![script.into(), state.display().to_string(), "--lock".into()],
///     workload.clone(),
/// );
/// let mut config = RunConfig::new(workload, &history);
/// config.ops = Some(100);
/// let checked = photofinish::run_and_check(target, &config, Default::default()).unwrap();
/// assert_eq!(checked.report.verdict, photofinish::checker::Verdict::Valid);
/// println!("{}", checked.summary);
/// ```
pub fn run_and_check<T: runner::Target>(
    target: T,
    config: &runner::RunConfig,
    options: CheckOptions,
) -> Result<Checked, Error> {
    let summary = runner::run_blocking(target, config)?;
    let mut request = CheckRequest::new(config.workload.kind.model());
    request.format = Some(Format::JsonLines);
    request.options = options;
    let (history, report) = check_path(&config.history, &request)?;
    Ok(Checked {
        summary,
        history,
        report,
    })
}
