//! What the target tests share: a scratch directory per test, and running a workload to a
//! history that is then checked the way `photofinish check` would.

pub mod postgres_server;
pub mod redis_server;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use photofinish_check::{check_model, CheckOptions, Report};
use photofinish_run::{run_blocking, RunConfig, Summary, Target, Workload};

/// A directory of its own for one test, removed when dropped.
pub struct Scratch {
    pub path: PathBuf,
}

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "photofinish-{name}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create a scratch directory");
        Scratch { path }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// A run's summary, and the verdict on its history.
pub struct Outcome {
    pub summary: Summary,
    pub report: Report,
}

/// Runs `ops` operations of `workload` against `target`, recording into `history`, and checks
/// the history against the workload's model.
pub fn run_and_check<T: Target>(
    target: T,
    workload: Workload,
    ops: u64,
    history: &Path,
) -> Outcome {
    let model = workload.kind.model();
    let mut config = RunConfig::new(workload, history);
    config.ops = Some(ops);
    config.seed = 7;
    let summary = run_blocking(target, &config).expect("the run completes");
    let (report, check_time) = check(history, model);
    eprintln!(
        "{}: {} ops ({} ok, {} fail, {} info) at {:.0} ops/s; {:?} in {:.3} s over {} partitions",
        summary.target,
        summary.operations,
        summary.ok,
        summary.fail,
        summary.info,
        summary.throughput,
        report.verdict,
        check_time.as_secs_f64(),
        report.partitions
    );
    Outcome { summary, report }
}

/// Reads the history file and checks it against `model`, timing the check alone.
pub fn check(history: &Path, model: &str) -> (Report, Duration) {
    let history = photofinish_history::read_path(history, None).expect("the history parses");
    let started = Instant::now();
    // A guard, not an expectation: a check that needs more than this is a finding to report,
    // and must not take the machine down with it.
    let options = CheckOptions {
        timeout: Some(Duration::from_secs(60)),
        max_memory: 1 << 30,
        ..CheckOptions::default()
    };
    let report =
        check_model(model, None, None, &history, &options).expect("the history can be checked");
    (report, started.elapsed())
}

/// Asserts the verdict, and that no operation was indeterminate: these runs have no faults, so
/// an `info` would be a client bug.
pub fn assert_verdict(outcome: &Outcome, verdict: photofinish_check::Verdict) {
    assert_eq!(
        outcome.report.verdict,
        verdict,
        "{} ({} ok, {} fail, {} info): {:?}",
        outcome.summary.target,
        outcome.summary.ok,
        outcome.summary.fail,
        outcome.summary.info,
        outcome.summary.errors
    );
    assert_eq!(outcome.summary.info, 0, "{:?}", outcome.summary.errors);
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("bind an ephemeral port")
        .port()
}
