//! Comparing options on a real system: one workload run against several targets, or variants
//! of one target (a racy handler and its fix, two deployments, two HTTP workload files), with
//! the same clients, operations and seed, one row after another, and one matrix of what each
//! did: the verdict and the finding in one line, operations, throughput, p50/p99 latency and
//! the latency each adds against the first row.
//!
//! Rows run one after another, never together: each would disturb the others' latency. Each
//! row's history, HTML report and JSON go to one directory, and the matrix links to them.
//! `photofinish compare --run '...' --run '...'` is [`compare_runs`] with rows that are
//! `photofinish run` command lines; [`RunSpec::target`] makes a row of any
//! [`Target`](crate::runner::Target) in a program. The race lab's counterpart, one scenario's
//! options, is [`crate::lab::compare`].

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value as Json;

use crate::checker::{default_init, CheckOptions, Verdict};
use crate::history::escape_and_clip;
use crate::runner::{format_micros, RunConfig, Target, Workload, WorkloadKind};

/// The load every row runs with: the same for all, so that the rows compare.
#[derive(Clone, Debug, Serialize)]
pub struct Load {
    /// Concurrent clients.
    pub clients: usize,
    /// Operations per row; `None` with a `duration` runs until it ends.
    pub ops: Option<u64>,
    /// How long each row runs, when given.
    #[serde(serialize_with = "optional_seconds")]
    pub duration: Option<Duration>,
    /// The seed of the operations each client issues.
    pub seed: u64,
    /// An operation unanswered after this long is recorded as indeterminate (info).
    #[serde(serialize_with = "seconds")]
    pub op_timeout: Duration,
}

impl Default for Load {
    /// 20 clients, 1000 operations, seed 0, a 5 s operation timeout.
    fn default() -> Load {
        Load {
            clients: 20,
            ops: Some(1000),
            duration: None,
            seed: 0,
            op_timeout: Duration::from_secs(5),
        }
    }
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

fn optional_seconds<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_f64(d.as_secs_f64()),
        None => s.serialize_none(),
    }
}

/// What one row is to do and where its files go: `NN-label.jsonl` (the history), `.html` (its
/// report), `.json` (summary and report, as `photofinish run --json` writes them) and `.log`
/// (what the run printed, for a row run as a command).
#[derive(Clone, Debug)]
pub struct RowPlan {
    /// 1 for the first row.
    pub index: usize,
    pub label: String,
    pub load: Load,
    pub history: PathBuf,
    pub html: PathBuf,
    pub json: PathBuf,
    pub log: PathBuf,
}

/// How a row's run ended.
#[derive(Clone, Debug)]
pub enum RowOutcome {
    /// The run was recorded and checked. `run` is the object `photofinish run --json` writes
    /// (`summary`, `report`, `ended_stalled`); `exit_code` the code `photofinish run` gives
    /// for it.
    Ran { run: Json, exit_code: u8 },
    /// The run could not be made or its history not checked: `exit_code` 2 when its input was
    /// refused, 3 otherwise.
    Failed { exit_code: u8, message: String },
}

type RowRunner = Box<dyn FnOnce(&RowPlan) -> RowOutcome>;

/// One option to compare: a label and how to run it.
pub struct RunSpec {
    pub label: String,
    /// The replicas (or nodes) the row's system has, when it has several: shown in the matrix.
    pub replicas: Option<usize>,
    run: RowRunner,
}

impl RunSpec {
    /// A row run by `run`, which must record its history at [`RowPlan::history`].
    pub fn new(
        label: impl Into<String>,
        replicas: Option<usize>,
        run: impl FnOnce(&RowPlan) -> RowOutcome + 'static,
    ) -> RunSpec {
        RunSpec {
            label: label.into(),
            replicas,
            run: Box::new(run),
        }
    }

