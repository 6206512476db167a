//! A system under test inside the process: every linearizable workload's object held in
//! memory, either correct (each operation takes effect at once, under one lock) or racy on
//! purpose, each workload with its classic race. It needs no server, so it shows what the
//! runner records and what the checker makes of a race and of its fix in a second, and it
//! gives the checker's benchmarks histories shaped exactly as real runs shape them.
//!
//! The racy variant takes the lock once to look and once more to act, yielding to the other
//! clients in between, so the races happen at every chance rather than by luck:
//!
//! | workload | racy variant |
//! |---|---|
//! | `register` | every other read served from a client-side cache nothing invalidates: stale reads |
//! | `cas-register` | `cas` compares, then sets: two clients expecting the same value both succeed |
//! | `counter` | `add` reads, then writes what it read plus n: lost increments |
//! | `set` | `add` finds where the set ends, then writes its element there: lost elements |
//! | `queue` | `dequeue` looks at the front, then removes it: one element to two clients, one lost |
//! | `mutex` | `acquire` checks the lock is free, then takes it: two holders |
//! | `create-once` | `create` checks the key is absent, then creates it: two `created` |
//! | `kv` | `append` reads the list, then writes it one longer: lost appends |
//! | `multi-register` | each micro-operation of a transaction on its own: transactions interleave |
//!
//! ```
//! use photofinish_check::{check_model, CheckOptions, Verdict};
//! use photofinish_history::read_path;
//! use photofinish_run::targets::memory::{MemoryTarget, MemoryVariant};
//! use photofinish_run::{run_blocking, RunConfig, Workload, WorkloadKind};
//!
//! let dir = std::env::temp_dir().join(format!("pf-memory-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! for (variant, verdict) in [(MemoryVariant::Atomic, Verdict::Valid), (MemoryVariant::Racy, Verdict::Invalid)] {
//!     let history = dir.join(format!("{variant}.jsonl"));
//!     let _ = std::fs::remove_file(&history);
//!     let mut config = RunConfig::new(Workload::new(WorkloadKind::Counter, 1, 8), &history);
//!     config.ops = Some(500);
//!     let target = MemoryTarget::new(WorkloadKind::Counter, variant).unwrap();
//!     run_blocking(target, &config).unwrap();
//!     let history = read_path(&history, None).unwrap();
//!     let report = check_model("counter", None, None, &history, &CheckOptions::default()).unwrap();
//!     assert_eq!(report.verdict, verdict);
//! }
//! ```

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use photofinish_history::Value;
use rand::Rng;

use crate::{Client, Completion, Invocation, Target, WorkloadKind};

/// Which implementation of the workload's object the target runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MemoryVariant {
    /// Each operation takes effect at once, under one lock: linearizable.
    Atomic,
    /// Each workload's classic race (see the [module](self) documentation).
    Racy,
}

impl fmt::Display for MemoryVariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MemoryVariant::Atomic => "atomic",
            MemoryVariant::Racy => "racy",
        })
    }
}

/// Every object of a run, by key (`None` for a workload of one key; each register of a
/// multi-register transaction by its name).
type Objects = Arc<Mutex<HashMap<Option<Value>, Object>>>;

/// One object: the fields its workload uses.
#[derive(Default)]
struct Object {
    /// A register's value, or a kv key's list.
    value: Value,
    count: i64,
    /// A set's elements, or a queue's, front first.
    items: Vec<Value>,
    /// A mutex held, or a create-once key created.
    taken: bool,
}

/// The in-memory system under test: see the [module](self) documentation.
pub struct MemoryTarget {
    kind: WorkloadKind,
    variant: MemoryVariant,
    jitter: Duration,
    objects: Objects,
}

