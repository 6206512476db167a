//! The history file as the run writes it: every event is handed to the operating system in
//! the order it happened, in batches (group commit), and an operation counts as done only once
//! its completion is written.
//!
//! Order matters more than speed here. Clients append under one lock, so the file's order is a
//! real-time order: if a client saw a response after another client sent a request, the
//! request's invoke line comes first. Events are serialized outside the lock; only the time,
//! written last, is taken inside it, so times never go backwards down the file.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use photofinish_history::{Event, EventKind, Process, RecordedWith, Value};
use tokio::sync::Notify;

use crate::{Completion, Invocation};

/// Where the run's events go.
pub struct Journal {
    shared: Arc<Shared>,
    writer: JoinHandle<io::Result<()>>,
}

/// A clonable handle that clients append through.
#[derive(Clone)]
pub struct JournalHandle {
    shared: Arc<Shared>,
}

struct Shared {
    pending: Mutex<Pending>,
    work: Condvar,
    /// Sequence number of the last event handed to the operating system.
    written: AtomicU64,
    written_changed: Notify,
    failed: AtomicBool,
    start: Instant,
}

struct Pending {
    buf: Vec<u8>,
    seq: u64,
    closed: bool,
    /// The writer sleeps on the condition variable. Waking it only then saves a system call
    /// per event while it is busy writing: it looks at the buffer again before it sleeps.
    parked: bool,
}

impl Journal {
    /// Opens `path` for appending (a run never overwrites an earlier history). With `sync`, every
    /// batch is also forced to disk, which survives a crash of the machine, not only of the
    /// process. A file that is still empty gets `header` as its first line, so that the history
    /// says what it was recorded with (readers accept a header only there).
    pub fn open(path: &Path, sync: bool, header: &RecordedWith) -> io::Result<Journal> {
        let mut file = OpenOptions::new().create(true).append(true).open(path)?;
        if file.metadata()?.len() == 0 {
            let mut line = serde_json::to_vec(header).map_err(io::Error::other)?;
            line.push(b'\n');
            file.write_all(&line)?;
        }
        let shared = Arc::new(Shared {
            pending: Mutex::new(Pending {
                buf: Vec::with_capacity(1 << 16),
                seq: 0,
                closed: false,
                parked: false,
            }),
            work: Condvar::new(),
            written: AtomicU64::new(0),
            written_changed: Notify::new(),
            failed: AtomicBool::new(false),
            start: Instant::now(),
        });
        let writer_shared = Arc::clone(&shared);
        let writer = std::thread::Builder::new()
            .name("photofinish-journal".into())
            .spawn(move || write_loop(&writer_shared, file, sync))?;
        Ok(Journal { shared, writer })
    }

    pub fn handle(&self) -> JournalHandle {
        JournalHandle {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Writes what is left and closes the file, reporting the first write error.
    pub fn close(self) -> io::Result<()> {
        lock(&self.shared.pending).closed = true;
        self.shared.work.notify_one();
        self.writer
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the history writer panicked")))
    }
}

fn lock(pending: &Mutex<Pending>) -> std::sync::MutexGuard<'_, Pending> {
    // A client that panicked mid-append cannot leave a half-written line: appends are single
    // `extend_from_slice` calls. So a poisoned lock still guards a consistent buffer.
    pending
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn write_loop(shared: &Shared, mut file: File, sync: bool) -> io::Result<()> {
    let mut spare = Vec::with_capacity(1 << 16);
    loop {
        let (seq, closed) = {
            let mut pending = lock(&shared.pending);
            while pending.buf.is_empty() && !pending.closed {
                pending.parked = true;
                pending = shared
                    .work
                    .wait(pending)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                pending.parked = false;
            }
            std::mem::swap(&mut pending.buf, &mut spare);
            (pending.seq, pending.closed)
        };
        if !spare.is_empty() {
            let written =
                file.write_all(&spare)
                    .and_then(|()| if sync { file.sync_data() } else { Ok(()) });
            if let Err(error) = written {
                shared.failed.store(true, Ordering::SeqCst);
                shared.written_changed.notify_waiters();
                return Err(error);
            }
            spare.clear();
        }
        shared.written.store(seq, Ordering::Release);
        shared.written_changed.notify_waiters();
        if closed {
            // Pipes and character devices (a history sent to /dev/null) cannot be synced, and
            // need not be.
            let regular = file.metadata().is_ok_and(|m| m.is_file());
            return if regular { file.sync_data() } else { Ok(()) };
        }
    }
}

impl JournalHandle {
    /// Records the invocation of `op` by `process`; returns its sequence number.
    pub fn invoke(&self, process: i64, op: &Invocation) -> u64 {
        let mut event = Event::new(
            EventKind::Invoke,
            Process::Client(process),
            op.f.clone(),
            op.value.clone(),
        );
        event.key = op.key.clone();
        self.append(&event)
    }

    /// Records how `op` ended; returns its sequence number.
    pub fn complete(&self, process: i64, op: &Invocation, completion: &Completion) -> u64 {
        let (kind, value, error) = match completion {
            // An operation that returns nothing echoes its argument, as Jepsen's histories do.
            Completion::Ok(Value::Null) => (EventKind::Ok, op.value.clone(), None),
            Completion::Ok(result) => (EventKind::Ok, result.clone(), None),
            Completion::Fail(error) => (EventKind::Fail, op.value.clone(), Some(error)),
            Completion::Info(error) => (EventKind::Info, op.value.clone(), Some(error)),
            Completion::Halt(halt) => (EventKind::Info, op.value.clone(), Some(&halt.reason)),
        };
        let mut event = Event::new(kind, Process::Client(process), op.f.clone(), value);
        event.key = op.key.clone();
        event.error = error.map(|e| Value::Str(e.clone()));
        self.append(&event)
    }

    /// Records an event of the nemesis (`"process":"nemesis"`, such as a `start-partition`);
    /// returns its sequence number. Its time is taken under the same lock as the clients', so
    /// the file says which operations overlap a fault.
    pub fn nemesis(&self, event: &Event) -> u64 {
        self.append(event)
    }

    fn append(&self, event: &Event) -> u64 {
        let mut line = serde_json::to_vec(event).expect("events always serialize");
        // Reopen the object to add the time, which must be taken under the lock.
        line.pop();
        let mut pending = lock(&self.shared.pending);
        let nanos = self.shared.start.elapsed().as_nanos() as i64;
        line.extend_from_slice(b",\"time\":");
        line.extend_from_slice(nanos.to_string().as_bytes());
        line.extend_from_slice(b"}\n");
        pending.buf.extend_from_slice(&line);
        pending.seq += 1;
        let seq = pending.seq;
        let wake = pending.parked;
        drop(pending);
        if wake {
            self.shared.work.notify_one();
        }
        seq
    }

    /// Waits until the event numbered `seq` has been handed to the operating system. Returns
    /// false if writing failed: the run must stop, since nothing more can be recorded.
    pub async fn written(&self, seq: u64) -> bool {
        loop {
            let changed = self.shared.written_changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if self.shared.failed.load(Ordering::SeqCst) {
                return false;
            }
            if self.shared.written.load(Ordering::Acquire) >= seq {
                return true;
            }
            changed.await;
        }
    }

    /// Now, on the clock of the events' `time`: nanoseconds since the journal was opened.
    pub fn now(&self) -> i64 {
        self.shared.start.elapsed().as_nanos() as i64
    }

    pub fn failed(&self) -> bool {
        self.shared.failed.load(Ordering::SeqCst)
    }
}
