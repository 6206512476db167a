//! Stopping a run before its budget is spent, for two reasons:
//!
//! - a client answered [`Completion::Halt`]: the answer shows the run cannot go on;
//! - the target is unusable from the start: among the first [`WINDOW`] operations (failed
//!   connects included), at least [`UNUSABLE`] timed out, did not start, could not connect
//!   or got no usable answer. Such a run would record only indeterminate operations, which no check can fault,
//!   and a long run of them tells nothing the first twenty did not.
//!
//! The rule is about the start of a run only: with a nemesis, operations invoked once its
//! first fault may have begun are not counted (a killed server refuses connections, as it
//! should). The first reason given is the one the summary reports.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::{Completion, Halt, HaltKind, CANNOT_CONNECT};

/// How many operations, from the start of the run, the unusable-target rule looks at.
pub(crate) const WINDOW: u32 = 20;
/// How many of them must have been unusable to stop the run.
pub(crate) const UNUSABLE: u32 = 14;
/// The error the runner records for an operation that overran the operation timeout.
pub(crate) const TIMED_OUT: &str = "timed out";
/// How the error the runner records for an operation whose client did not finish starting
/// within the start timeout begins; the timeout follows.
pub(crate) const NOT_STARTED: &str = "not started within";
/// The most characters of a target's error quoted in the reason.
const QUOTED_CHARS: usize = 200;

/// The run's early stop: the first [`Halt`] wins and cancels the clients' token.
pub(crate) struct EarlyStop {
    halted: Mutex<Option<Halt>>,
    clients: CancellationToken,
    start: Mutex<StartWindow>,
    /// Operations invoked from then on are not counted (a nemesis's first fault).
    window_ends: Option<Instant>,
    op_timeout: Duration,
    start_timeout: Duration,
    /// `the program` (exec) or `the system`: what to check.
    subject: &'static str,
}

/// How one operation, or one attempt to connect, ended, as the unusable-target rule sees it.
pub(crate) enum Attempt {
    Usable,
    TimedOut,
    NotStarted,
    CannotConnect(String),
    NoAnswer(String),
}

impl Attempt {
    /// How `completion` counts: `info` is unusable (timed out, or no usable answer), `fail`
    /// only when no connection could be made.
    pub(crate) fn of(completion: &Completion) -> Attempt {
        match completion {
            Completion::Info(error) if error == TIMED_OUT => Attempt::TimedOut,
            Completion::Info(error) if error.starts_with(NOT_STARTED) => Attempt::NotStarted,
            Completion::Info(error) => Attempt::NoAnswer(error.clone()),
            Completion::Fail(error) if completion.is_connect_failure() => {
                Attempt::CannotConnect(error[CANNOT_CONNECT.len()..].to_string())
            }
            Completion::Ok(_) | Completion::Fail(_) | Completion::Halt(_) => Attempt::Usable,
        }
    }
}

/// What the first operations of the run did.
#[derive(Default)]
struct StartWindow {
    seen: u32,
    timed_out: u32,
    not_started: u32,
    cannot_connect: BTreeMap<String, u32>,
    no_answer: BTreeMap<String, u32>,
    closed: bool,
}

impl StartWindow {
    fn unusable(&self) -> u32 {
        self.timed_out
            + self.not_started
            + self.cannot_connect.values().sum::<u32>()
            + self.no_answer.values().sum::<u32>()
    }

