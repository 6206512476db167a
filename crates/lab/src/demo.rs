//! The demo: every scenario run against a fresh lab through the HTTP target, its history
//! checked with the workload's model, and a table, scenario by scenario, of whether each racy
//! strategy was caught and each fix passed, with what each costs in latency.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use photofinish_check::{check_model, default_init, CheckOptions, Report, Verdict};
use photofinish_history::Format;
use photofinish_run::faults::{FaultKind, NemesisConfig};
use photofinish_run::targets::http::HttpTarget;
use photofinish_run::{
    format_micros, run, CancellationToken, NemesisPlan, RunConfig, StallOptions, Workload,
    WorkloadKind,
};
use serde::Serialize;

use crate::drive::{drive, Drive, Figures};
use crate::remote::RemoteObjects;
use crate::scenarios::{default_scenarios, describe, Driver, LabFault, Scenario};
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
    /// Operations per scenario, not counting the final reads; create-once runs take a quarter
    /// (see [`Strategy::ops`](crate::Strategy::ops)).
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

/// One scenario's outcome: a row of the demo's table and of `compare`'s matrix.
#[derive(Clone, Debug, Serialize)]
pub struct DemoRow {
    pub scenario: &'static str,
    /// The option: the strategy the requests were handled with.
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
    /// Latency added against the first row of the same scenario and replica count (the
    /// original code): negative when this option is faster.
    pub added_p50_us: f64,
    pub added_p99_us: f64,
    /// Whether the verdict is the expected one: a racy strategy caught, a fix passed.
    pub held: bool,
    /// What the checker found, in one line, for a verdict other than valid: the diagnosis's
    /// first line, else why the history has no linearization or why nothing was decided.
    pub finding: Option<String>,
    /// For create-once: how many `created` answers beyond the first each fingerprint got, over
    /// the whole run; the diagnosis names only the first fingerprint.
    pub duplicates: Option<u64>,
    /// For a scenario with faults: how many fingerprints were created inside the faults'
    /// windows and outside, and how many of each got duplicates. This is what the fault did.
    pub fault_split: Option<FaultSplit>,
    /// Why the verdict is unknown when the check says (such as "nothing was tested: no
    /// operation completed ok").
    pub reason: Option<String>,
    /// The first stall of the run, in a sentence: when, how long, who waited on what.
    pub stall: Option<String>,
    pub history: PathBuf,
    /// The checker's whole report, for an HTML report of the run.
    #[serde(skip)]
    pub report: Report,
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
    let mut rows: Vec<DemoRow> = Vec::with_capacity(options.scenarios.len());
    for scenario in &options.scenarios {
        let mut row = run_scenario(scenario, options, &dir)
            .await
            .map_err(|message| DemoError::Scenario {
                scenario: format!("{} with {} replicas", scenario.strategy, scenario.replicas),
                message,
            })?;
        if let Some(first) = rows
            .iter()
            .find(|r| r.scenario == row.scenario && r.replicas == row.replicas)
        {
            row.added_p50_us = row.p50_us - first.p50_us;
            row.added_p99_us = row.p99_us - first.p99_us;
        }
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
    let fault = strategy.fault();
    let lab = if fault.is_some() {
        Lab::start_with_remote_objects(scenario.replicas, options.store).await
    } else {
        Lab::start(scenario.replicas, options.store).await
    }
    .map_err(|e| format!("cannot start the lab: {e}"))?;
    let keys = strategy.keys();
    let target = Arc::new(HttpTarget::new(strategy.spec(lab.urls(), keys)?)?);
    let history = dir.join(scenario.file_name());
    // The runner appends, and an earlier demo's history in the same place would be checked too.
    match std::fs::remove_file(&history) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(format!("cannot replace {}: {e}", history.display()))
        }
        _ => {}
    }
    let ops = strategy.ops(options.ops);
    let driver = strategy.driver();
    // What each history's header says: the lab's setup starts every object at its model's
    // default, and `photofinish check FILE` then needs neither --model nor --init.
    let init = default_init(driver.model());
    let described = format!(
        "photofinish lab: {} by {} on {} replica{}",
        strategy.scenario(),
        strategy.name(),
        scenario.replicas,
        if scenario.replicas == 1 { "" } else { "s" }
    );
    let figures = match driver {
        Driver::Runner(kind) => {
            let clients = fault.map_or(options.clients, |f| f.clients);
            let mut config = RunConfig::new(lab_workload(kind, keys, clients), &history);
            config.ops = Some(ops);
            config.seed = options.seed;
            config.header.init = init;
            config.header.target = Some(described);
            if let (Some(fault), Some(remote)) = (fault, lab.remote_objects()) {
                config.ops = None;
                config.duration = Some(fault.run_for);
                config.nemesis = Some(slow_link(&fault, remote, options.seed));
            }
            // A stall ends the run once it is detected: a deadlock costs a second, not every
            // waiting operation's timeout.
            config.stall = StallOptions {
                stop_after: Some(Duration::ZERO),
                ..StallOptions::default()
            };
            let summary = run(target, &config, CancellationToken::new())
                .await
                .map_err(|e| e.to_string())?;
            Figures::from(&summary)
        }
        Driver::Lab(workload) => {
            let plan = Drive {
                workload,
                keys,
                clients: options.clients,
                ops,
                seed: options.seed,
                op_timeout: Duration::from_secs(5),
                header: photofinish_history::RecordedWith {
                    version: Some(env!("CARGO_PKG_VERSION").to_string()),
                    model: Some(driver.model().to_string()),
                    init,
                    target: Some(described),
                    seed: Some(options.seed),
                    ..Default::default()
                },
            };
            drive(target, &plan, &history).await?
        }
    };
    drop(lab);

    let check_options = CheckOptions {
        timeout: Some(options.check_timeout),
        ..CheckOptions::default()
    };
    let path = history.clone();
    let (report, duplicates, fault_split) = tokio::task::spawn_blocking(move || {
        let recorded = photofinish_history::read_path(&path, Some(Format::JsonLines))
            .map_err(|e| e.to_string())?;
        let init = recorded.header.as_ref().and_then(|h| h.init.as_ref());
        let report = check_model(driver.model(), init, None, &recorded, &check_options)
            .map_err(|e| e.to_string())?;
        let create_once = driver.model() == "create-once";
        let duplicates = create_once.then(|| duplicate_creates(&recorded));
        let fault_split =
            (create_once && !recorded.nemesis.is_empty()).then(|| FaultSplit::of(&recorded));
        Ok::<_, String>((report, duplicates, fault_split))
    })
    .await
    .map_err(|e| format!("the check stopped: {e}"))??;

    let expected = scenario.expectation();
    let stalled = !report.stalls.is_empty();
    let held = match expected {
        Expectation::Racy => report.verdict == Verdict::Invalid,
        Expectation::Safe => report.verdict == Verdict::Valid && !stalled,
        Expectation::Stalls => report.verdict != Verdict::Invalid && stalled,
    };
    let stall = report
        .stalls
        .first()
        .map(|s| format!("{s}; waiting: {}", s.waiting_text()));
    Ok(DemoRow {
        scenario: strategy.scenario(),
        strategy: strategy.name(),
        replicas: scenario.replicas,
        expected,
        verdict: report.verdict,
        ops: figures.operations,
        throughput: figures.throughput,
        p50_us: figures.latency.p50_us,
        p99_us: figures.latency.p99_us,
        added_p50_us: 0.0,
        added_p99_us: 0.0,
        held,
        // A stall says more than "nothing was tested" about a run that deadlocked.
        finding: match (&stall, report.verdict) {
            (Some(_), Verdict::Valid | Verdict::Unknown) => {
                report.stalls.first().map(ToString::to_string)
            }
            _ => finding(&report),
        },
        duplicates,
        fault_split,
        reason: report.reason.clone(),
        stall,
        history,
        report,
    })
}