    /// A row that runs the workload (`kind` over `keys` objects) against the target `make`
    /// builds, with the comparison's load, then checks the history against the workload's
    /// model and writes its report, as `photofinish run` does.
    pub fn target<T: Target>(
        label: impl Into<String>,
        kind: WorkloadKind,
        keys: usize,
        make: impl FnOnce(&Workload) -> Result<T, String> + 'static,
    ) -> RunSpec {
        RunSpec::new(label, None, move |plan: &RowPlan| {
            let workload = Workload::new(kind, keys, plan.load.clients);
            match make(&workload) {
                Ok(target) => run_target(target, workload, plan),
                Err(message) => RowOutcome::Failed {
                    exit_code: 2,
                    message,
                },
            }
        })
    }
}

/// Runs `target` as `photofinish run` would with the plan's load and files.
fn run_target<T: Target>(target: T, workload: Workload, plan: &RowPlan) -> RowOutcome {
    let mut config = RunConfig::new(workload, &plan.history);
    config.ops = plan.load.ops;
    config.duration = plan.load.duration;
    config.seed = plan.load.seed;
    config.op_timeout = plan.load.op_timeout;
    config.progress = false;
    config.header.init = default_init(config.workload.kind.model());
    let mut checked = match crate::run_and_check(target, &config, CheckOptions::default()) {
        Ok(checked) => checked,
        Err(e) => {
            return RowOutcome::Failed {
                exit_code: 3,
                message: e.to_string(),
            }
        }
    };
    let report = &mut checked.report;
    // As `run` does: a run that stopped early proves nothing beyond an anomaly it recorded.
    let mut exit_code = report.verdict.exit_code() as u8;
    if let Some(halt) = &checked.summary.stopped_early {
        if report.verdict != Verdict::Invalid {
            report.verdict = Verdict::Unknown;
            report.reason = Some(format!("the run stopped early: {}", halt.reason));
            exit_code = halt.kind.exit_code();
        }
    }
    let stalled = crate::liveness::ended_stalled(&checked.summary, report.verdict);
    if stalled.is_some() && exit_code == 0 {
        exit_code = 3;
    }
    let page = crate::output::mark_html(crate::report::render_html(
        &checked.history,
        Some(report),
        &plan.label,
    ));
    if let Err(e) = std::fs::write(&plan.html, page) {
        return RowOutcome::Failed {
            exit_code: 3,
            message: format!("cannot write {}: {e}", plan.html.display()),
        };
    }
    let run = serde_json::json!({
        "seed": plan.load.seed,
        "history": plan.history,
        "summary": checked.summary,
        "report": report,
        "ended_stalled": stalled,
    });
    if let Err(e) = std::fs::write(&plan.json, format!("{run:#}\n")) {
        return RowOutcome::Failed {
            exit_code: 3,
            message: format!("cannot write {}: {e}", plan.json.display()),
        };
    }
    RowOutcome::Ran { run, exit_code }
}

/// One row of the matrix.
#[derive(Clone, Debug, Serialize)]
pub struct RunRow {
    pub label: String,
    pub replicas: Option<usize>,
    /// `None` when the row could not run (see `error`).
    pub verdict: Option<Verdict>,
    /// Why the answer is unknown when the run ended stalled: when, how long, who waited.
    pub stalled: Option<String>,
    /// What the checker found, in one line, for a verdict other than valid (or the stall).
    pub finding: Option<String>,
    /// Operations recorded, and how they completed.
    pub operations: u64,
    pub ok: u64,
    pub fail: u64,
    pub info: u64,
    /// Operations per second.
    pub throughput: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    /// Latency added against the first row that ran (negative: faster); `None` for that row
    /// and for rows that did not run.
    pub added_p50_us: Option<f64>,
    pub added_p99_us: Option<f64>,
    /// The code `photofinish run` gives for this row alone.
    pub exit_code: u8,
    pub history: Option<PathBuf>,
    pub report: Option<PathBuf>,
    /// What the row's run printed, for a row run as a command.
    pub log: Option<PathBuf>,
    /// Why the row could not run.
    pub error: Option<String>,
}

