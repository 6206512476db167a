//! Stall detection during a run: every invocation and completion goes through the same
//! [`StallClock`] that [`photofinish_history::stall::detect`] replays a history through, and a
//! watcher task looks at it at least every [`WATCH_INTERVAL`], so a stall is noticed while
//! nothing at all happens. Each stall is written into the history as it is detected and as it
//! ends (`start-stall` and `stop-stall` nemesis events), and the run's summary lists them.
//!
//! With [`StallOptions::stop_after`] the run also stops once a stall has lasted that long past
//! its detection: the waiting operations are recorded as indeterminate, and the run ends
//! stalled. The race lab uses it, so that a deadlock costs a second rather than every
//! operation's timeout.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use photofinish_history::stall::{Stall, StallClock, StallRule};
use tokio_util::sync::CancellationToken;

use crate::journal::JournalHandle;
use crate::{Completion, Invocation};

/// The longest the watcher sleeps between two looks at the clock.
pub const WATCH_INTERVAL: Duration = Duration::from_millis(100);

/// When quiet counts as a stall, and what the run does about one.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StallOptions {
    pub rule: StallRule,
    /// Stop the run once a stall has lasted this long past its detection; `None` (the default)
    /// lets the run go on, its operations timing out one by one.
    pub stop_after: Option<Duration>,
}

/// The run's stall clock, shared by its workers and the watcher.
#[derive(Clone)]
pub(crate) struct StallWatch {
    inner: Arc<Inner>,
}

struct Inner {
    clock: Mutex<StallClock>,
    journal: JournalHandle,
    options: StallOptions,
    halt: CancellationToken,
}

impl StallWatch {
    /// Starts watching a run of `clients` clients that records into `journal`; `halt` stops the
    /// run when [`StallOptions::stop_after`] says so.
    pub(crate) fn start(
        journal: JournalHandle,
        clients: usize,
        options: StallOptions,
        halt: CancellationToken,
    ) -> (StallWatch, tokio::task::JoinHandle<()>) {
        let watch = StallWatch {
            inner: Arc::new(Inner {
                clock: Mutex::new(StallClock::new(options.rule, clients)),
                journal,
                options,
                halt,
            }),
        };
        let watcher = tokio::spawn(watch.clone().watch());
        (watch, watcher)
    }

    fn clock(&self) -> MutexGuard<'_, StallClock> {
        // The clock is whole after any panic: every update is one call.
        self.inner
            .clock
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Looks at the clock now; writes the stall that began, if one did.
    fn poll(&self, clock: &mut StallClock) -> i64 {
        let now = self.inner.journal.now();
        if let Some(stall) = clock.poll(now) {
            self.inner.journal.nemesis(&stall.start_event());
        }
        now
    }

    /// `process` invoked `op` (just recorded in the journal).
    pub(crate) fn invoked(&self, process: i64, op: &Invocation) {
        let mut clock = self.clock();
        let now = self.poll(&mut clock);
        clock.invoke(process, &op.f, op.key.as_ref(), now);
    }

    /// `process`'s operation ended (just recorded in the journal).
    pub(crate) fn completed(&self, process: i64, completion: &Completion) {
        let mut clock = self.clock();
        let now = self.poll(&mut clock);
        let answered = !completion.is_info();
        if let Some(ended) = clock.complete(process, answered, now) {
            self.inner.journal.nemesis(&ended.stop_event());
        }
    }

    /// The watcher: wakes at the next deadline, or after [`WATCH_INTERVAL`] at the latest.
    async fn watch(self) {
        loop {
            let wait = {
                let mut clock = self.clock();
                let now = self.poll(&mut clock);
                if let (Some(stall), Some(after)) = (clock.current(), self.inner.options.stop_after)
                {
                    if now.saturating_sub(stall.detected_ns) >= after.as_nanos() as i64 {
                        self.inner.halt.cancel();
                        return;
                    }
                }
                clock
                    .deadline()
                    .map_or(WATCH_INTERVAL, |deadline| {
                        Duration::from_nanos(deadline.saturating_sub(now).max(1) as u64)
                    })
                    .min(WATCH_INTERVAL)
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// Every stall of the run; one still on now lasts until now.
    pub(crate) fn finish(&self) -> Vec<Stall> {
        let mut clock = self.clock();
        let now = self.poll(&mut clock);
        clock.clone().finish(now)
    }
}