/// The nemesis that slows the link to the lab's remote objects table now and then.
/// The workload a lab scenario runs. The stale-read scenario's compare-and-set draws its
/// values from a few ([`LAB_CAS_VALUES`], a seat's or a job's few states), as Knossos's
/// classic workload does: many clients then expect the same value at once, so the race
/// between reading and writing shows within a demo's few hundred operations. (A `photofinish
/// run` cas-register writes unique values instead, which the checker decides at any number
/// of clients; a demo's history is small enough for the general search.)
fn lab_workload(kind: WorkloadKind, keys: usize, clients: usize) -> Workload {
    let workload = Workload::new(kind, keys, clients);
    if kind != WorkloadKind::CasRegister {
        return workload;
    }
    let few = workload.clone().with_values(Some(LAB_CAS_VALUES));
    few.unwrap_or(workload)
}

/// How many values the stale-read scenario's register takes (see [`lab_workload`]).
const LAB_CAS_VALUES: u64 = 5;

fn slow_link(fault: &LabFault, remote: &RemoteObjects, seed: u64) -> NemesisPlan {
    let mut config = NemesisConfig::new(vec![FaultKind::Latency]);
    config.latency = fault.latency;
    config.jitter = Duration::ZERO;
    config.interval = fault.interval;
    config.duration = fault.duration;
    config.seed = seed;
    NemesisPlan::new(remote.links(), config)
}