impl RunRow {
    /// The row for `outcome`, reading the figures out of the run's JSON.
    pub fn from_outcome(
        spec_label: &str,
        replicas: Option<usize>,
        plan: &RowPlan,
        outcome: RowOutcome,
    ) -> RunRow {
        let mut row = RunRow {
            label: spec_label.to_string(),
            replicas,
            verdict: None,
            stalled: None,
            finding: None,
            operations: 0,
            ok: 0,
            fail: 0,
            info: 0,
            throughput: 0.0,
            p50_us: 0.0,
            p99_us: 0.0,
            added_p50_us: None,
            added_p99_us: None,
            exit_code: 3,
            history: plan.history.exists().then(|| plan.history.clone()),
            report: plan.html.exists().then(|| plan.html.clone()),
            log: plan.log.exists().then(|| plan.log.clone()),
            error: None,
        };
        match outcome {
            RowOutcome::Failed { exit_code, message } => {
                row.exit_code = exit_code;
                row.error = Some(message);
            }
            RowOutcome::Ran { run, exit_code } => {
                row.exit_code = exit_code;
                let summary = &run["summary"];
                let count = |field: &str| summary[field].as_u64().unwrap_or(0);
                row.operations = count("operations");
                row.ok = count("ok");
                row.fail = count("fail");
                row.info = count("info");
                row.throughput = summary["throughput"].as_f64().unwrap_or(0.0);
                row.p50_us = summary["latency"]["p50_us"].as_f64().unwrap_or(0.0);
                row.p99_us = summary["latency"]["p99_us"].as_f64().unwrap_or(0.0);
                let report = &run["report"];
                row.verdict = match report["verdict"].as_str() {
                    Some("valid") => Some(Verdict::Valid),
                    Some("invalid") => Some(Verdict::Invalid),
                    Some("unknown") => Some(Verdict::Unknown),
                    _ => None,
                };
                row.stalled = run["ended_stalled"].as_str().map(str::to_string);
                row.finding = row.stalled.clone().or_else(|| finding(report));
                if row.verdict.is_none() {
                    row.error = Some(
                        run["error"]
                            .as_str()
                            .unwrap_or("the run's JSON holds no verdict")
                            .to_string(),
                    );
                }
            }
        }
        row
    }

    /// The verdict as the matrix shows it: `valid`, `INVALID`, `unknown`, `STALLED`, or
    /// `error` for a row that could not run.
    pub fn verdict_text(&self) -> &'static str {
        match (self.verdict, &self.stalled) {
            (None, _) => "error",
            (Some(Verdict::Invalid), _) => "INVALID",
            (Some(_), Some(_)) => "STALLED",
            (Some(Verdict::Valid), None) => "valid",
            (Some(Verdict::Unknown), None) => "unknown",
        }
    }

    fn ran(&self) -> bool {
        self.verdict.is_some()
    }
}

/// The report's finding in one line, for a verdict other than valid: the diagnosis's first
/// line, else why the history has no linearization, else why nothing was decided.
fn finding(report: &Json) -> Option<String> {
    if report["verdict"] == "valid" {
        return None;
    }
    let first_line = |text: &Json| {
        text.as_str()
            .and_then(|t| t.lines().next())
            .map(str::to_string)
    };
    first_line(&report["diagnosis"][0]["message"])
        .or_else(|| first_line(&report["failures"][0]["reason"]))
        .or_else(|| first_line(&report["reason"]))
        .or_else(|| first_line(&report["undecided"][0]["reason"]))
}

/// Called after each row.
pub type RowProgress = Arc<dyn Fn(&RunRow) + Send + Sync>;

/// What to compare with.
#[derive(Clone, Default)]
pub struct RunCompareOptions {
    pub load: Load,
    /// Where each row's files go (created if missing); a new temporary directory when `None`.
    pub dir: Option<PathBuf>,
    /// Called after each row, e.g. to say how far the comparison is.
    pub progress: Option<RowProgress>,
}

