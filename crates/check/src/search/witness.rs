//! The minimal witness: the failing partition shrunk to a few operations that alone have no
//! linearization.
//!
//! A failure in a partition of thousands of operations is hard to read, even with the stuck
//! operation named: what matters are the handful of operations that together cannot be
//! explained. Delta debugging (Zeller & Hildebrandt's ddmin, reducing to complements) removes
//! chunks of operations, then single operations, as long as what remains is still a witness,
//! each time asking the search itself. The result is 1-minimal: removing any one of its
//! operations makes it no witness. The shrinking has a budget of its own and never changes the
//! verdict; if the budget runs out the witness is smaller than the partition but not known to
//! be minimal, and says so.
//!
//! What stays a witness: the stuck operation with operations that leave it no place, *because
//! of the order they happened in*. Without that last condition the shrinking would happily
//! remove the write a stale read saw, leaving the read alone: impossible too, but only because
//! nothing wrote its value any more, which says nothing about the race. So a witness must also
//! become linearizable once the stuck operation is freed from real time (invoked before
//! everything else). Only when the stuck operation cannot be explained even then (it saw a
//! value nothing wrote) is that plain impossibility what the witness shows.

use std::cell::Cell;

use photofinish_history::History;

use super::budget::Budget;
use super::linearize::{linearize, Limits, SearchResult};
use super::partition::{PEvent, Partition};
use crate::model::Model;
use crate::report::Witness;

/// The most configurations one test of a candidate witness may explore. A budget of work, not
/// time, so that the witness is the same on a loaded machine as on an idle one.
const TEST_CONFIGURATIONS: u64 = 20_000;

/// The most configurations the whole shrinking may explore. Like [`TEST_CONFIGURATIONS`], a
/// budget of work, so the witness of a history is the same on every run: the time budget the
/// caller gives only guards against a slow machine.
const TOTAL_CONFIGURATIONS: u64 = 400_000;

/// What one test of a candidate found.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Test {
    Linearizable,
    NotLinearizable,
    /// The test ran out of its own small budget.
    Unknown,
}

/// The shrinking's whole budget ran out.
struct Exhausted;

/// Shrinks `part`, known not to be linearizable, around `stuck` (the operation the search could
/// not place). `None` if not even the first test fit in the budget.
pub(crate) fn shrink<M: Model>(
    model: &M,
    history: &History,
    part: &Partition<M::Op>,
    stuck: Option<u32>,
    budget: &Budget,
    max_search_bytes: usize,
) -> Option<Witness> {
    // Removing operations can take away what kept the search small (a read that pruned whole
    // branches), so each test gets a small budget of its own. A test that runs out of it
    // lets no operation go, and the witness is not called minimal.
    let undecided = Cell::new(false);
    let spent = Cell::new(0u64);
    let test = |sub: &Partition<M::Op>| -> Result<Test, Exhausted> {
        if budget.exceeded().is_some() || spent.get() >= TOTAL_CONFIGURATIONS {
            return Err(Exhausted);
        }
        let limits = Limits {
            budget,
            max_search_bytes,
            first_failure: None,
            index: 0,
            max_configurations: TEST_CONFIGURATIONS,
        };
        let (result, configurations) = linearize(model, sub, &limits);
        spent.set(spent.get() + configurations);
        Ok(match result {
            SearchResult::NotLinearizable(_) => Test::NotLinearizable,
            SearchResult::Linearizable => Test::Linearizable,
            SearchResult::Undecided(_) if budget.exceeded().is_some() => return Err(Exhausted),
            SearchResult::Undecided(_) => {
                undecided.set(true);
                Test::Unknown
            }
        })
    };
    // Whether the operations in `keep` alone have no linearization, the stuck one among them.
    let impossible = |keep: &[u32]| -> Result<bool, Exhausted> {
        if stuck.is_some_and(|op| keep.binary_search(&op).is_err()) {
            return Ok(false);
        }
        Ok(test(&part.subset(keep))? == Test::NotLinearizable)
    };
    // Whether, with `keep` alone, what leaves the stuck operation no place is real time.
    let ordered = |keep: &[u32]| -> Result<bool, Exhausted> {
        let Some(at) = stuck.and_then(|op| keep.binary_search(&op).ok()) else {
            return Ok(true);
        };
        Ok(test(&part.subset(keep).invoked_first(at as u32))? == Test::Linearizable)
    };

    let mut keep: Vec<u32> = (0..part.ops.len() as u32).collect();
    // Nothing invoked after the stuck operation returned can help explain it: try without
    // all of them first, the biggest cut there is on a long history.
    if let Some(end) = stuck.and_then(|op| part.return_position(op)) {
        let mut cut: Vec<u32> = part.events[..end]
            .iter()
            .filter_map(|e| match *e {
                PEvent::Invoke(o) => Some(o),
                PEvent::Return(_) => None,
            })
            .collect();
        cut.sort_unstable();
        if cut.len() < keep.len() && impossible(&cut).ok()? {
            keep = cut;
        }
    }
    let by_order = ordered(&keep).ok()?;
    let fails = |keep: &[u32]| -> Result<bool, Exhausted> {
        Ok(impossible(keep)? && (!by_order || ordered(keep)?))
    };
    let reduced = reduce_to_complements(&mut keep, fails);
    Some(Witness::of(
        history,
        part,
        &keep,
        true,
        reduced && !undecided.get(),
    ))
}

/// ddmin, reducing to complements: splits `keep` into chunks and drops the first chunk whose
/// removal still fails; when none can go, splits finer. With chunks of one operation and none
/// removable, `keep` is 1-minimal: returns true. Returns false if the budget ran out first.
fn reduce_to_complements(
    keep: &mut Vec<u32>,
    fails: impl Fn(&[u32]) -> Result<bool, Exhausted>,
) -> bool {
    let mut chunks = 2usize;
    while keep.len() >= 2 {
        let size = keep.len().div_ceil(chunks);
        let mut reduced = false;
        for start in (0..keep.len()).step_by(size) {
            let end = (start + size).min(keep.len());
            let complement: Vec<u32> = keep[..start].iter().chain(&keep[end..]).copied().collect();
            match fails(&complement) {
                Ok(true) => {
                    *keep = complement;
                    chunks = chunks.saturating_sub(1).max(2);
                    reduced = true;
                    break;
                }
                Ok(false) => {}
                Err(Exhausted) => return false,
            }
        }
        if !reduced {
            if size == 1 {
                return true;
            }
            chunks = (chunks * 2).min(keep.len());
        }
    }
    // One operation alone that cannot be explained (a read of a value never written).
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A test that fails exactly when both 3 and 7 are kept: the minimum is {3, 7}.
    #[test]
    fn ddmin_finds_the_pair_that_matters() {
        let mut keep: Vec<u32> = (0..20).collect();
        let minimal =
            reduce_to_complements(&mut keep, |k: &[u32]| Ok(k.contains(&3) && k.contains(&7)));
        assert!(minimal);
        assert_eq!(keep, vec![3, 7]);
    }

    #[test]
    fn ddmin_says_when_it_ran_out_of_budget() {
        let mut keep: Vec<u32> = (0..20).collect();
        assert!(!reduce_to_complements(&mut keep, |_: &[u32]| Err(
            Exhausted
        )));
        assert_eq!(keep.len(), 20);
    }
}