/// `created` answers beyond the first for each key, summed over the keys.
fn duplicate_creates(history: &photofinish_history::History) -> u64 {
    let mut created: std::collections::BTreeMap<_, u64> = std::collections::BTreeMap::new();
    for op in &history.operations {
        if op.f == "create"
            && op.outcome == photofinish_history::Outcome::Ok
            && op.result.as_str() == Some("created")
        {
            *created.entry(op.key.clone()).or_default() += 1;
        }
    }
    created.values().map(|n| n - 1).sum()
}

/// Fingerprints created inside fault windows and outside them, and how many of each were
/// created more than once. A fingerprint counts as inside when its last `created` answer came
/// while a fault was in force.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FaultSplit {
    pub inside: u64,
    pub inside_duplicated: u64,
    pub outside: u64,
    pub outside_duplicated: u64,
}

impl FaultSplit {
    fn of(history: &photofinish_history::History) -> FaultSplit {
        // Windows in event indexes, from each start-… event to the stop-… event after it; one
        // still open at the end lasts to the end.
        let mut windows = Vec::new();
        let mut open = None;
        for event in &history.nemesis {
            if event.f.starts_with("start") {
                open = open.or(Some(event.at));
            } else if let Some(start) = open.take() {
                windows.push((start, event.at));
            }
        }
        windows.extend(open.map(|start| (start, u64::MAX)));
        let mut last_created: std::collections::BTreeMap<_, (u64, u64)> = Default::default();
        for op in &history.operations {
            if op.f == "create"
                && op.outcome == photofinish_history::Outcome::Ok
                && op.result.as_str() == Some("created")
            {
                let at = op.completed_at.unwrap_or(op.invoked_at);
                let entry = last_created.entry(op.key.clone()).or_default();
                *entry = (entry.0 + 1, entry.1.max(at));
            }
        }
        let mut split = FaultSplit::default();
        for (count, at) in last_created.into_values() {
            let duplicated = u64::from(count > 1);
            if windows.iter().any(|&(start, end)| start <= at && at <= end) {
                split.inside += 1;
                split.inside_duplicated += duplicated;
            } else {
                split.outside += 1;
                split.outside_duplicated += duplicated;
            }
        }
        split
    }
}

impl fmt::Display for FaultSplit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let share = |part: u64, all: u64| {
            if all == 0 {
                0.0
            } else {
                100.0 * part as f64 / all as f64
            }
        };
        write!(
            f,
            "duplicated {} of {} fingerprints ({:.0}%) inside the fault windows, {} of {} ({:.0}%) outside",
            self.inside_duplicated,
            self.inside,
            share(self.inside_duplicated, self.inside),
            self.outside_duplicated,
            self.outside,
            share(self.outside_duplicated, self.outside),
        )
    }
}

/// The report's finding in one line, for a verdict other than valid.
fn finding(report: &Report) -> Option<String> {
    if report.verdict == Verdict::Valid {
        return None;
    }
    let first_line = |text: &str| text.lines().next().unwrap_or_default().to_string();
    report
        .diagnosis
        .first()
        .map(|d| first_line(&d.message))
        .or_else(|| report.failures.first().map(|f| first_line(&f.reason)))
        .or_else(|| report.reason.as_deref().map(first_line))
        .or_else(|| report.undecided.first().map(|u| first_line(&u.reason)))
}

fn verdict_name(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Valid => "valid",
        Verdict::Invalid => "INVALID",
        Verdict::Unknown => "unknown",
    }
}

/// The verdict as the tables show it.
pub(crate) fn held_text(row: &DemoRow) -> &'static str {
    match (row.held, row.expected) {
        (true, Expectation::Racy) => "yes: race caught",
        (true, Expectation::Safe) => "yes: fix passed",
        (false, Expectation::Racy) => "NO: race missed",
        (false, Expectation::Safe) => "NO: fix failed",
        (true, Expectation::Stalls) => "yes: stall caught",
        (false, Expectation::Stalls) => "NO: stall missed",
    }
}

