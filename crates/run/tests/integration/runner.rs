//! The runner against in-process systems whose behaviour the test controls: what it records
//! must let the checker tell a racy counter from a correct one, and timeouts and interruptions
//! must leave a complete, checkable history.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use photofinish_check::models::check_model;
use photofinish_check::{CheckOptions, Verdict};
use photofinish_history::{read_path, History, Outcome, Value};
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

/// A correct implementation of every workload's object, in memory: each operation takes
/// effect atomically under one lock, between two short random delays so operations overlap.
struct MemoryObjects {
    kind: WorkloadKind,
    objects: Objects,
}

type Objects = Arc<std::sync::Mutex<HashMap<Option<Value>, Object>>>;

#[derive(Default)]
struct Object {
    value: Value,
    count: i64,
    items: Vec<Value>,
    taken: bool,
}

impl Target for MemoryObjects {
    type Client = MemoryObjectsClient;

    fn describe(&self) -> String {
        format!("memory {}", self.kind)
    }

    async fn setup(&self) -> Result<(), String> {
        Ok(())
    }

    async fn connect(&self, _worker: usize) -> Result<MemoryObjectsClient, String> {
        Ok(MemoryObjectsClient {
            kind: self.kind,
            objects: Arc::clone(&self.objects),
        })
    }
}

struct MemoryObjectsClient {
    kind: WorkloadKind,
    objects: Objects,
}

impl MemoryObjectsClient {
    fn apply(&self, op: &Invocation) -> Completion {
        use WorkloadKind::*;
        let mut objects = self.objects.lock().unwrap();
        if let (MultiRegister, "txn", Some(micros)) = (self.kind, op.f.as_str(), op.value.as_list())
        {
            // Each register is the object of its name; the transaction runs under the lock.
            let result = micros
                .iter()
                .map(|micro| match micro.as_list() {
                    Some([f, key, value]) => {
                        let register = objects.entry(Some(key.clone())).or_default();
                        if *f == Value::from("write") {
                            register.value = value.clone();
                        }
                        Value::List(vec![f.clone(), key.clone(), register.value.clone()])
                    }
                    _ => micro.clone(),
                })
                .collect();
            return Completion::Ok(Value::List(result));
        }
        let object = objects.entry(op.key.clone()).or_default();
        let done = Completion::Ok(Value::Null);
        match (self.kind, op.f.as_str()) {
            (Register | CasRegister, "read") => Completion::Ok(object.value.clone()),
            (Register | CasRegister, "write") => {
                object.value = op.value.clone();
                done
            }
            (CasRegister, "cas") => match op.value.as_list() {
                Some([expected, new]) if *expected == object.value => {
                    object.value = new.clone();
                    done
                }
                _ => Completion::Fail("value differs".into()),
            },
            (Counter, "read") => Completion::Ok(Value::Int(object.count)),
            (Counter, "add") => {
                object.count += op.value.as_i64().unwrap_or(1);
                done
            }
            (Set, "read") => {
                let mut items = object.items.clone();
                items.sort();
                Completion::Ok(Value::List(items))
            }
            (Set, "add") | (Queue, "enqueue") => {
                object.items.push(op.value.clone());
                done
            }
            (Queue, "dequeue") if object.items.is_empty() => Completion::Ok(Value::Null),
            (Queue, "dequeue") => Completion::Ok(object.items.remove(0)),
            (Mutex, "acquire") if object.taken => Completion::Fail("held".into()),
            (Mutex, "release") if !object.taken => Completion::Fail("not held".into()),
            (Mutex, "acquire" | "release") => {
                object.taken = !object.taken;
                done
            }
            (CreateOnce, "create") if object.taken => Completion::Ok(Value::from("exists")),
            (CreateOnce, "create") => {
                object.taken = true;
                Completion::Ok(Value::from("created"))
            }
            (Kv, "get") => Completion::Ok(object.value.clone()),
            (Kv, "put") => {
                object.value = op.value.clone();
                done
            }
            (Kv, "append") => {
                object.items = object
                    .value
                    .as_list()
                    .map(<[Value]>::to_vec)
                    .unwrap_or_default();
                object.items.push(op.value.clone());
                object.value = Value::List(object.items.clone());
                done
            }
            (_, other) => Completion::Fail(format!("unknown operation {other}")),
        }
    }
}

impl Client for MemoryObjectsClient {
    async fn invoke(&mut self, op: &Invocation) -> Completion {
        tokio::time::sleep(jitter()).await;
        let completion = self.apply(op);
        tokio::time::sleep(jitter()).await;
        completion
    }
}

/// Up to 300 µs, from the standard library's randomly keyed hasher.
fn jitter() -> Duration {
    use std::hash::{BuildHasher, RandomState};
    Duration::from_micros(RandomState::new().hash_one(Instant::now()) % 300)
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
            let target = MemoryObjects {
                kind,
                objects: Arc::default(),
            };
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
