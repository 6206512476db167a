//! Every wait of a run has a bound, and every answer a size limit, through the library: a setup
//! that never finishes is [`RunError::Unready`] naming the step, with the history's header
//! kept; final reads end at the setup timeout as indeterminate; an exec program's endless line
//! is an indeterminate answer, not a buffer that grows.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use photofinish_history::{read_path, Outcome};
use photofinish_run::targets::exec::ExecTarget;
use photofinish_run::{
    run, run_blocking, CancellationToken, Client, Completion, Invocation, RunConfig, RunError,
    Target, Workload, WorkloadKind,
};

const REPRO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/repro");

fn history_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pf-bounds-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.jsonl"));
    let _ = std::fs::remove_file(&path);
    path
}

/// How the setup of a [`Stuck`] counter ends.
#[derive(Clone, Copy, PartialEq)]
enum SetupEnds {
    Never,
    InFailure,
    Ready,
}

/// A counter whose setup ends as `setup` says, and whose reads by the final reader (worker
/// `clients`) never answer.
struct Stuck {
    setup: SetupEnds,
    clients: usize,
}

struct StuckClient {
    final_reader: bool,
}

impl Target for Stuck {
    type Client = StuckClient;

    fn describe(&self) -> String {
        "stuck counter".into()
    }

    async fn setup(&self) -> Result<(), String> {
        match self.setup {
            SetupEnds::Never => std::future::pending().await,
            SetupEnds::InFailure => Err("the table is locked".to_string()),
            SetupEnds::Ready => Ok(()),
        }
    }

    async fn connect(&self, worker: usize) -> Result<StuckClient, String> {
        Ok(StuckClient {
            final_reader: worker == self.clients,
        })
    }
}

impl Client for StuckClient {
    async fn invoke(&mut self, op: &Invocation) -> Completion {
        if self.final_reader && op.f == "read" {
            std::future::pending::<()>().await;
        }
        Completion::Ok(if op.f == "read" {
            0.into()
        } else {
            photofinish_history::Value::Null
        })
    }
}

fn config(name: &str) -> RunConfig {
    let mut config = RunConfig::new(
        Workload::new(WorkloadKind::Counter, 1, 2),
        history_path(name),
    );
    config.ops = Some(10);
    config.op_timeout = Duration::from_secs(60);
    config.setup_timeout = Duration::from_millis(300);
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_setup_that_never_finishes_is_unready_and_the_header_is_kept() {
    let config = config("stuck-setup");
    let started = Instant::now();
    let target = Arc::new(Stuck {
        setup: SetupEnds::Never,
        clients: 2,
    });
    let error = run(target, &config, CancellationToken::new())
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(matches!(error, RunError::Unready { .. }), "{error}");
    assert_eq!(error.to_string(), "stuck: setup got no answer within 0.3 s");
    let history = read_path(&config.history, None).unwrap();
    assert!(history.header.is_some());
    assert!(history.operations.is_empty());
}

/// A setup that fails outright records nothing, so the file is not left behind to block the
/// next run with the same `--output`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_setup_leaves_no_history_file() {
    let config = config("failed-setup");
    let target = Arc::new(Stuck {
        setup: SetupEnds::InFailure,
        clients: 2,
    });
    let error = run(target, &config, CancellationToken::new())
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "cannot prepare the target: the table is locked"
    );
    assert!(!config.history.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn final_reads_end_at_the_setup_timeout_as_indeterminate() {
    let config = config("stuck-final-read");
    let started = Instant::now();
    let target = Arc::new(Stuck {
        setup: SetupEnds::Ready,
        clients: 2,
    });
    let summary = run(target, &config, CancellationToken::new())
        .await
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(summary.ok, 10);
    assert_eq!(summary.errors["final read: no answer within 0.3 s"], 1);
    let history = read_path(&config.history, None).unwrap();
    let last = history.operations.last().unwrap();
    assert_eq!((last.f.as_str(), last.outcome), ("read", Outcome::Info));
}

#[test]
fn an_endless_exec_answer_is_indeterminate_at_the_bound() {
    let workload = Workload::new(WorkloadKind::Counter, 1, 2);
    let target = ExecTarget::new(
        "python3",
        vec![format!("{REPRO}/exec-endless-line.py")],
        workload.clone(),
    )
    .with_max_answer_bytes(4096);
    let mut config = RunConfig::new(workload, history_path("endless"));
    config.ops = Some(4);
    let summary = run_blocking(target, &config).unwrap();
    assert_eq!(summary.ok, 0);
    assert!(
        summary
            .errors
            .keys()
            .all(|e| e.starts_with("client program: answer longer than 4096 bytes")),
        "{:?}",
        summary.errors
    );
    assert!(std::fs::metadata(&config.history).unwrap().len() < 16 << 10);
}