impl MemoryTarget {
    /// The object of workload `kind`, implemented as `variant`. The transactional workloads
    /// (list-append, rw-register, bank), which photofinish checks for anomalies rather than
    /// linearizability, are refused.
    pub fn new(kind: WorkloadKind, variant: MemoryVariant) -> Result<MemoryTarget, String> {
        if kind.transactional() {
            return Err(format!(
                "the memory target runs the linearizable workloads; {kind} is transactional"
            ));
        }
        Ok(MemoryTarget {
            kind,
            variant,
            jitter: Duration::ZERO,
            objects: Arc::default(),
        })
    }

    /// Before and after each operation, waits a random time up to `jitter`, so that
    /// operations overlap as they do over a network. With none (the default) each operation
    /// only yields to the other clients before and after: the run goes as fast as the runner.
    pub fn with_jitter(mut self, jitter: Duration) -> MemoryTarget {
        self.jitter = jitter;
        self
    }
}

impl Target for MemoryTarget {
    type Client = MemoryClient;

    fn describe(&self) -> String {
        format!("memory {} ({})", self.kind, self.variant)
    }

    async fn setup(&self) -> Result<(), String> {
        lock(&self.objects).clear();
        Ok(())
    }

    async fn connect(&self, _worker: usize) -> Result<MemoryClient, String> {
        Ok(MemoryClient {
            kind: self.kind,
            variant: self.variant,
            jitter: self.jitter,
            objects: Arc::clone(&self.objects),
            cache: HashMap::new(),
            reads: 0,
        })
    }
}

/// The lock over every object. A client that panicked while holding it left nothing half
/// done that the others could not see (each step is one assignment), so a poisoned lock is
/// taken as it is.
fn lock(objects: &Objects) -> MutexGuard<'_, HashMap<Option<Value>, Object>> {
    objects
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// One client of a [`MemoryTarget`].
pub struct MemoryClient {
    kind: WorkloadKind,
    variant: MemoryVariant,
    jitter: Duration,
    objects: Objects,
    /// The racy register's cache: the value this client last wrote or read, by key.
    cache: HashMap<Option<Value>, Value>,
    /// Reads this client made, for the racy register's every other read.
    reads: u64,
}

impl Client for MemoryClient {
    async fn invoke(&mut self, op: &Invocation) -> Completion {
        self.pause().await;
        let completion = match self.variant {
            MemoryVariant::Atomic => apply(self.kind, &mut lock(&self.objects), op),
            MemoryVariant::Racy => self.racy(op).await,
        };
        self.pause().await;
        completion
    }
}

impl MemoryClient {
    async fn pause(&self) {
        if self.jitter.is_zero() {
            tokio::task::yield_now().await;
        } else {
            let micros = rand::rng().random_range(0..=self.jitter.as_micros() as u64);
            tokio::time::sleep(Duration::from_micros(micros)).await;
        }
    }

