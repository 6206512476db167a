//! The check's budgets of time and memory, shared by every partition's search.
//!
//! A budget is a promise to the user: `--timeout 60` answers within the minute, and
//! `--max-memory` bounds what the process holds, not what the search thinks it holds. So time
//! is read from the clock and memory from the operating system (resident memory), both often
//! enough that a search whose steps are slow or whose states are big still stops in time.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::CheckOptions;

/// How often resident memory is read. Reading it costs a few microseconds; in this interval a
/// search allocating as fast as it can adds a few MiB at most, well within the 5% the user is
/// promised.
const RESIDENT_INTERVAL: Duration = Duration::from_millis(5);

/// Why a search must stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Exceeded {
    Time,
    Memory,
}

pub(crate) struct Budget {
    started: Instant,
    deadline: Option<Instant>,
    max_resident: usize,
    /// When the next reading of resident memory is due, in nanoseconds since `started`.
    next_reading: AtomicU64,
    over_memory: AtomicBool,
}

impl Budget {
    pub(crate) fn new(started: Instant, options: &CheckOptions) -> Budget {
        Budget::until(
            started,
            options.timeout.map(|t| started + t),
            options.max_memory,
        )
    }

    fn until(started: Instant, deadline: Option<Instant>, max_resident: usize) -> Budget {
        Budget {
            started,
            deadline,
            max_resident,
            next_reading: AtomicU64::new(0),
            over_memory: AtomicBool::new(false),
        }
    }

    /// A budget for extra work after the verdict (such as shrinking a counterexample): at most
    /// `at_most` from now, and never past this budget's deadline.
    pub(crate) fn for_witness(&self, at_most: Duration) -> Budget {
        let now = Instant::now();
        let deadline = match self.deadline {
            Some(d) => d.min(now + at_most),
            None => now + at_most,
        };
        Budget::until(now, Some(deadline), self.max_resident)
    }

    /// Whether time or memory has run out. Cheap enough to call every few dozen steps.
    pub(crate) fn exceeded(&self) -> Option<Exceeded> {
        let now = Instant::now();
        if self.deadline.is_some_and(|d| now >= d) {
            return Some(Exceeded::Time);
        }
        let at = now.duration_since(self.started).as_nanos() as u64;
        let due = self.next_reading.load(Ordering::Relaxed);
        // One thread reads at a time; the others go on with the last reading.
        if at >= due
            && self
                .next_reading
                .compare_exchange(
                    due,
                    at + RESIDENT_INTERVAL.as_nanos() as u64,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                )
                .is_ok()
            && resident_bytes().is_some_and(|bytes| bytes > self.max_resident)
        {
            self.over_memory.store(true, Ordering::Relaxed);
        }
        self.over_memory
            .load(Ordering::Relaxed)
            .then_some(Exceeded::Memory)
    }
}

/// The process's resident memory, where the system tells it (Linux).
fn resident_bytes() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_passed_deadline_is_exceeded_at_once() {
        let options = CheckOptions {
            timeout: Some(Duration::ZERO),
            ..CheckOptions::default()
        };
        let budget = Budget::new(Instant::now(), &options);
        assert_eq!(budget.exceeded(), Some(Exceeded::Time));
    }

    #[test]
    fn memory_is_read_from_the_system() {
        assert!(resident_bytes().is_some_and(|b| b > 0));
        let options = CheckOptions {
            max_memory: 1,
            ..CheckOptions::default()
        };
        let budget = Budget::new(Instant::now(), &options);
        assert_eq!(budget.exceeded(), Some(Exceeded::Memory));
    }

    #[test]
    fn a_witness_budget_never_outlives_the_check() {
        let options = CheckOptions {
            timeout: Some(Duration::ZERO),
            ..CheckOptions::default()
        };
        let budget = Budget::new(Instant::now(), &options);
        let witness = budget.for_witness(Duration::from_secs(10));
        assert_eq!(witness.exceeded(), Some(Exceeded::Time));
    }
}