    /// Why the target cannot be used, for a person: the most frequent problem first, its
    /// most frequent message, and what to do.
    fn reason(&self, op_timeout: Duration, start_timeout: Duration, subject: &str) -> String {
        let connects: u32 = self.cannot_connect.values().sum();
        let answers: u32 = self.no_answer.values().sum();
        let seen = self.seen;
        let most = self
            .timed_out
            .max(self.not_started)
            .max(connects)
            .max(answers);
        let (count, what, advice) = if self.timed_out == most {
            (
                self.timed_out,
                "timed out".to_string(),
                format!(
                    "raise --op-timeout (now {} s) or check {subject}",
                    op_timeout.as_secs_f64()
                ),
            )
        } else if self.not_started == most {
            (
                self.not_started,
                format!(
                    "waited in vain for {subject} to start (no ready line, no answer within {} s)",
                    start_timeout.as_secs_f64()
                ),
                format!("raise --start-timeout or check {subject}"),
            )
        } else if connects == most {
            (
                connects,
                format!("could not connect: {}", most_frequent(&self.cannot_connect)),
                if subject == "the program" {
                    format!("check {subject}")
                } else {
                    format!("check that {subject} is running and listening there")
                },
            )
        } else {
            (
                answers,
                format!("got no usable answer: {}", most_frequent(&self.no_answer)),
                format!("check {subject}"),
            )
        };
        let others = self.unusable() - count;
        let others = if others > 0 {
            format!(" (and {others} more ended without an answer)")
        } else {
            String::new()
        };
        format!("{count} of the first {seen} operations {what}{others}: {advice}")
    }
}

/// The message seen most often (the first in order among equals), clipped.
fn most_frequent(messages: &BTreeMap<String, u32>) -> String {
    let mut best: Option<(&String, u32)> = None;
    for (message, &count) in messages {
        if best.is_none_or(|(_, most)| count > most) {
            best = Some((message, count));
        }
    }
    let message = best.map_or("", |(m, _)| m.as_str());
    match message.char_indices().nth(QUOTED_CHARS) {
        None => message.to_string(),
        Some((end, _)) => format!("{}... ({} bytes)", &message[..end], message.len()),
    }
}

impl EarlyStop {
    /// An early stop that cancels `clients`, the token every worker stops on. Operations
    /// invoked at or after `window_ends` do not count towards the unusable-target rule;
    /// `subject` is what the reason tells the user to check.
    pub(crate) fn new(
        clients: CancellationToken,
        window_ends: Option<Instant>,
        config: &crate::RunConfig,
        subject: &'static str,
    ) -> EarlyStop {
        EarlyStop {
            halted: Mutex::new(None),
            clients,
            start: Mutex::new(StartWindow::default()),
            window_ends,
            op_timeout: config.op_timeout,
            start_timeout: config.start_timeout,
            subject,
        }
    }

    /// Stops the run for `halt`, unless it was already stopped for another reason.
    pub(crate) fn halt(&self, halt: Halt) {
        let mut halted = self.halted.lock().unwrap_or_else(|e| e.into_inner());
        if halted.is_none() {
            *halted = Some(halt);
        }
        drop(halted);
        self.clients.cancel();
    }

