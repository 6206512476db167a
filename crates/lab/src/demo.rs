//! The demo: every scenario run against a fresh lab through the HTTP target, its history
//! checked with the workload's model, and a table of whether each racy strategy was caught and
//! each fix passed.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use photofinish_check::{check_model, CheckOptions, Report, Verdict, MODELS};
use photofinish_history::{escape_and_clip, Format, Value};
use photofinish_run::targets::http::HttpTarget;
use photofinish_run::{format_micros, run, CancellationToken, RunConfig, Workload};

use crate::scenarios::{default_scenarios, Scenario};
use crate::server::Lab;
use crate::store::StoreConfig;
use crate::strategies::Expectation;

/// Called with each row as soon as its scenario is checked.
pub type Progress = Arc<dyn Fn(&DemoRow) + Send + Sync>;

/// How to run the demo. The defaults catch every racy strategy on every run, in a few seconds.
#[derive(Clone)]
pub struct DemoOptions {
    /// Where the histories go; a fresh directory under the system's temporary directory when
    /// `None`. It is kept either way, so that every verdict can be checked again.
    pub dir: Option<PathBuf>,
    pub clients: usize,
    /// Operations per scenario, not counting the final reads.
    pub ops: u64,
    pub seed: u64,
    pub scenarios: Vec<Scenario>,
    pub store: StoreConfig,
    /// How long the checker may take over one history before its verdict is unknown.
    pub check_timeout: Duration,
    pub progress: Option<Progress>,
}

impl Default for DemoOptions {
    fn default() -> DemoOptions {
        DemoOptions {
            dir: None,
            clients: 20,
            ops: 1000,
            seed: 0,
            scenarios: default_scenarios(),
            store: StoreConfig::default(),
            check_timeout: Duration::from_secs(30),
            progress: None,
        }
    }
}

/// One scenario's outcome.
#[derive(Clone, Debug)]
pub struct DemoRow {
    pub scenario: &'static str,
    pub strategy: &'static str,
    pub replicas: usize,
    pub expected: Expectation,
    pub verdict: Verdict,
    /// Operations recorded, including the final reads.
    pub ops: u64,
    /// Operations per second.
    pub throughput: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    /// Whether the verdict is the expected one: a racy strategy caught, a fix passed.
    pub held: bool,
    /// What the checker found, for a history it found not linearizable: the diagnosis's first
    /// finding in the user's terms, or the size of the witness when there is no diagnosis.
    pub finding: Option<String>,
    /// Why the verdict is unknown when the check says (such as "nothing was tested: no
    /// operation completed ok").
    pub reason: Option<String>,
    pub history: PathBuf,
}

/// Every scenario's row, in the order they ran.
#[derive(Clone, Debug)]
pub struct DemoReport {
    pub rows: Vec<DemoRow>,
    pub dir: PathBuf,
    pub elapsed: Duration,
}

impl DemoReport {
    /// True exactly when every racy strategy was caught and every fix passed.
    pub fn succeeded(&self) -> bool {
        self.rows.iter().all(|row| row.held)
    }

    /// 0 when the demo succeeded, 1 when an expectation did not hold.
    pub fn exit_code(&self) -> i32 {
        if self.succeeded() {
            0
        } else {
            1
        }
    }
}

/// Why the demo could not run at all (as opposed to running and finding a surprise).
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("cannot use {dir} for the histories: {source}")]
    Dir {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("{scenario}: {message}")]
    Scenario { scenario: String, message: String },
    #[error("cannot start the runtime: {0}")]
    Runtime(std::io::Error),
}