/// A latency difference with its sign, such as `+1.20 ms` or `-310 µs`.
fn signed_micros(us: f64) -> String {
    let sign = if us < 0.0 { "-" } else { "+" };
    format!("{sign}{}", format_micros(us.abs()))
}

/// Writes the rows of one scenario as a table, replica count by replica count, then what the
/// checker found for each row that was not valid. Every row's added latency is against the
/// first row of its replica count.
pub(crate) fn write_scenario(
    f: &mut fmt::Formatter<'_>,
    scenario: &str,
    rows: &[&DemoRow],
) -> fmt::Result {
    writeln!(f, "{scenario}: {}", describe(scenario))?;
    let mut counts: Vec<usize> = rows.iter().map(|r| r.replicas).collect();
    counts.dedup();
    for replicas in counts {
        writeln!(
            f,
            "  on {replicas} replica{}:",
            if replicas == 1 { "" } else { "s" }
        )?;
        writeln!(
            f,
            "    {:<24} {:<8} {:>5} {:>6} {:>9} {:>9} {:>10} {:>10}  as expected",
            "option", "verdict", "ops", "ops/s", "p50", "p99", "+p50", "+p99"
        )?;
        for (index, row) in rows.iter().filter(|r| r.replicas == replicas).enumerate() {
            let added = |us: f64| {
                if index == 0 {
                    "(baseline)".to_string()
                } else {
                    signed_micros(us)
                }
            };
            writeln!(
                f,
                "    {:<24} {:<8} {:>5} {:>6.0} {:>9} {:>9} {:>10} {:>10}  {}",
                row.strategy,
                match (&row.stall, row.verdict) {
                    (Some(_), Verdict::Valid | Verdict::Unknown) => "STALLED",
                    _ => verdict_name(row.verdict),
                },
                row.ops,
                row.throughput,
                format_micros(row.p50_us),
                format_micros(row.p99_us),
                added(row.added_p50_us),
                added(row.added_p99_us),
                held_text(row)
            )?;
        }
    }
    let findings: Vec<_> = rows
        .iter()
        .filter_map(|row| row.finding.as_ref().map(|finding| (row, finding)))
        .collect();
    if !findings.is_empty() {
        writeln!(f, "  what the checker found:")?;
        for (row, finding) in findings {
            let duplicates = match (row.duplicates, row.fault_split) {
                (Some(n), Some(split)) => format!("{n} duplicates in all, {split}; "),
                (Some(n), None) => format!("{n} duplicates in all; "),
                _ => String::new(),
            };
            let file = row.history.file_name().map_or_else(
                || row.history.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            writeln!(
                f,
                "    {} on {}: {duplicates}{}  [{}]",
                row.strategy,
                row.replicas,
                photofinish_history::escape_and_clip(finding, 160),
                photofinish_history::escape_and_clip(&file, 80)
            )?;
        }
    }
    Ok(())
}

/// The rows grouped by scenario, in the order each scenario first ran.
pub(crate) fn by_scenario(rows: &[DemoRow]) -> Vec<(&'static str, Vec<&DemoRow>)> {
    let mut groups: Vec<(&'static str, Vec<&DemoRow>)> = Vec::new();
    for row in rows {
        match groups.iter_mut().find(|(s, _)| *s == row.scenario) {
            Some((_, group)) => group.push(row),
            None => groups.push((row.scenario, vec![row])),
        }
    }
    groups
}

impl fmt::Display for DemoReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (scenario, rows) in by_scenario(&self.rows) {
            write_scenario(f, scenario, &rows)?;
            writeln!(f)?;
        }
        let count = |expected| self.rows.iter().filter(|r| r.expected == expected).count();
        let (racy, safe, stalls) = (
            count(Expectation::Racy),
            count(Expectation::Safe),
            count(Expectation::Stalls),
        );
        let missed = self.rows.iter().filter(|r| !r.held).count();
        if missed == 0 {
            writeln!(
                f,
                "demo passed: all {racy} racy runs caught, {}all {safe} fixes passed, in {:.1} s",
                match stalls {
                    0 => String::new(),
                    1 => "the deadlock caught as a stall, ".to_string(),
                    n => format!("all {n} deadlocks caught as stalls, "),
                },
                self.elapsed.as_secs_f64()
            )?;
        } else {
            writeln!(
                f,
                "demo FAILED: {missed} of {} runs did not turn out as expected, in {:.1} s",
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
