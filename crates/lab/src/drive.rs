//! The lab's own driver, for the workloads photofinish's runner has no generator for: adds of
//! 0.35 to a balance, and copies of a multi-field record checked as `multi-register`
//! transactions.
//!
//! It drives the same HTTP target a user's workload file makes, one operation at a time per
//! process, and records the history the same way the runner does: the invocation is written
//! before the request leaves and the completion after the answer, so that the file's order is
//! real-time order; a request whose outcome is unknown is recorded `info` and its worker goes
//! on as a fresh process. What differs is the history's view of an operation: a record copy is
//! one `GET` to the service and one `txn` of reads to the checker.

use std::path::Path;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use photofinish_history::{Event, EventKind, HistoryWriter, Process, Value};
use photofinish_run::{Client, Completion, Invocation, Latency, Target};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::store::RECORD_FIELDS;

/// A workload the lab generates itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LabWorkload {
    /// Adds of 0.35 and reads of the balance, on each of `keys` balances; checked as `counter`.
    DecimalCounter,
    /// Writes of a measurement to every field of one record, and copies of the whole record;
    /// checked as `multi-register`.
    Snapshot,
}

/// The amount every add of [`LabWorkload::DecimalCounter`] adds.
pub const AMOUNT: f64 = 0.35;

/// What one run measured.
#[derive(Clone, Debug, Default)]
pub struct Figures {
    /// Operations recorded, including the final reads.
    pub operations: u64,
    /// Operations per second over the whole run.
    pub throughput: f64,
    pub latency: Latency,
}

impl From<&photofinish_run::Summary> for Figures {
    fn from(summary: &photofinish_run::Summary) -> Figures {
        Figures {
            operations: summary.operations,
            throughput: summary.throughput,
            latency: summary.latency.clone(),
        }
    }
}

/// How to drive a lab workload.
#[derive(Clone, Debug)]
pub struct Drive {
    pub workload: LabWorkload,
    pub keys: usize,
    pub clients: usize,
    /// Operations, not counting the final reads.
    pub ops: u64,
    pub seed: u64,
    /// An operation unanswered after this long is recorded `info`.
    pub op_timeout: Duration,
    /// The history's first line: what it was recorded with, so that `photofinish check FILE`
    /// knows its model.
    pub header: photofinish_history::RecordedWith,
}

/// One operation: as the history records it, and as the service is asked.
struct Planned {
    recorded: Invocation,
    request: Invocation,
}

impl LabWorkload {
    /// The checker model that judges the history.
    pub fn model(self) -> &'static str {
        match self {
            LabWorkload::DecimalCounter => "counter",
            LabWorkload::Snapshot => "multi-register",
        }
    }

    /// The `n`-th operation of `worker`, one of `clients`.
    fn plan(self, rng: &mut StdRng, keys: usize, clients: usize, worker: usize, n: u64) -> Planned {
        match self {
            LabWorkload::DecimalCounter => {
                let key = (keys > 1).then(|| Value::Int(rng.random_range(0..keys) as i64));
                let op = if rng.random_bool(0.25) {
                    Invocation::new("read", key, Value::Null)
                } else {
                    Invocation::new("add", key, Value::Float(photofinish_history::Float(AMOUNT)))
                };
                Planned {
                    recorded: op.clone(),
                    request: op,
                }
            }
            LabWorkload::Snapshot => {
                // One writer, as in the post-mortem (a node's agent), and readers: writers
                // that overlap each other only make the checker's search longer (their order
                // is what it must find), while one writer keeps it short, and the torn copies
                // show as well.
                if worker == 0 {
                    // Unique across the run: this worker's n-th measurement.
                    let measurement = (n * clients as u64 + worker as u64 + 1) as i64;
                    Planned {
                        recorded: txn("w", Value::Int(measurement)),
                        request: Invocation::new("write", None, Value::Int(measurement)),
                    }
                } else {
                    Planned {
                        recorded: txn("r", Value::Null),
                        request: Invocation::new("read", None, Value::Null),
                    }
                }
            }
        }
    }

    /// The final operations, after the workers stop: a read of every balance, so that lost
    /// adds no read in the middle happened to see show up.
    fn final_ops(self, keys: usize) -> Vec<Planned> {
        match self {
            LabWorkload::DecimalCounter => (0..keys)
                .map(|k| {
                    let key = (keys > 1).then_some(Value::Int(k as i64));
                    let op = Invocation::new("read", key, Value::Null);
                    Planned {
                        recorded: op.clone(),
                        request: op,
                    }
                })
                .collect(),
            LabWorkload::Snapshot => Vec::new(),
        }
    }

    /// What the history records for the service's answer to `planned`.
    fn recorded(self, planned: &Planned, completion: Completion) -> Completion {
        match (self, completion) {
            (LabWorkload::Snapshot, Completion::Ok(answer)) if planned.request.f == "read" => {
                match read_txn(&answer) {
                    Some(txn) => Completion::Ok(txn),
                    None => Completion::Info(format!("the record is not a record: {answer}")),
                }
            }
            (_, completion) => completion,
        }
    }
}

