//! photofinish: catch race conditions in concurrent systems and prove when they are fixed.
//!
//! This crate is the facade over the workspace: [`history`] reads and records histories,
//! [`checker`] decides linearizability against a model, [`runner`] drives concurrent clients
//! against a real system (Redis, PostgreSQL, HTTP, any program) and records the history,
//! [`lab`] is the race lab behind `photofinish demo`, [`terminal`] renders a report for a
//! person and [`report`] renders the self-contained HTML page (timeline, counterexample, run
//! statistics), and [`faults`] starts throwaway servers and clusters behind fault proxies and
//! runs the nemesis; [`output`] keeps reports from overwriting what they were made from.
//! Everything the `photofinish` command does is a call into these;
//! [`run_and_check`] is `photofinish run` ([`txn_run::run_and_check_txn`] for the
//! transactional workloads, checked by [`txn`]), and [`compare::compare_runs`] runs several targets
//! or variants with the same load and puts them side by side (`photofinish compare --run`).
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

pub mod compare;
pub mod liveness;
pub mod output;
pub mod terminal;
pub mod txn_run;

pub use photofinish_check as checker;
pub use photofinish_faults as faults;
pub use photofinish_history as history;
pub use photofinish_lab as lab;
pub use photofinish_report as report;
pub use photofinish_run as runner;
pub use photofinish_txn as txn;

use std::path::Path;

use checker::{check_model, CheckOptions, NilReads, Report};
use history::{Format, History, RecordedWith, Value};

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
    /// A transactional history could not be checked.
    #[error(transparent)]
    Txn(#[from] txn::TxnError),
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

/// Checks a history already read; `origin` names it in errors.
pub fn check_history(
    history: &History,
    origin: &str,
    request: &CheckRequest,
) -> Result<Report, Error> {
    run_check(history, origin, request)
}

/// How errors name standard input.
pub const STDIN_ORIGIN: &str = "<stdin>";

/// Reads the history at `path`, or from standard input when `path` is `-` (detecting the
/// format there too unless one is given).
pub fn read_input(path: &Path, format: Option<Format>) -> Result<History, Error> {
    if path == Path::new("-") {
        let stdin = std::io::stdin();
        let options = history::ReadOptions::format(format);
        return Ok(history::read_with(stdin.lock(), STDIN_ORIGIN, &options)?);
    }
    Ok(history::read_path(path, format)?)
}

/// How errors and reports name the input at `path`.
pub fn origin_of(path: &Path) -> String {
    if path == Path::new("-") {
        STDIN_ORIGIN.to_string()
    } else {
        path.display().to_string()
    }
}

/// The model and initial value to check a history with: the caller's where given, otherwise
/// what the history's header says it was recorded with (see [`history::RecordedWith`]).
#[derive(Clone, Debug, PartialEq)]
pub struct ModelChoice {
    pub model: String,
    /// `None`: the model's default.
    pub init: Option<Value>,
    /// Whether the model came from the header.
    pub model_from_header: bool,
    /// Whether the initial value came from the header.
    pub init_from_header: bool,
}

impl ModelChoice {
    /// Chooses the model and initial value: `model` and `init` when given; the header's model
    /// otherwise, and the header's initial value when the model is the header's and no `init`
    /// was given. `None` when neither names a model.
    ///
    /// ```
    /// use photofinish::history::{read_str, Value};
    /// use photofinish::ModelChoice;
    ///
    /// let text = r#"{"photofinish":{"model":"counter","init":5}}
    /// {"type":"invoke","f":"add","value":1,"process":0}
    /// "#;
    /// let history = read_str(text, "h.jsonl", None).unwrap();
    /// let choice = ModelChoice::choose(None, None, history.header.as_ref()).unwrap();
    /// assert_eq!((choice.model.as_str(), choice.init.clone()), ("counter", Some(Value::Int(5))));
    /// assert_eq!(choice.note().unwrap(), "model counter, init 5, from the history's header");
    /// // A model given by the caller wins, and the header's init is not for another model.
    /// let choice = ModelChoice::choose(Some("set"), None, history.header.as_ref()).unwrap();
    /// assert_eq!((choice.init.clone(), choice.note()), (None, None));
    /// assert!(ModelChoice::choose(None, None, None).is_none());
    /// ```
    pub fn choose(
        model: Option<&str>,
        init: Option<Value>,
        header: Option<&RecordedWith>,
    ) -> Option<ModelChoice> {
        let recorded = header.and_then(|h| h.model.as_deref());
        let (model, model_from_header) = match (model, recorded) {
            (Some(model), _) => (model.to_string(), false),
            (None, Some(recorded)) => (recorded.to_string(), true),
            (None, None) => return None,
        };
        let header_init = header
            .filter(|_| recorded == Some(model.as_str()))
            .and_then(|h| h.init.clone());
        let (init, init_from_header) = match (init, header_init) {
            (Some(init), _) => (Some(init), false),
            (None, Some(recorded)) => (Some(recorded), true),
            (None, None) => (None, false),
        };
        Some(ModelChoice {
            model,
            init,
            model_from_header,
            init_from_header,
        })
    }

    /// What was taken from the header, for a person: `model counter, from the history's header`.
    pub fn note(&self) -> Option<String> {
        let mut taken = Vec::new();
        if self.model_from_header {
            taken.push(format!(
                "model {}",
                history::escape_and_clip(&self.model, 80)
            ));
        }
        if let (true, Some(init)) = (self.init_from_header, &self.init) {
            let init = history::escape_and_clip(&init.to_json_string(), 80);
            taken.push(format!("init {init}"));
        }
        (!taken.is_empty()).then(|| format!("{}, from the history's header", taken.join(", ")))
    }
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
    let history = history::read_path(&config.history, Some(Format::JsonLines))?;
    // The model and initial value the run recorded in the history's header.
    let choice = ModelChoice::choose(
        Some(config.workload.kind.model()),
        None,
        history.header.as_ref(),
    )
    .expect("a model was given");
    let mut request = CheckRequest::new(&choice.model);
    request.init = choice.init;
    request.options = options;
    let report = run_check(&history, &config.history.display().to_string(), &request)?;
    Ok(Checked {
        summary,
        history,
        report,
    })
}