/// The matrix: one row per option, in the order given.
#[derive(Clone, Debug, Serialize)]
pub struct RunComparison {
    pub load: Load,
    pub dir: PathBuf,
    pub rows: Vec<RunRow>,
    #[serde(serialize_with = "seconds")]
    pub elapsed: Duration,
}

/// Why a comparison could not start.
#[derive(Debug, thiserror::Error)]
pub enum CompareRunsError {
    #[error("nothing to compare: give at least one option")]
    NoRows,
    #[error("cannot create {dir}: {error}")]
    Dir { dir: PathBuf, error: std::io::Error },
}

/// Runs every spec in turn with the same load, then fills in the latency each adds against the
/// first row that ran.
///
/// ```
/// use photofinish::compare::{compare_runs, RunCompareOptions, RunSpec};
/// use photofinish::runner::targets::exec::ExecTarget;
/// use photofinish::runner::WorkloadKind;
///
/// let dir = std::env::temp_dir().join(format!("pf-doc-compare-{}", std::process::id()));
/// let _ = std::fs::remove_dir_all(&dir);
/// let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/exec/file_counter.py");
/// // A counter kept in a file: read, add, write back; then the same behind an exclusive lock.
/// let spec = |label: &str, lock: bool| {
///     let state = dir.join(format!("{label}.json"));
///     RunSpec::target(label, WorkloadKind::Counter, 1, move |workload| {
///         let mut args = vec![script.to_string(), state.display().to_string()];
///         args.extend(lock.then(|| "--lock".to_string()));
///         Ok(ExecTarget::new("python3", args, workload.clone()))
///     })
/// };
/// let mut options = RunCompareOptions { dir: Some(dir.join("rows")), ..Default::default() };
/// options.load.clients = 4;
/// options.load.ops = Some(200);
/// let matrix = compare_runs(vec![spec("unlocked", false), spec("locked", true)], &options)?;
/// println!("{matrix}");
/// assert_eq!(matrix.rows[1].verdict_text(), "valid");
/// assert!(matrix.rows[1].added_p50_us.is_some());
/// assert_eq!(matrix.exit_code(), 0, "both rows decided");
/// matrix.write_html(&dir.join("compare.html")).unwrap();
/// # Ok::<(), photofinish::compare::CompareRunsError>(())
/// ```
pub fn compare_runs(
    specs: Vec<RunSpec>,
    options: &RunCompareOptions,
) -> Result<RunComparison, CompareRunsError> {
    if specs.is_empty() {
        return Err(CompareRunsError::NoRows);
    }
    let started = Instant::now();
    let dir = match &options.dir {
        Some(dir) => dir.clone(),
        None => std::env::temp_dir().join(format!(
            "photofinish-compare-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis()
        )),
    };
    std::fs::create_dir_all(&dir).map_err(|error| CompareRunsError::Dir {
        dir: dir.clone(),
        error,
    })?;
    let dir = std::fs::canonicalize(&dir).unwrap_or(dir);
    let mut rows = Vec::with_capacity(specs.len());
    for (index, spec) in specs.into_iter().enumerate() {
        let plan = plan_row(&dir, index + 1, &spec.label, &options.load);
        // A row's files are its own: an earlier comparison's in the same place would mislead.
        for file in [&plan.history, &plan.html, &plan.json, &plan.log] {
            let _ = std::fs::remove_file(file);
        }
        let outcome = (spec.run)(&plan);
        let row = RunRow::from_outcome(&spec.label, spec.replicas, &plan, outcome);
        if let Some(progress) = &options.progress {
            progress(&row);
        }
        rows.push(row);
    }
    add_latency(&mut rows);
    Ok(RunComparison {
        load: options.load.clone(),
        dir,
        rows,
        elapsed: started.elapsed(),
    })
}

/// The files of row `index`, named after its label.
fn plan_row(dir: &Path, index: usize, label: &str, load: &Load) -> RowPlan {
    let stem = format!("{index:02}-{}", file_stem(label));
    RowPlan {
        index,
        label: label.to_string(),
        load: load.clone(),
        history: dir.join(format!("{stem}.jsonl")),
        html: dir.join(format!("{stem}.html")),
        json: dir.join(format!("{stem}.json")),
        log: dir.join(format!("{stem}.log")),
    }
}