    /// Why the run stopped early, if it did.
    pub(crate) fn halted(&self) -> Option<Halt> {
        self.halted
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Counts how an operation (or an attempt to connect) begun at `invoked` ended, and stops
    /// the run when the target proves unusable from the start.
    pub(crate) fn observe(&self, invoked: Instant, attempt: Attempt) {
        if self.clients.is_cancelled() {
            // Operations cut short by a stop say nothing about the target.
            return;
        }
        let mut window = self.start.lock().unwrap_or_else(|e| e.into_inner());
        if window.closed {
            return;
        }
        if self.window_ends.is_some_and(|end| invoked >= end) {
            window.closed = true;
            return;
        }
        window.seen += 1;
        match attempt {
            Attempt::Usable => {}
            Attempt::TimedOut => window.timed_out += 1,
            Attempt::NotStarted => window.not_started += 1,
            Attempt::CannotConnect(message) => {
                *window.cannot_connect.entry(message).or_default() += 1
            }
            Attempt::NoAnswer(message) => *window.no_answer.entry(message).or_default() += 1,
        }
        if window.unusable() >= UNUSABLE {
            window.closed = true;
            let reason = window.reason(self.op_timeout, self.start_timeout, self.subject);
            drop(window);
            self.halt(Halt::new(HaltKind::TargetUnusable, reason));
        } else if window.seen >= WINDOW {
            window.closed = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> crate::RunConfig {
        let workload = crate::Workload::new(crate::WorkloadKind::Counter, 1, 1);
        let mut config = crate::RunConfig::new(workload, "unused.jsonl");
        config.op_timeout = Duration::from_secs(1);
        config.start_timeout = Duration::from_secs(2);
        config
    }

    fn early_stop() -> EarlyStop {
        EarlyStop::new(CancellationToken::new(), None, &config(), "the program")
    }

    #[test]
    fn fourteen_unusable_of_the_first_twenty_stop_the_run() {
        let stop = early_stop();
        let now = Instant::now();
        for _ in 0..6 {
            stop.observe(now, Attempt::Usable);
        }
        for _ in 0..13 {
            stop.observe(now, Attempt::TimedOut);
        }
        assert!(stop.halted().is_none());
        stop.observe(now, Attempt::NoAnswer("client program exited".into()));
        let halt = stop.halted().expect("stopped");
        assert_eq!(halt.kind, HaltKind::TargetUnusable);
        assert_eq!(
            halt.reason,
            "13 of the first 20 operations timed out (and 1 more ended without an answer): \
             raise --op-timeout (now 1 s) or check the program"
        );
    }

    #[test]
    fn programs_that_never_start_are_told_to_get_more_time() {
        let stop = early_stop();
        let now = Instant::now();
        for _ in 0..14 {
            let error = format!("{NOT_STARTED} 2 s");
            stop.observe(now, Attempt::of(&Completion::Info(error)));
        }
        assert_eq!(
            stop.halted().unwrap().reason,
            "14 of the first 14 operations waited in vain for the program to start (no ready \
             line, no answer within 2 s): raise --start-timeout or check the program"
        );
    }

    #[test]
    fn seven_usable_of_the_first_twenty_keep_the_run_going_for_good() {
        let stop = early_stop();
        let now = Instant::now();
        for _ in 0..7 {
            stop.observe(now, Attempt::Usable);
        }
        for _ in 0..100 {
            stop.observe(now, Attempt::CannotConnect("connection refused".into()));
        }
        assert!(stop.halted().is_none(), "only the start of a run counts");
    }

    #[test]
    fn refusals_name_the_most_frequent_cause() {
        let stop = EarlyStop::new(CancellationToken::new(), None, &config(), "the system");
        let now = Instant::now();
        for _ in 0..13 {
            stop.observe(
                now,
                Attempt::CannotConnect("connection refused (127.0.0.1:1)".into()),
            );
        }
        stop.observe(
            now,
            Attempt::CannotConnect("connection reset (127.0.0.1:1)".into()),
        );
        assert_eq!(
            stop.halted().unwrap().reason,
            "14 of the first 14 operations could not connect: connection refused (127.0.0.1:1): \
             check that the system is running and listening there"
        );
    }

    #[test]
    fn operations_after_the_window_ends_do_not_count() {
        let now = Instant::now();
        let stop = EarlyStop::new(CancellationToken::new(), Some(now), &config(), "the system");
        for _ in 0..20 {
            stop.observe(now, Attempt::TimedOut);
        }
        assert!(stop.halted().is_none());
    }

    #[test]
    fn a_refused_request_counts_and_a_refused_cas_does_not() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(matches!(
            Attempt::of(&Completion::cannot_connect("127.0.0.1:1", &refused)),
            Attempt::CannotConnect(m) if m == "connection refused (127.0.0.1:1)"
        ));
        assert!(matches!(
            Attempt::of(&Completion::Fail("value differs".into())),
            Attempt::Usable
        ));
        assert!(matches!(
            Attempt::of(&Completion::Info(TIMED_OUT.into())),
            Attempt::TimedOut
        ));
    }
}