/// A `txn` of one micro-operation per record field, each `[f, field, value]`.
fn txn(f: &str, value: Value) -> Invocation {
    let micros = RECORD_FIELDS
        .iter()
        .map(|field| {
            Value::List(vec![
                Value::Str(f.to_string()),
                Value::Str(field.to_string()),
                value.clone(),
            ])
        })
        .collect();
    Invocation::new("txn", None, Value::List(micros))
}

/// The reads a copy of the record saw, from the service's `{"utilisation": .., "samples": ..}`.
fn read_txn(answer: &Value) -> Option<Value> {
    let Value::Map(record) = answer else {
        return None;
    };
    let micros = RECORD_FIELDS
        .iter()
        .map(|field| {
            let value = record.get(&Value::Str(field.to_string()))?;
            Some(Value::List(vec![
                Value::Str("r".to_string()),
                Value::Str(field.to_string()),
                value.clone(),
            ]))
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Value::List(micros))
}

/// The history file, shared by the workers; every event reaches the operating system before
/// the operation goes on.
struct Recording {
    writer: Mutex<Option<HistoryWriter>>,
    started: Instant,
    failed: Mutex<Option<String>>,
}

impl Recording {
    fn write(&self, mut event: Event) {
        event.time = Some(self.started.elapsed().as_nanos() as i64);
        let mut writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(out) = writer.as_mut() {
            if let Err(e) = out.write(&event) {
                *self.failed.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.to_string());
                *writer = None;
            }
        }
    }

    fn failed(&self) -> bool {
        self.failed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
    }
}

/// State the workers share.
struct Shared {
    recording: Recording,
    remaining: AtomicU64,
    next_process: AtomicI64,
    operations: AtomicU64,
    op_timeout: Duration,
}

/// Drives `drive` against `target`, recording the history into `history` (created or
/// emptied), and returns what it measured.
pub async fn drive<T: Target>(
    target: Arc<T>,
    drive: &Drive,
    history: &Path,
) -> Result<Figures, String> {
    target.setup().await?;
    let mut writer = HistoryWriter::create(history)
        .map_err(|e| format!("cannot write the history to {}: {e}", history.display()))?;
    writer
        .write_header(&drive.header)
        .map_err(|e| format!("cannot write the history to {}: {e}", history.display()))?;
    let started = Instant::now();
    let shared = Arc::new(Shared {
        recording: Recording {
            writer: Mutex::new(Some(writer)),
            started,
            failed: Mutex::new(None),
        },
        remaining: AtomicU64::new(drive.ops),
        next_process: AtomicI64::new(drive.clients as i64),
        operations: AtomicU64::new(0),
        op_timeout: drive.op_timeout,
    });
    let workers: Vec<_> = (0..drive.clients)
        .map(|worker| {
            let target = Arc::clone(&target);
            let shared = Arc::clone(&shared);
            let drive = drive.clone();
            tokio::spawn(async move { work(&*target, &shared, &drive, worker).await })
        })
        .collect();
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(
            worker
                .await
                .map_err(|e| format!("a worker stopped: {e}"))??,
        );
    }
    let finals = drive.workload.final_ops(drive.keys);
    if !finals.is_empty() {
        let process = shared.next_process.fetch_add(1, Ordering::Relaxed);
        let mut client = target.connect(drive.clients).await?;
        for planned in finals {
            let (latency, _) = perform(&shared, &mut client, process, drive, &planned).await;
            latencies.push(latency);
        }
    }
    let elapsed = started.elapsed();
    let mut writer = shared
        .recording
        .writer
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take();
    if let Some(error) = shared
        .recording
        .failed
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take()
    {
        return Err(format!(
            "cannot write the history to {}: {error}",
            history.display()
        ));
    }
    if let Some(writer) = writer.as_mut() {
        writer
            .flush()
            .map_err(|e| format!("cannot write the history to {}: {e}", history.display()))?;
    }
    let operations = shared.operations.load(Ordering::Relaxed);
    Ok(Figures {
        operations,
        throughput: operations as f64 / elapsed.as_secs_f64().max(1e-9),
        latency: Latency::of(&mut latencies),
    })
}