    /// `op` with the workload's race: look, yield, act on what was seen.
    async fn racy(&mut self, op: &Invocation) -> Completion {
        use WorkloadKind::*;
        let key = &op.key;
        let done = Completion::Ok(Value::Null);
        match (self.kind, op.f.as_str()) {
            (Register, "read") => {
                self.reads += 1;
                if let Some(cached) = self.cache.get(key).filter(|_| self.reads.is_multiple_of(2)) {
                    return Completion::Ok(cached.clone());
                }
                let value = self.with(key, |o| o.value.clone());
                self.cache.insert(key.clone(), value.clone());
                Completion::Ok(value)
            }
            (Register, "write") => {
                self.with(key, |o| o.value = op.value.clone());
                self.cache.insert(key.clone(), op.value.clone());
                done
            }
            (CasRegister, "cas") => {
                let Some((expected, new)) = op.value.as_pair() else {
                    return Completion::Fail(format!(
                        "cas expects [expected, new], not {}",
                        op.value
                    ));
                };
                let (expected, new) = (expected.as_ref(), new.as_ref());
                if self.with(key, |o| o.value != *expected) {
                    return Completion::Fail("value differs".into());
                }
                tokio::task::yield_now().await;
                self.with(key, |o| o.value = new.clone());
                done
            }
            (Counter, "add") => {
                let seen = self.with(key, |o| o.count);
                tokio::task::yield_now().await;
                let n = op.value.as_i64().unwrap_or(1);
                self.with(key, |o| o.count = seen + n);
                done
            }
            (Set, "add") => {
                let end = self.with(key, |o| o.items.len());
                tokio::task::yield_now().await;
                self.with(key, |o| match o.items.get_mut(end) {
                    Some(slot) => *slot = op.value.clone(),
                    None => o.items.push(op.value.clone()),
                });
                done
            }
            (Queue, "dequeue") => {
                let Some(front) = self.with(key, |o| o.items.first().cloned()) else {
                    return Completion::Ok(Value::Null);
                };
                tokio::task::yield_now().await;
                self.with(key, |o| {
                    if !o.items.is_empty() {
                        o.items.remove(0);
                    }
                });
                Completion::Ok(front)
            }
            (Mutex, "acquire") => {
                if self.with(key, |o| o.taken) {
                    return Completion::Fail("held".into());
                }
                tokio::task::yield_now().await;
                self.with(key, |o| o.taken = true);
                done
            }
            (CreateOnce, "create") => {
                if self.with(key, |o| o.taken) {
                    return Completion::Ok(Value::from("exists"));
                }
                tokio::task::yield_now().await;
                self.with(key, |o| o.taken = true);
                Completion::Ok(Value::from("created"))
            }
            (Kv, "append") => {
                let mut items =
                    self.with(key, |o| o.value.as_list().map(std::borrow::Cow::into_owned));
                tokio::task::yield_now().await;
                let items = items.get_or_insert_with(Vec::new);
                items.push(op.value.clone());
                let list = Value::List(std::mem::take(items));
                self.with(key, |o| o.value = list);
                done
            }
            (MultiRegister, "txn") => {
                let Some(micros) = op.value.as_list() else {
                    return Completion::Fail(format!("txn expects a list, not {}", op.value));
                };
                let mut results = Vec::with_capacity(micros.len());
                for micro in micros.iter() {
                    let one = Invocation::new("txn", None, Value::List(vec![micro.clone()]));
                    match apply(self.kind, &mut lock(&self.objects), &one) {
                        Completion::Ok(Value::List(mut result)) if result.len() == 1 => {
                            results.push(result.remove(0));
                        }
                        other => return other,
                    }
                    tokio::task::yield_now().await;
                }
                Completion::Ok(Value::List(results))
            }
            _ => apply(self.kind, &mut lock(&self.objects), op),
        }
    }

    /// Runs `f` on the object of `key` under the lock, for one step of a racy operation.
    fn with<T>(&self, key: &Option<Value>, f: impl FnOnce(&mut Object) -> T) -> T {
        f(lock(&self.objects).entry(key.clone()).or_default())
    }
}

/// Performs `op` on `objects` at once: the correct implementation.
fn apply(
    kind: WorkloadKind,
    objects: &mut HashMap<Option<Value>, Object>,
    op: &Invocation,
) -> Completion {
    use WorkloadKind::*;
    if let (MultiRegister, "txn") = (kind, op.f.as_str()) {
        let Some(micros) = op.value.as_list() else {
            return Completion::Fail(format!("txn expects a list, not {}", op.value));
        };
        // Each register is the object of its name.
        let result = micros
            .iter()
            .map(|micro| match micro.as_list().as_deref() {
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
    match (kind, op.f.as_str()) {
        (Register | CasRegister, "read") => Completion::Ok(object.value.clone()),
        (Register | CasRegister, "write") => {
            object.value = op.value.clone();
            done
        }
        (CasRegister, "cas") => match op.value.as_list().as_deref() {
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
            let mut items = object
                .value
                .as_list()
                .map(std::borrow::Cow::into_owned)
                .unwrap_or_default();
            items.push(op.value.clone());
            object.value = Value::List(items);
            done
        }
        (_, other) => Completion::Fail(format!("unknown operation {other}")),
    }
}
