//! A run that cannot go on stops early: every client stops, the history so far is kept and
//! checkable, and the summary says why.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use photofinish_history::{read_path, Outcome, Value};
use photofinish_run::{
    run, CancellationToken, Client, Completion, Halt, HaltKind, Invocation, RunConfig, Target,
    Workload, WorkloadKind,
};

/// A counter whose `halt_at`-th operation answers with a [`Completion::Halt`], as a target
/// does when an answer shows the workload does not fit it.
struct HaltingCounter {
    calls: Arc<AtomicU64>,
    halt_at: u64,
}

struct HaltingClient {
    calls: Arc<AtomicU64>,
    halt_at: u64,
}

impl Target for HaltingCounter {
    type Client = HaltingClient;

    fn describe(&self) -> String {
        "halting counter".into()
    }

    async fn setup(&self) -> Result<(), String> {
        Ok(())
    }

    async fn connect(&self, _worker: usize) -> Result<HaltingClient, String> {
        Ok(HaltingClient {
            calls: Arc::clone(&self.calls),
            halt_at: self.halt_at,
        })
    }
}

impl Client for HaltingClient {
    async fn invoke(&mut self, op: &Invocation) -> Completion {
        let call = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        if call == self.halt_at {
            return Completion::Halt(Halt::new(
                HaltKind::WorkloadMismatch,
                "read's result is a string, the counter needs an integer",
            ));
        }
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        match op.f.as_str() {
            "read" => Completion::Ok(Value::Int(0)),
            _ => Completion::Fail("refused".into()),
        }
    }
}

fn history_path(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("pf-early-stop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.jsonl"));
    let _ = std::fs::remove_file(&path);
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_halt_stops_every_client_and_the_summary_says_why() {
    let mut config = RunConfig::new(
        Workload::new(WorkloadKind::Counter, 1, 4),
        history_path("halt"),
    );
    config.ops = Some(1000);
    let target = HaltingCounter {
        calls: Arc::default(),
        halt_at: 30,
    };
    let summary = run(Arc::new(target), &config, CancellationToken::new())
        .await
        .unwrap();
    let halt = summary
        .stopped_early
        .clone()
        .expect("the run stopped early");
    assert_eq!(halt.kind, HaltKind::WorkloadMismatch);
    assert!(summary.operations < 40, "the clients stopped: {summary:?}");
    assert!(!summary.interrupted, "an early stop is not an interruption");
    let shown = summary.to_string();
    assert!(
        shown.contains(&format!(
            "stopped early after {} operations: read's result is a string",
            summary.operations
        )),
        "{shown}"
    );
    let json = serde_json::to_value(&summary).unwrap();
    assert_eq!(json["stopped_early"]["kind"], "workload-mismatch");

    // The history so far is complete: every invocation completed, the halting one as info with
    // the reason, and no final read after the stop.
    let history = read_path(&config.history, None).unwrap();
    assert_eq!(history.operations.len() as u64, summary.operations);
    assert!(history
        .operations
        .iter()
        .all(|op| op.outcome != Outcome::Pending));
    let halted: Vec<_> = history
        .operations
        .iter()
        .filter(|op| {
            op.error
                .as_ref()
                .is_some_and(|e| e.to_json_string().contains("the counter needs an integer"))
        })
        .collect();
    assert_eq!(halted.len(), 1);
    assert_eq!(halted[0].outcome, Outcome::Info);
}
