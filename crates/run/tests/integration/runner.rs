//! The runner against in-process systems whose behaviour the test controls: what it records
//! must let the checker tell a racy counter from a correct one, and timeouts and interruptions
//! must leave a complete, checkable history.

use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use photofinish_check::models::check_model;
use photofinish_check::{CheckOptions, Verdict};
use photofinish_history::{read_path, History, Outcome, Value};
use photofinish_run::targets::memory::{MemoryTarget, MemoryVariant};
use photofinish_run::{
    run, CancellationToken, Client, Completion, Invocation, RunConfig, Target, Workload,
    WorkloadKind,
};

/// A counter in memory. `racy` increments by load, pause, store: the lost update.
struct MemoryCounter {
    value: Arc<AtomicI64>,
    racy: bool,
    /// Every n-th operation never answers (0: none do).
    hang_every: u64,
    calls: Arc<AtomicU64>,
}

impl MemoryCounter {
    fn new(racy: bool, hang_every: u64) -> MemoryCounter {
        MemoryCounter {
            value: Arc::default(),
            racy,
            hang_every,
            calls: Arc::default(),
        }
    }
}

struct MemoryClient {
    value: Arc<AtomicI64>,
    racy: bool,
    hang_every: u64,
    calls: Arc<AtomicU64>,
}

impl Target for MemoryCounter {
    type Client = MemoryClient;

    fn describe(&self) -> String {
        "memory counter".into()
    }

    async fn setup(&self) -> Result<(), String> {
        self.value.store(0, Ordering::SeqCst);
        Ok(())
    }

    async fn connect(&self, _worker: usize) -> Result<MemoryClient, String> {
        Ok(MemoryClient {
            value: Arc::clone(&self.value),
            racy: self.racy,
            hang_every: self.hang_every,
            calls: Arc::clone(&self.calls),
        })
    }
}

impl Client for MemoryClient {
    async fn invoke(&mut self, op: &Invocation) -> Completion {
        let call = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        if self.hang_every > 0 && call.is_multiple_of(self.hang_every) {
            std::future::pending::<()>().await;
        }
        match op.f.as_str() {
            "read" => Completion::Ok(Value::Int(self.value.load(Ordering::SeqCst))),
            "add" => {
                let n = op.value.as_i64().unwrap_or(1);
                if self.racy {
                    let seen = self.value.load(Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_micros(200)).await;
                    self.value.store(seen + n, Ordering::SeqCst);
                } else {
                    self.value.fetch_add(n, Ordering::SeqCst);
                }
                Completion::Ok(Value::Null)
            }
            other => Completion::Fail(format!("unknown operation {other}")),
        }
    }
}

fn history_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pf-runner-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.jsonl"));
    let _ = std::fs::remove_file(&path);
    path
}

fn config(name: &str, clients: usize, ops: u64) -> RunConfig {
    let mut config = RunConfig::new(
        Workload::new(WorkloadKind::Counter, 1, clients),
        history_path(name),
    );
    config.ops = Some(ops);
    config.seed = 7;
    config
}

fn verdict(history: &History) -> Verdict {
    check_model("counter", None, None, history, &CheckOptions::default())
        .unwrap()
        .verdict
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_checker_tells_a_racy_counter_from_an_atomic_one() {
    for (racy, expected) in [(true, Verdict::Invalid), (false, Verdict::Valid)] {
        let config = config(if racy { "racy" } else { "atomic" }, 20, 3000);
        let summary = run(
            Arc::new(MemoryCounter::new(racy, 0)),
            &config,
            CancellationToken::new(),
        )
        .await
        .unwrap();
        assert_eq!(summary.operations, 3001, "3000 and the final read");
        let history = read_path(&config.history, None).unwrap();
        assert_eq!(history.operations.len(), 3001);
        assert_eq!(verdict(&history), expected, "racy: {racy}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_operation_becomes_info_and_its_process_is_replaced() {
    let mut config = config("hung", 4, 200);
    config.op_timeout = Duration::from_millis(50);
    let summary = run(
        Arc::new(MemoryCounter::new(false, 25)),
        &config,
        CancellationToken::new(),
    )
    .await
    .unwrap();
    assert!(summary.info >= 7, "{summary}");
    assert_eq!(summary.errors.get("timed out"), Some(&summary.info));
    let history = read_path(&config.history, None).unwrap();
    for op in history
        .operations
        .iter()
        .filter(|op| op.outcome == Outcome::Info)
    {
        let later = history
            .operations
            .iter()
            .filter(|other| other.process == op.process && other.invoked_at > op.invoked_at);
        assert_eq!(
            later.count(),
            0,
            "process {} went on after info",
            op.process
        );
    }
    assert_eq!(verdict(&history), Verdict::Valid);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_run_records_its_pending_operations_as_info() {
    let mut config = config("interrupted", 8, 1_000_000);
    config.ops = None;
    config.duration = Some(Duration::from_secs(60));
    let stop = CancellationToken::new();
    let stopper = stop.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        stopper.cancel();
    });
    // Every 50th operation never answers, so some are in flight at the stop.
    let summary = run(Arc::new(MemoryCounter::new(false, 50)), &config, stop)
        .await
        .unwrap();
    assert!(summary.interrupted);
    assert!(summary.errors.contains_key("interrupted"), "{summary}");
    let history = read_path(&config.history, None).unwrap();
    assert!(history.warnings.is_empty(), "{:?}", history.warnings);
    assert!(history
        .operations
        .iter()
        .all(|op| op.outcome != Outcome::Pending));
    assert_eq!(history.operations.len() as u64, summary.operations);
    assert_eq!(verdict(&history), Verdict::Valid);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limit_paces_the_run() {
    let mut config = config("paced", 4, 50);
    config.rate = Some(500.0);
    let summary = run(
        Arc::new(MemoryCounter::new(false, 0)),
        &config,
        CancellationToken::new(),
    )
    .await
    .unwrap();
    // 50 operations at 500/s take at least 98 ms (the first goes at once).
    assert!(summary.elapsed >= Duration::from_millis(95), "{summary}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_workload_on_a_correct_system_is_valid() {
    // The transactional workloads are checked by photofinish-txn, in txn_postgres.rs.
    for kind in WorkloadKind::ALL.into_iter().filter(|k| !k.transactional()) {
        for keys in [1, 3] {
            let name = format!("correct-{kind}-{keys}");
            let mut config = RunConfig::new(Workload::new(kind, keys, 20), history_path(&name));
            // multi-register is one object, searched whole: at 20 clients 2000 transactions
            // take the generic search 30 to 50 s; 500 take 6 to 8 s.
            config.ops = Some(if kind == WorkloadKind::MultiRegister {
                500
            } else {
                2000
            });
            // Operations overlap as over a network: each waits up to 300 µs before and after.
            let target = MemoryTarget::new(kind, MemoryVariant::Atomic)
                .unwrap()
                .with_jitter(Duration::from_micros(300));
            run(Arc::new(target), &config, CancellationToken::new())
                .await
                .unwrap();
            let history = read_path(&config.history, None).unwrap();
            let started = Instant::now();
            let report =
                check_model(kind.model(), None, None, &history, &CheckOptions::default()).unwrap();
            eprintln!("{name}: checked in {:?}", started.elapsed());
            assert_eq!(report.verdict, Verdict::Valid, "{name}: {report:?}");
        }
    }
}
