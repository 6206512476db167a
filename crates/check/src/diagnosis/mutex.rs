//! Mutex findings: two holders at once, and releases of a lock nobody held.
//!
//! An acquire that completed `ok` before another `ok` acquire began holds the lock until some
//! release takes effect. A release can take effect between the two only if it did not fail,
//! began before the second acquire completed, and did not surely complete before the first
//! acquire began. With no such release, both held the lock at once. (Any process's release
//! counts, as in the model.)
//!
//! Counting says more: acquires and releases alternate, so just before an acquire takes effect
//! the lock has been taken (from the start, and by acquires) exactly as often as released.
//! When more acquires surely took effect before an `ok` acquire began (the `ok` ones completed
//! by then, plus a hold from the start) than releases can have by the time it returned (those
//! begun by then and not failed), it acquired a held lock. Likewise a release needs more
//! possible acquires than sure releases before it, or it released a free lock (`other`).

use photofinish_history::Operation;

use crate::model::{Model, Prepared};
use crate::models::{Mutex, MutexOp};

use super::{count, finish, line, may_apply, ok_at, Diagnosis, DiagnosisKind, Finding};

/// The findings of a `mutex`.
pub(crate) fn diagnose(model: &Mutex, ops: &[&Operation]) -> Vec<Diagnosis> {
    let mut acquires = Moments::default();
    let mut releases = Moments::default();
    let mut ok_acquires: Vec<&Operation> = Vec::new();
    let mut ok_releases: Vec<&Operation> = Vec::new();
    for &op in ops {
        let prepared = match model.prepare(op) {
            Ok(Prepared::Op { op: prepared, .. }) if may_apply(op) => prepared,
            Ok(_) => continue,
            Err(_) => return Vec::new(),
        };
        let (moments, ok) = match prepared {
            MutexOp::Acquire => (&mut acquires, &mut ok_acquires),
            MutexOp::Release => (&mut releases, &mut ok_releases),
        };
        moments.starts.push(op.invoked_at);
        if let Some(done) = ok_at(op) {
            moments.ends.push(done);
            ok.push(op);
        }
    }
    acquires.sort();
    releases.sort();
    let held_at_start = usize::from(model.init_held);

    let mut by_end = ok_acquires.clone();
    by_end.sort_by_key(|op| op.completed_at);
    ok_acquires.sort_by_key(|op| op.invoked_at);
    let mut holders = by_end.iter().peekable();
    // Of the acquires completed so far, the one invoked last: the fewest releases can follow it.
    let mut holder: Option<&Operation> = None;
    let mut findings = Vec::new();
    for &second in &ok_acquires {
        while let Some(first) = holders.next_if(|f| f.completed_at < Some(second.invoked_at)) {
            if holder.is_none_or(|h| h.invoked_at < first.invoked_at) {
                holder = Some(first);
            }
        }
        let Some(done) = ok_at(second) else { continue };
        let between = |first: &Operation| {
            releases.begun_before(done) - releases.completed_before(first.invoked_at)
        };
        let taken = held_at_start + acquires.completed_before(second.invoked_at);
        let released = releases.begun_before(done);
        match holder {
            Some(first) if between(first) == 0 => findings.push(both_held(first, second)),
            _ if taken > released => findings.push(held(second, taken, released, model.init_held)),
            _ => {}
        }
    }
    ok_releases.sort_by_key(|op| op.invoked_at);
    for release in ok_releases {
        let Some(done) = ok_at(release) else { continue };
        let taken = held_at_start + acquires.begun_before(done);
        let released = releases.completed_before(release.invoked_at);
        if taken <= released {
            findings.push(released_free(release, taken, released, model.init_held));
        }
    }
    finish(findings)
}

/// When operations of one sort began and, for the `ok` ones, completed, sorted.
#[derive(Default)]
struct Moments {
    starts: Vec<u64>,
    ends: Vec<u64>,
}

impl Moments {
    fn sort(&mut self) {
        self.starts.sort_unstable();
        self.ends.sort_unstable();
    }

    /// How many began before event `at`.
    fn begun_before(&self, at: u64) -> usize {
        self.starts.partition_point(|&s| s < at)
    }

    /// How many completed `ok` before event `at`.
    fn completed_before(&self, at: u64) -> usize {
        self.ends.partition_point(|&e| e < at)
    }
}

fn both_held(first: &Operation, second: &Operation) -> Finding<'static> {
    let who = if first.process == second.process {
        format!(
            "process {} acquired the lock twice (lines {}-{})",
            first.process,
            line(first),
            line(second)
        )
    } else {
        format!(
            "processes {} and {} held the lock at the same time (lines {}-{})",
            first.process,
            second.process,
            line(first),
            line(second)
        )
    };
    Finding::new(
        DiagnosisKind::DoubleHolder,
        format!(
            "{who}: {}'s acquire completed on line {} before {}'s began, and no release could \
             take effect before {}'s acquire completed on line {}",
            first.process,
            line(first),
            second.process,
            second.process,
            line(second)
        ),
        line(second),
        "double holders",
        &[first, second],
        &[],
    )
}