/// Runs every scenario in turn, each against a lab of its own, and checks each history.
pub async fn demo(options: &DemoOptions) -> Result<DemoReport, DemoError> {
    let started = Instant::now();
    let dir = history_dir(options.dir.as_deref())?;
    let mut rows = Vec::with_capacity(options.scenarios.len());
    for scenario in &options.scenarios {
        let row = run_scenario(scenario, options, &dir)
            .await
            .map_err(|message| DemoError::Scenario {
                scenario: format!("{} with {} replicas", scenario.strategy, scenario.replicas),
                message,
            })?;
        if let Some(progress) = &options.progress {
            progress(&row);
        }
        rows.push(row);
    }
    Ok(DemoReport {
        rows,
        dir,
        elapsed: started.elapsed(),
    })
}

/// [`demo`] on a runtime of its own.
pub fn demo_blocking(options: &DemoOptions) -> Result<DemoReport, DemoError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(DemoError::Runtime)?;
    runtime.block_on(demo(options))
}

fn history_dir(dir: Option<&Path>) -> Result<PathBuf, DemoError> {
    match dir {
        Some(dir) => std::fs::create_dir_all(dir)
            .map(|()| dir.to_path_buf())
            .map_err(|source| DemoError::Dir {
                dir: dir.to_path_buf(),
                source,
            }),
        None => tempfile::Builder::new()
            .prefix("photofinish-demo-")
            .tempdir()
            .map(tempfile::TempDir::keep)
            .map_err(|source| DemoError::Dir {
                dir: std::env::temp_dir(),
                source,
            }),
    }
}

async fn run_scenario(
    scenario: &Scenario,
    options: &DemoOptions,
    dir: &Path,
) -> Result<DemoRow, String> {
    let strategy = scenario.strategy;
    let lab = Lab::start(scenario.replicas, options.store)
        .await
        .map_err(|e| format!("cannot start the lab: {e}"))?;
    let keys = strategy.keys();
    let target = HttpTarget::new(strategy.spec(lab.urls(), keys)?)?;
    let history = dir.join(scenario.file_name());
    // The runner appends, and an earlier demo's history in the same place would be checked too.
    match std::fs::remove_file(&history) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(format!("cannot replace {}: {e}", history.display()))
        }
        _ => {}
    }
    let mut config = RunConfig::new(
        Workload::new(strategy.workload(), keys, options.clients),
        &history,
    );
    config.ops = Some(options.ops);
    config.seed = options.seed;
    let model = strategy.workload().model();
    config.header.init = MODELS
        .iter()
        .find(|m| m.name == model)
        .and_then(|m| Value::from_json_str(m.default_init).ok())
        .filter(|init| !init.is_null());
    config.header.target = Some(format!(
        "photofinish lab: {} by {} on {} replica{}",
        strategy.scenario(),
        strategy.name(),
        scenario.replicas,
        if scenario.replicas == 1 { "" } else { "s" }
    ));
    let summary = run(Arc::new(target), &config, CancellationToken::new())
        .await
        .map_err(|e| e.to_string())?;
    drop(lab);

    let check_options = CheckOptions {
        timeout: Some(options.check_timeout),
        ..CheckOptions::default()
    };
    let path = history.clone();
    let report = tokio::task::spawn_blocking(move || {
        let recorded = photofinish_history::read_path(&path, Some(Format::JsonLines))
            .map_err(|e| e.to_string())?;
        let init = recorded.header.as_ref().and_then(|h| h.init.as_ref());
        check_model(model, init, None, &recorded, &check_options).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| format!("the check stopped: {e}"))??;

    let expected = scenario.expectation();
    let held = matches!(
        (expected, report.verdict),
        (Expectation::Racy, Verdict::Invalid) | (Expectation::Safe, Verdict::Valid)
    );
    Ok(DemoRow {
        scenario: strategy.scenario(),
        strategy: strategy.name(),
        replicas: scenario.replicas,
        expected,
        verdict: report.verdict,
        ops: summary.operations,
        throughput: summary.throughput,
        p50_us: summary.latency.p50_us,
        p99_us: summary.latency.p99_us,
        held,
        finding: finding(&report),
        reason: report.reason.clone(),
        history,
    })
}