/// A label made into part of a file name: letters, digits, `_` and a `.` after them kept,
/// runs of anything else one `-`, at most 60 characters.
fn file_stem(label: &str) -> String {
    let mut stem = String::new();
    for c in label.chars() {
        let after_word = stem.ends_with(|c: char| c.is_ascii_alphanumeric());
        if c.is_ascii_alphanumeric() || c == '_' || (c == '.' && after_word) {
            stem.push(c);
        } else if !stem.ends_with('-') {
            stem.push('-');
        }
        if stem.len() >= 60 {
            break;
        }
    }
    let stem = stem.trim_matches(|c| c == '-' || c == '.').to_string();
    if stem.is_empty() {
        "row".to_string()
    } else {
        stem
    }
}

/// Each row's latency against the first row that ran.
fn add_latency(rows: &mut [RunRow]) {
    let Some((p50, p99)) = rows.iter().find(|r| r.ran()).map(|r| (r.p50_us, r.p99_us)) else {
        return;
    };
    let mut first = true;
    for row in rows.iter_mut().filter(|r| r.ran()) {
        if !std::mem::take(&mut first) {
            row.added_p50_us = Some(row.p50_us - p50);
            row.added_p99_us = Some(row.p99_us - p99);
        }
    }
}

impl RunComparison {
    /// 0 when every row ran and was decided, valid or INVALID alike (telling them apart is the
    /// point); 2 when a row's run refused its input; 3 when a row decided nothing (unknown,
    /// ended stalled, stopped early, or could not run).
    pub fn exit_code(&self) -> u8 {
        if self.rows.iter().any(|r| r.exit_code == 2) {
            2
        } else if self
            .rows
            .iter()
            .any(|r| !matches!(r.verdict_text(), "valid" | "INVALID") || r.exit_code > 1)
        {
            3
        } else {
            0
        }
    }

    /// The row the others' added latency is against: the first that ran.
    pub fn baseline(&self) -> Option<usize> {
        self.rows.iter().position(RunRow::ran)
    }

