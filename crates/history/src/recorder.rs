//! Recording a history in-process, from threads or async tasks of a Rust test.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use crate::{Event, EventKind, History, Process, ReadError, Value};

const SHARDS: usize = 16;

/// Collects invocations and completions from many threads.
///
/// Real-time order comes from one atomic counter: an invocation takes its number before the
/// operation starts and a completion after it ends, so whenever one operation finished before
/// another began, the history says so. Concurrent operations may look a little more concurrent
/// than they were, which can hide an anomaly but never invent one. Events go to one of several
/// mutex-guarded buffers chosen by process, so threads rarely contend.
///
/// ```
/// use photofinish_history::{Recorder, Value};
///
/// let recorder = Recorder::new();
/// std::thread::scope(|s| {
///     for process in 0..4 {
///         let recorder = &recorder;
///         s.spawn(move || {
///             let op = recorder.invoke(process, "add", 1);
///             op.ok(1);
///         });
///     }
/// });
/// let history = recorder.history().unwrap();
/// assert_eq!(history.operations.len(), 4);
/// ```
pub struct Recorder {
    clock: AtomicU64,
    started: Instant,
    shards: Vec<Mutex<Vec<(u64, Event)>>>,
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder::new()
    }
}

impl Recorder {
    pub fn new() -> Recorder {
        Recorder {
            clock: AtomicU64::new(0),
            started: Instant::now(),
            shards: (0..SHARDS).map(|_| Mutex::new(Vec::new())).collect(),
        }
    }

    /// Records that `process` starts operation `f` with argument `value`. Complete it with the
    /// returned handle; a handle dropped without completion leaves the operation indeterminate,
    /// as a crashed client would.
    pub fn invoke(&self, process: i64, f: &str, value: impl Into<Value>) -> OpHandle<'_> {
        let event = Event::new(EventKind::Invoke, Process::Client(process), f, value.into());
        self.log(event);
        OpHandle {
            recorder: self,
            process,
            f: f.to_string(),
            key: None,
        }
    }

    /// Like [`Recorder::invoke`], for an operation on one key of a keyed model.
    pub fn invoke_key(
        &self,
        process: i64,
        f: &str,
        key: impl Into<Value>,
        value: impl Into<Value>,
    ) -> OpHandle<'_> {
        let key = key.into();
        let event = Event::new(EventKind::Invoke, Process::Client(process), f, value.into())
            .with_key(key.clone());
        self.log(event);
        OpHandle {
            recorder: self,
            process,
            f: f.to_string(),
            key: Some(key),
        }
    }

    fn log(&self, mut event: Event) {
        let seq = self.clock.fetch_add(1, Ordering::SeqCst);
        event.time = Some(self.started.elapsed().as_nanos() as i64);
        let shard = match event.process {
            Process::Client(p) => p.rem_euclid(SHARDS as i64) as usize,
            Process::Nemesis => 0,
        };
        self.shards[shard]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push((seq, event));
    }

    /// All events so far, in real-time order.
    pub fn events(&self) -> Vec<Event> {
        let mut all: Vec<(u64, Event)> = Vec::new();
        for shard in &self.shards {
            all.extend(
                shard
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .iter()
                    .cloned(),
            );
        }
        all.sort_unstable_by_key(|(seq, _)| *seq);
        all.into_iter().map(|(_, e)| e).collect()
    }

    /// The history so far. Fails only if the caller broke the protocol, e.g. one process
    /// invoking twice without completing.
    pub fn history(&self) -> Result<History, ReadError> {
        History::from_events(self.events())
    }
}

/// An operation in flight; completing it consumes it.
pub struct OpHandle<'a> {
    recorder: &'a Recorder,
    process: i64,
    f: String,
    key: Option<Value>,
}

impl OpHandle<'_> {
    /// The operation took effect and returned `value`.
    pub fn ok(self, value: impl Into<Value>) {
        self.complete(EventKind::Ok, value.into());
    }

    /// The operation certainly did not take effect.
    pub fn fail(self, value: impl Into<Value>) {
        self.complete(EventKind::Fail, value.into());
    }

    /// Nobody knows whether the operation took effect.
    pub fn info(self, value: impl Into<Value>) {
        self.complete(EventKind::Info, value.into());
    }

    fn complete(self, kind: EventKind, value: Value) {
        let mut event = Event::new(kind, Process::Client(self.process), self.f, value);
        event.key = self.key;
        self.recorder.log(event);
    }
}