/// One worker: its own generator and connection, one operation at a time until the budget is
/// spent. Returns its operations' latencies in nanoseconds.
async fn work<T: Target>(
    target: &T,
    shared: &Shared,
    drive: &Drive,
    worker: usize,
) -> Result<Vec<u64>, String> {
    let mut rng =
        StdRng::seed_from_u64(drive.seed ^ (worker as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut client = target.connect(worker).await?;
    let mut process = worker as i64;
    let mut latencies = Vec::new();
    let mut n = 0;
    while !shared.recording.failed()
        && shared
            .remaining
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |r| r.checked_sub(1))
            .is_ok()
    {
        let planned = drive
            .workload
            .plan(&mut rng, drive.keys, drive.clients, worker, n);
        n += 1;
        let (latency, indeterminate) = perform(shared, &mut client, process, drive, &planned).await;
        latencies.push(latency);
        if indeterminate {
            // Its request may still act on the service: whatever comes next is someone else's.
            process = shared.next_process.fetch_add(1, Ordering::Relaxed);
            client = target.connect(worker).await?;
        }
    }
    Ok(latencies)
}

/// Performs and records one operation; its latency, and whether it ended indeterminately.
async fn perform<C: Client>(
    shared: &Shared,
    client: &mut C,
    process: i64,
    drive: &Drive,
    planned: &Planned,
) -> (u64, bool) {
    let op = &planned.recorded;
    let event = |kind, value: Value| {
        let mut event = Event::new(kind, Process::Client(process), op.f.clone(), value);
        event.key = op.key.clone();
        event
    };
    shared
        .recording
        .write(event(EventKind::Invoke, op.value.clone()));
    let started = Instant::now();
    let answer = tokio::time::timeout(shared.op_timeout, client.invoke(&planned.request))
        .await
        .unwrap_or_else(|_| Completion::Info("timed out".to_string()));
    let latency = started.elapsed().as_nanos() as u64;
    let completion = drive.workload.recorded(planned, answer);
    let indeterminate = completion.is_info();
    let completed = match completion {
        Completion::Ok(Value::Null) => event(EventKind::Ok, op.value.clone()),
        Completion::Ok(result) => event(EventKind::Ok, result),
        Completion::Fail(error) => {
            let mut e = event(EventKind::Fail, op.value.clone());
            e.error = Some(Value::Str(error));
            e
        }
        Completion::Info(error) | Completion::Halt(photofinish_run::Halt { reason: error, .. }) => {
            let mut e = event(EventKind::Info, op.value.clone());
            e.error = Some(Value::Str(error));
            e
        }
    };
    shared.recording.write(completed);
    shared.operations.fetch_add(1, Ordering::Relaxed);
    (latency, indeterminate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_copy_becomes_a_txn_of_reads() {
        let answer = Value::from_json_str(r#"{"utilisation": 3, "samples": null}"#).unwrap();
        assert_eq!(
            read_txn(&answer).unwrap().to_json_string(),
            r#"[["r","utilisation",3],["r","samples",null]]"#
        );
        assert_eq!(read_txn(&Value::Int(3)), None);
        assert_eq!(
            txn("w", Value::Int(7)).value.to_json_string(),
            r#"[["w","utilisation",7],["w","samples",7]]"#
        );
    }

    #[test]
    fn a_seed_reproduces_the_operations() {
        let plans = |seed| {
            let mut rng = StdRng::seed_from_u64(seed);
            (0..20)
                .map(|n| {
                    LabWorkload::DecimalCounter
                        .plan(&mut rng, 3, 4, 1, n)
                        .recorded
                        .value
                        .to_json_string()
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(plans(3), plans(3));
        assert_ne!(plans(3), plans(4));
    }
}