    /// Writes the matrix as an HTML page at `output`, each row linking to its run's report.
    pub fn write_html(&self, output: &Path) -> Result<(), String> {
        let base = output
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .and_then(|p| std::fs::canonicalize(p).ok());
        let link = |path: &Path| {
            base.as_deref()
                .and_then(|base| path.strip_prefix(base).ok())
                .unwrap_or(path)
                .display()
                .to_string()
        };
        let baseline = self.baseline();
        let mut rows = String::new();
        for (index, row) in self.rows.iter().enumerate() {
            let label = html(&row.label);
            let option = match &row.report {
                Some(report) => format!("<a href=\"{}\">{label}</a>", html(&link(report))),
                None => label,
            };
            let added = |us: Option<f64>| match us {
                _ if Some(index) == baseline => "(baseline)".to_string(),
                Some(us) => signed_micros(us),
                None => String::new(),
            };
            rows.push_str(&format!(
                "<tr><td>{option}</td><td>{}</td><td class=\"{}\">{}</td><td>{}</td>\
                 <td>{}</td><td>{:.0}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
                 <td class=\"text\">{}</td></tr>\n",
                row.replicas.map_or(String::new(), |n| n.to_string()),
                row.verdict_text().to_lowercase(),
                row.verdict_text(),
                row.operations,
                html(&format!("{}/{}/{}", row.ok, row.fail, row.info)),
                row.throughput,
                html(&format_micros(row.p50_us)),
                html(&format_micros(row.p99_us)),
                html(&added(row.added_p50_us)),
                html(&added(row.added_p99_us)),
                html(
                    row.finding
                        .as_deref()
                        .or(row.error.as_deref())
                        .unwrap_or("")
                ),
            ));
        }
        let load = &self.load;
        let page = format!(
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>photofinish compare</title>\
             <style>body{{font-family:sans-serif}}table{{border-collapse:collapse}}\
             td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}\
             td:first-child,td.text{{text-align:left}}\
             .invalid,.error,.stalled{{color:#b00;font-weight:bold}}.unknown{{color:#a60}}\
             </style></head><body>\n<h1>photofinish compare</h1>\
             <p>{} rows, each with {} clients, {}, seed {}; latency added against the first \
             row. Each option links to its run's report.</p>\n<table><tr><th>option</th>\
             <th>replicas</th><th>verdict</th><th>ops</th><th>ok/fail/info</th><th>ops/s</th>\
             <th>p50</th><th>p99</th><th>+p50</th><th>+p99</th><th>finding</th></tr>\n{rows}\
             </table></body></html>\n",
            self.rows.len(),
            load.clients,
            html(&budget(load)),
            load.seed,
        );
        std::fs::write(output, crate::output::mark_html(page))
            .map_err(|e| format!("cannot write {}: {e}", output.display()))
    }
}

/// How long each row ran: `2000 operations`, `for 10s`, or both.
fn budget(load: &Load) -> String {
    match (load.ops, load.duration) {
        (Some(ops), None) => format!("{ops} operations"),
        (None, Some(d)) => format!("for {}", humantime::format_duration(d)),
        (Some(ops), Some(d)) => {
            format!("{ops} operations or {}", humantime::format_duration(d))
        }
        (None, None) => "unbounded".to_string(),
    }
}

/// A latency difference with its sign, such as `+1.20 ms` or `-310 µs`.
fn signed_micros(us: f64) -> String {
    let sign = if us < 0.0 { "-" } else { "+" };
    format!("{sign}{}", format_micros(us.abs()))
}

/// Text made safe inside HTML elements and attribute values.
fn html(text: &str) -> String {
    photofinish_history::escape_html(text)
}

/// The widest option label the table shows before clipping it.
const LABEL_CHARS: usize = 48;

impl fmt::Display for RunComparison {
    /// The matrix as a table, then what the checker found for each row that was not valid,
    /// then where the files are. Everything from a run or a label is escaped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let labels: Vec<String> = self
            .rows
            .iter()
            .map(|r| escape_and_clip(&r.label, LABEL_CHARS))
            .collect();
        let width = labels
            .iter()
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(6)
            .max(6);
        let replicas = self.rows.iter().any(|r| r.replicas.is_some());
        let baseline = self.baseline();
        let replica_cell = |row: Option<&RunRow>| match (replicas, row) {
            (false, _) => String::new(),
            (true, None) => format!(" {:>8}", "replicas"),
            (true, Some(row)) => format!(
                " {:>8}",
                row.replicas.map_or(String::new(), |n| n.to_string())
            ),
        };
        writeln!(
            f,
            "  {:<width$}{} {:<8} {:>6} {:>16} {:>7} {:>9} {:>9} {:>10} {:>10}",
            "option",
            replica_cell(None),
            "verdict",
            "ops",
            "ok/fail/info",
            "ops/s",
            "p50",
            "p99",
            "+p50",
            "+p99"
        )?;
        for (index, (row, label)) in self.rows.iter().zip(&labels).enumerate() {
            let added = |us: Option<f64>| match us {
                _ if Some(index) == baseline => "(baseline)".to_string(),
                Some(us) => signed_micros(us),
                None => "-".to_string(),
            };
            if !row.ran() {
                writeln!(
                    f,
                    "  {label:<width$}{} {:<8}",
                    replica_cell(Some(row)),
                    "error"
                )?;
                continue;
            }
            writeln!(
                f,
                "  {label:<width$}{} {:<8} {:>6} {:>16} {:>7.0} {:>9} {:>9} {:>10} {:>10}",
                replica_cell(Some(row)),
                row.verdict_text(),
                row.operations,
                format!("{}/{}/{}", row.ok, row.fail, row.info),
                row.throughput,
                format_micros(row.p50_us),
                format_micros(row.p99_us),
                added(row.added_p50_us),
                added(row.added_p99_us),
            )?;
        }
        let notes: Vec<_> = self
            .rows
            .iter()
            .zip(&labels)
            .filter_map(|(row, label)| {
                row.finding
                    .as_deref()
                    .or(row.error.as_deref())
                    .map(|note| (row, label, note))
            })
            .collect();
        if !notes.is_empty() {
            writeln!(f, "what the checker found:")?;
            for (row, label, note) in notes {
                let file = row
                    .history
                    .as_deref()
                    .or(row.log.as_deref())
                    .and_then(Path::file_name)
                    .map(|n| format!("  [{}]", escape_and_clip(&n.to_string_lossy(), 80)))
                    .unwrap_or_default();
                writeln!(f, "  {label}: {}{file}", escape_and_clip(note, 200))?;
            }
        }
        writeln!(
            f,
            "\n{} rows with {} clients, {}, seed {}, in {:.1} s; histories and reports in {}",
            self.rows.len(),
            self.load.clients,
            budget(&self.load),
            self.load.seed,
            self.elapsed.as_secs_f64(),
            escape_and_clip(&self.dir.display().to_string(), 300)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_become_file_names_without_separators() {
        assert_eq!(
            file_stem("redis --spawn -w counter --variant get-set"),
            "redis-spawn-w-counter-variant-get-set"
        );
        assert_eq!(file_stem("http ../a/b.toml"), "http-a-b.toml");
        assert_eq!(file_stem("//"), "row");
    }

    #[test]
    fn html_escapes_markup() {
        assert_eq!(
            html("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn a_row_reads_its_figures_and_finding_from_the_runs_json() {
        let plan = plan_row(Path::new("/nonexistent"), 1, "x", &Load::default());
        let run = serde_json::json!({
            "summary": {"operations": 10, "ok": 8, "fail": 1, "info": 1, "throughput": 99.5,
                        "latency": {"p50_us": 120.0, "p99_us": 900.0}},
            "report": {"verdict": "invalid", "diagnosis": [{"message": "read 3, but 5 adds\nmore"}]},
            "ended_stalled": null,
        });
        let row = RunRow::from_outcome("x", None, &plan, RowOutcome::Ran { run, exit_code: 1 });
        assert_eq!(row.verdict_text(), "INVALID");
        assert_eq!(row.finding.as_deref(), Some("read 3, but 5 adds"));
        assert_eq!((row.operations, row.ok, row.fail, row.info), (10, 8, 1, 1));
        assert_eq!((row.p50_us, row.p99_us), (120.0, 900.0));
    }

    #[test]
    fn a_stalled_row_is_undecided_and_says_why() {
        let plan = plan_row(Path::new("/nonexistent"), 2, "y", &Load::default());
        let run = serde_json::json!({
            "summary": {"operations": 4, "ok": 2, "fail": 0, "info": 2, "throughput": 1.0,
                        "latency": {"p50_us": 10.0, "p99_us": 10.0}},
            "report": {"verdict": "valid"},
            "ended_stalled": "the run ended stalled: from 1.0 s on",
        });
        let stalled = RunRow::from_outcome("y", None, &plan, RowOutcome::Ran { run, exit_code: 3 });
        assert_eq!(stalled.verdict_text(), "STALLED");
        assert!(stalled.finding.as_deref().unwrap().contains("stalled"));
        let failed = RunRow::from_outcome(
            "z",
            None,
            &plan,
            RowOutcome::Failed {
                exit_code: 2,
                message: "bad file".into(),
            },
        );
        let matrix = |rows| RunComparison {
            load: Load::default(),
            dir: PathBuf::from("/nonexistent"),
            rows,
            elapsed: Duration::ZERO,
        };
        assert_eq!(matrix(vec![stalled.clone()]).exit_code(), 3);
        assert_eq!(matrix(vec![stalled, failed]).exit_code(), 2);
    }
}