/// What the checker found, in a line: the diagnosis's first finding, or else the witness's
/// size, or else the first failure's reason; `None` when the history was not found invalid.
fn finding(report: &Report) -> Option<String> {
    if report.verdict != Verdict::Invalid {
        return None;
    }
    if let Some(first) = report.diagnosis.first() {
        return Some(first.message.clone());
    }
    if let Some(witness) = &report.witness {
        let lines: Vec<String> = witness
            .operations
            .iter()
            .take(8)
            .map(|op| op.invoke_line.to_string())
            .collect();
        let count = witness.operations.len();
        return Some(format!(
            "{count} operation{} alone cannot be explained (invoked on line{} {}{})",
            if count == 1 { "" } else { "s" },
            if count == 1 { "" } else { "s" },
            lines.join(", "),
            if count > 8 { ", ..." } else { "" }
        ));
    }
    report.failures.first().map(|f| f.reason.clone())
}

/// How long a finding may run in the table before it is cut.
const FINDING_CHARS: usize = 240;

fn verdict_name(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Valid => "valid",
        Verdict::Invalid => "INVALID",
        Verdict::Unknown => "unknown",
    }
}

impl fmt::Display for DemoRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:<12} {:<25} {:>8}  {:<8} {:<8} {:>6} {:>8.0} {:>9} {:>9}  {}",
            self.scenario,
            self.strategy,
            self.replicas,
            self.expected.to_string(),
            verdict_name(self.verdict),
            self.ops,
            self.throughput,
            format_micros(self.p50_us),
            format_micros(self.p99_us),
            match (self.held, self.expected) {
                (true, Expectation::Racy) => "yes: race caught",
                (true, Expectation::Safe) => "yes: fix passed",
                (false, Expectation::Racy) => "NO: race missed",
                (false, Expectation::Safe) => "NO: fix failed",
            }
        )
    }
}

impl fmt::Display for DemoReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<12} {:<25} {:>8}  {:<8} {:<8} {:>6} {:>8} {:>9} {:>9}  as expected",
            "scenario", "strategy", "replicas", "expected", "verdict", "ops", "ops/s", "p50", "p99"
        )?;
        for row in &self.rows {
            writeln!(f, "{row}")?;
        }
        let findings: Vec<_> = self
            .rows
            .iter()
            .filter_map(|row| {
                let finding = match (&row.finding, &row.reason) {
                    (Some(finding), _) => finding.clone(),
                    (None, Some(reason)) => format!("UNKNOWN: {reason}"),
                    (None, None) => return None,
                };
                Some((row, finding))
            })
            .collect();
        if !findings.is_empty() {
            writeln!(f, "\nwhat the checker found:")?;
            for (row, finding) in findings {
                writeln!(
                    f,
                    "  {}/{} on {} replica{}: {}\n    history: {}",
                    row.scenario,
                    row.strategy,
                    row.replicas,
                    if row.replicas == 1 { "" } else { "s" },
                    escape_and_clip(&finding, FINDING_CHARS),
                    escape_and_clip(&row.history.display().to_string(), FINDING_CHARS)
                )?;
            }
        }
        let racy = self
            .rows
            .iter()
            .filter(|r| r.expected == Expectation::Racy)
            .count();
        let safe = self.rows.len() - racy;
        let missed = self.rows.iter().filter(|r| !r.held).count();
        writeln!(f)?;
        if missed == 0 {
            writeln!(
                f,
                "demo passed: all {racy} racy scenarios caught, all {safe} fixes passed, in {:.1} s",
                self.elapsed.as_secs_f64()
            )?;
        } else {
            writeln!(
                f,
                "demo FAILED: {missed} of {} scenarios did not turn out as expected, in {:.1} s",
                self.rows.len(),
                self.elapsed.as_secs_f64()
            )?;
        }
        write!(
            f,
            "histories in {}; each names its model: photofinish check FILE, photofinish report FILE -o PAGE.html",
            self.dir.display()
        )
    }
}