/// An acquire of a lock that was surely held: `taken` acquires (and a hold from the start)
/// against at most `released` releases.
fn held(acquire: &Operation, taken: usize, released: usize, init_held: bool) -> Finding<'static> {
    let acquired = taken - usize::from(init_held);
    let message = if acquired == 0 {
        format!(
            "process {} acquired the lock on line {}, but it was held from the start and no \
             release could take effect before then",
            acquire.process,
            line(acquire)
        )
    } else {
        let from_start = if init_held {
            " (besides the hold from the start)"
        } else {
            ""
        };
        format!(
            "process {} acquired the lock on line {} while it was held: {} had completed \
             before it began{from_start}, and at most {} could have taken effect by the time it returned",
            acquire.process,
            line(acquire),
            count(acquired, "acquire", "acquires"),
            count(released, "release", "releases")
        )
    };
    Finding::new(
        DiagnosisKind::DoubleHolder,
        message,
        line(acquire),
        "double holders",
        &[acquire],
        &[],
    )
}

/// A release of a lock that was surely free: at most `taken` acquires (and a hold from the
/// start) against `released` releases completed before it began.
fn released_free(
    release: &Operation,
    taken: usize,
    released: usize,
    init_held: bool,
) -> Finding<'static> {
    let acquired = taken - usize::from(init_held);
    let message = if taken == 0 && released == 0 {
        format!(
            "process {} released the lock on line {}, but no acquire had begun by then",
            release.process,
            line(release)
        )
    } else {
        let from_start = if init_held {
            " (besides the hold from the start)"
        } else {
            ""
        };
        format!(
            "process {} released the lock on line {} while it was free: {} had completed \
             before it began, and at most {}{from_start} could have taken effect by the time it returned",
            release.process,
            line(release),
            count(released, "release", "releases"),
            count(acquired, "acquire", "acquires")
        )
    };
    Finding::new(
        DiagnosisKind::Other,
        message,
        line(release),
        "releases of a free lock",
        &[release],
        &[],
    )
}

#[cfg(test)]
mod tests {
    use super::super::tests::{diagnose, event, messages, ok};
    use super::*;

    const FREE: Mutex = Mutex { init_held: false };

    fn acquire(process: i64) -> String {
        ok(process, "acquire", "null", "null")
    }

    fn release(process: i64) -> String {
        ok(process, "release", "null", "null")
    }

    #[test]
    fn two_processes_hold_the_lock() {
        let diagnosis = diagnose(&FREE, &[acquire(3), acquire(7)].concat());
        assert_eq!(
            messages(&diagnosis),
            [
                "processes 3 and 7 held the lock at the same time (lines 2-4): 3's acquire \
              completed on line 2 before 7's began, and no release could take effect before 7's \
              acquire completed on line 4"
            ]
        );
        assert_eq!(diagnosis[0].kind, DiagnosisKind::DoubleHolder);
        assert_eq!(diagnosis[0].lines, vec![1, 2, 3, 4]);
        assert_eq!(
            messages(&diagnose(&FREE, &[acquire(3), acquire(3)].concat())),
            [
                "process 3 acquired the lock twice (lines 2-4): 3's acquire completed on line 2 \
              before 3's began, and no release could take effect before 3's acquire completed \
              on line 4"
            ]
        );
    }

    #[test]
    fn a_release_that_may_have_happened_explains_it() {
        for ending in [event("info", 3, "release", "null"), String::new()] {
            let text = [
                acquire(3),
                event("invoke", 3, "release", "null"),
                ending,
                acquire(7),
            ]
            .concat();
            assert!(diagnose(&FREE, &text).is_empty());
        }
        // A failed release did nothing.
        let text = [
            acquire(3),
            event("invoke", 3, "release", "null"),
            event("fail", 3, "release", "null"),
            acquire(7),
        ]
        .concat();
        assert_eq!(diagnose(&FREE, &text)[0].kind, DiagnosisKind::DoubleHolder);
    }

    #[test]
    fn more_acquires_than_releases_can_explain() {
        // One release may have come after 1's acquire, none more before 3's.
        let text = [
            acquire(1),
            event("invoke", 1, "release", "null"),
            event("info", 1, "release", "null"),
            acquire(2),
            acquire(3),
        ]
        .concat();
        // (The release may have come after 2's acquire: no pair is sure to overlap.)
        let counted = "process 3 acquired the lock on line 8 while it was held: 2 acquires had \
                       completed before it began, and at most 1 release could have taken effect \
                       by the time it returned";
        assert_eq!(messages(&diagnose(&FREE, &text)), [counted]);
        // Only one release can have come after the acquires of 1 and 2, which both completed
        // before 3 began; whichever went second, no release follows it.
        let text = [
            acquire(1),
            event("invoke", 2, "acquire", "null"),
            event("invoke", 1, "release", "null"),
            event("info", 1, "release", "null"),
            event("ok", 2, "acquire", "null"),
            acquire(3),
        ]
        .concat();
        assert_eq!(messages(&diagnose(&FREE, &text)), [counted]);
    }

    #[test]
    fn releases_of_a_free_lock() {
        let diagnosis = diagnose(&FREE, &release(1));
        assert_eq!(
            messages(&diagnosis),
            ["process 1 released the lock on line 2, but no acquire had begun by then"]
        );
        assert_eq!(diagnosis[0].kind, DiagnosisKind::Other);
        let text = [acquire(1), release(1), release(2)].concat();
        assert_eq!(
            messages(&diagnose(&FREE, &text)),
            [
                "process 2 released the lock on line 6 while it was free: 1 release had completed \
              before it began, and at most 1 acquire could have taken effect by the time it \
              returned"
            ]
        );
    }

    #[test]
    fn a_lock_held_from_the_start() {
        let held = Mutex { init_held: true };
        assert_eq!(
            messages(&diagnose(&held, &acquire(0))),
            [
                "process 0 acquired the lock on line 2, but it was held from the start and no \
              release could take effect before then"
            ]
        );
        assert!(diagnose(&held, &[release(1), acquire(0)].concat()).is_empty());
    }
}
