//! The grow-only set procedure: deciding a `set` partition (adds, and reads of the whole set)
//! in time O(n log n + the total size of its reads) and memory linear in its operations and
//! elements, where the generic search is exponential in the number of concurrent operations
//! and holds a copy of the set in every state it visits.
//!
//! It applies to every partition of a grow-only set model (see [`Model::set_access`]), whether
//! or not elements are added more than once. Failed adds are not in a partition (they did not
//! happen), and neither is a read whose result is unknown.
//!
//! # Why it is exact
//!
//! Elements are never removed, so the states a linearization passes through only grow, and
//! every read returns the state at its point. Hence:
//!
//! 1. Every read holds every element of the initial set `I`, and only elements of `I` or of
//!    some add in the partition.
//! 2. The reads' sets are totally ordered by inclusion. Call the distinct ones
//!    `S1 ⊂ S2 ⊂ … ⊂ Sk` and `S0 = I`; the reads of `Sj` form group `Gj`. Every read of `Gj`
//!    precedes every read of `Gj+1`.
//! 3. An element `e` outside `I` that first shows in `Sj` (its *level* is `j`; `k+1` if no
//!    read shows it) has every add after every read of `G1 … Gj-1` (they miss it) and at least
//!    one add before every read of `Gj` (they hold it). Adds of an element of `I` change
//!    nothing and may go anywhere.
//!
//! So a linearization, if there is one, has the shape `D1 G1 D2 G2 … Dk Gk`, where `Dj` holds
//! one add of each element of level `j`, and every other add of an element of level `j` comes
//! anywhere after `Gj-1`; and any order of that shape is legal for the model. Ordering blocks
//! of operations is a matter of real time only: block after block, each operation can take
//! effect just after the latest invocation among the earlier blocks, so the blocks can be
//! ordered exactly when no operation of a block returned before an operation of an earlier
//! block was invoked, and no later add returned before an operation of the blocks it must
//! follow was invoked. Choosing for `Dj` the add of each element that was invoked first is
//! never worse than any other choice: every add of the element must return after the same
//! blocks anyway, and the earliest invocation delays the blocks after it least. An
//! indeterminate add never returns, so it can always take effect late enough; one that no
//! read needed is left out.
//!
//! Every answer is checked before it is given. A "linearizable" answer comes with the
//! linearization, replayed (the set it builds compared with every read's, and through
//! [`Model::step`] itself when the sets are small) and checked against real time. A "not
//! linearizable" answer comes with operations that alone have no linearization for the same
//! reason, decided again by this procedure and, when few, by the generic search. If either
//! check fails the procedure declines and the generic search decides.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt;
use std::hash::Hash;
use std::iter::Peekable;

use rustc_hash::{FxHashMap, FxHashSet};

use photofinish_history::{History, Value};

use super::{generic_search_agrees, in_real_time, positions, Conflict, Decision};
use crate::model::{Model, SetAccess};
use crate::search::budget::Budget;
use crate::search::partition::Partition;

/// The most work (operations times elements of the largest read) for which a linearization is
/// also replayed through [`Model::step`], which copies the set at every add.
const MODEL_REPLAY_WORK: usize = 10_000_000;

/// Whether the procedure can apply to `model`'s partitions at all.
pub(crate) fn applies<M: Model>(model: &M) -> bool {
    model.set_elements(&model.init()).is_some()
}

/// Decides `part`, or says why the procedure does not apply to it. `budget` bounds the
/// cross-check of a counterexample by the generic search.
pub(crate) fn decide<M: Model>(
    model: &M,
    history: &History,
    part: &Partition<M::Op>,
    budget: &Budget,
) -> Decision {
    let init_state = model.init();
    let Some(init) = model.set_elements(&init_state) else {
        return Decision::NotApplicable("the model is not a grow-only set".to_string());
    };
    run(model, history, part, init, Goal::Settle(budget))
}

/// What a run of the procedure is for.
#[derive(Clone, Copy)]
enum Goal<'b> {
    /// A decision, certified, the cross-check of a counterexample bounded by the budget.
    Settle(&'b Budget),
    /// Only whether the partition has no linearization (a counterexample's own check): a
    /// `NotLinearizable` decision if so, uncertified.
    Refute,
}

/// Runs the procedure on `part` for `goal`. Where every element is an integer, it reads the
/// history's compact lists of integers in place; otherwise it works on values.
fn run<M: Model>(
    model: &M,
    history: &History,
    part: &Partition<M::Op>,
    init: &BTreeSet<Value>,
    goal: Goal,
) -> Decision {
    let accesses = match accesses(model, history, part) {
        Ok(accesses) => accesses,
        Err(why) => return Decision::NotApplicable(why),
    };
    if let Some(access) = int_access(&accesses, init) {
        let init = init.iter().filter_map(Value::as_i64).collect();
        return Sets::new(model, history, part, init, access).reach(model, goal);
    }
    let reads = value_reads(&accesses);
    let access = value_access(&accesses, &reads);
    Sets::new(model, history, part, init.iter().cloned().collect(), access).reach(model, goal)
}

/// What each operation of `part` does with the set, or why the procedure does not apply.
fn accesses<'p, M: Model>(
    model: &M,
    history: &History,
    part: &'p Partition<M::Op>,
) -> Result<Vec<SetAccess<'p>>, String> {
    part.ops
        .iter()
        .map(|o| {
            model.set_access(&o.op).ok_or_else(|| {
                format!(
                    "`{}` is no add or read of the whole set",
                    history.operations[o.history_id()].f.escape_debug()
                )
            })
        })
        .collect()
}

/// The accesses with integer elements, when every element (added, read, initial) is one.
fn int_access<'p>(
    accesses: &[SetAccess<'p>],
    init: &BTreeSet<Value>,
) -> Option<Vec<Access<'p, i64>>> {
    if !init.iter().all(|v| matches!(v, Value::Int(_))) {
        return None;
    }
    accesses
        .iter()
        .map(|a| match *a {
            SetAccess::Add(Value::Int(i)) => Some(Access::Add(i)),
            SetAccess::Add(_) => None,
            SetAccess::Read(seen) => seen.as_ints().map(Access::Read),
        })
        .collect()
}

/// Each read's elements as values (nothing for an add): borrowed, or made from integers.
fn value_reads<'p>(accesses: &[SetAccess<'p>]) -> Vec<Cow<'p, [Value]>> {
    accesses
        .iter()
        .map(|a| match *a {
            SetAccess::Read(seen) => seen.to_values(),
            SetAccess::Add(_) => Cow::Borrowed(&[][..]),
        })
        .collect()
}

/// The accesses with value elements; `reads` from [`value_reads`].
fn value_access<'r>(
    accesses: &[SetAccess<'r>],
    reads: &'r [Cow<'r, [Value]>],
) -> Vec<Access<'r, Value>> {
    accesses
        .iter()
        .zip(reads)
        .map(|(a, read)| match *a {
            SetAccess::Add(v) => Access::Add(v),
            SetAccess::Read(_) => Access::Read(read),
        })
        .collect()
}

/// An element as the procedure handles it: a value, or an integer where every element is one.
trait Element: Ord + Hash + fmt::Display {}

impl Element for Value {}

impl Element for i64 {}

/// What an operation does with the set, its elements of type `E`.
enum Access<'a, E> {
    Add(&'a E),
    /// The elements read, sorted, each once.
    Read(&'a [E]),
}

// Copied whatever `E` is: it holds only references (a derive would ask `E: Copy`).
impl<E> Clone for Access<'_, E> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<E> Copy for Access<'_, E> {}

/// The partition in set terms.
struct Sets<'a, M: Model, E> {
    history: &'a History,
    part: &'a Partition<M::Op>,
    /// The initial elements, sorted: what reads must grow from.
    init: Vec<E>,
    access: Vec<Access<'a, E>>,
    /// Event positions; `NEVER` for an operation that never returns.
    invoked: Vec<u32>,
    returned: Vec<u32>,
    /// The most elements a read returned (or the initial set holds).
    largest: usize,
}

/// The reads that returned one set.
struct Group<'a, E> {
    set: &'a [E],
    /// In order of invocation.
    reads: Vec<u32>,
}

/// What the reads say about the adds: the blocks `D1 G1 … Dk Gk` of the module doc.
struct Levels<'a, E> {
    /// The groups of reads, smallest set first.
    groups: Vec<Group<'a, E>>,
    /// Per group `j` (0-based): the add of each element that first shows in its set, the one
    /// invoked first among the element's adds.
    firsts: Vec<Vec<u32>>,
    /// Per element outside the initial set that some read shows: its 0-based group.
    level: FxHashMap<&'a E, u32>,
    /// Per element outside the initial set: its add invoked first.
    first_add: FxHashMap<&'a E, u32>,
}

impl<'a, M: Model, E: Element> Sets<'a, M, E> {
    /// The partition `part` of `history` with what its operations do (`access`) and the
    /// initial elements, sorted. The model only names `M`, which `M::Op` alone does not.
    fn new(
        _model: &M,
        history: &'a History,
        part: &'a Partition<M::Op>,
        init: Vec<E>,
        access: Vec<Access<'a, E>>,
    ) -> Sets<'a, M, E> {
        let (invoked, returned) = positions(part);
        let largest = access
            .iter()
            .filter_map(|a| match a {
                Access::Read(set) => Some(set.len()),
                Access::Add(_) => None,
            })
            .fold(init.len(), usize::max);
        Sets {
            history,
            part,
            init,
            access,
            invoked,
            returned,
            largest,
        }
    }

    /// The decision `goal` asks for.
    fn reach(&self, model: &M, goal: Goal) -> Decision {
        let budget = match goal {
            Goal::Settle(budget) => budget,
            Goal::Refute => {
                return match self.decide() {
                    Ok(_) => Decision::Linearizable,
                    Err(conflict) => Decision::NotLinearizable(conflict),
                }
            }
        };
        match self.decide() {
            Ok(order) if self.certifies(model, &order) => Decision::Linearizable,
            Ok(_) => Decision::NotApplicable(
                "its linearization failed the replay check (a bug: please report it)".to_string(),
            ),
            Err(conflict) if self.confirms(model, &conflict, budget) => {
                Decision::NotLinearizable(conflict)
            }
            Err(_) => Decision::NotApplicable(
                "its counterexample failed the cross-check (a bug: please report it)".to_string(),
            ),
        }
    }

    /// Whether the initial set holds `v`.
    fn initial(&self, v: &E) -> bool {
        holds(&self.init, v)
    }

    fn len(&self) -> usize {
        self.access.len()
    }

    fn read_set(&self, o: u32) -> &'a [E] {
        match self.access[o as usize] {
            Access::Read(set) => set,
            Access::Add(_) => unreachable!("operation {o} is an add"),
        }
    }

    /// The element an add adds; `None` for a read.
    fn added(&self, o: u32) -> Option<&'a E> {
        match self.access[o as usize] {
            Access::Add(v) => Some(v),
            Access::Read(_) => None,
        }
    }

    /// Decides the partition: a linearization of every operation that must be placed, or why
    /// there is none.
    fn decide(&self) -> Result<Vec<u32>, Conflict> {
        let levels = self.levels()?;
        let k = levels.groups.len();
        // The latest invocation among the blocks so far, and its operation; after each group.
        let mut latest: Option<(u32, u32)> = None;
        let mut after_group: Vec<Option<(u32, u32)>> = Vec::with_capacity(k + 1);
        after_group.push(None);
        // (where it may take effect, block number) per operation placed, for the order.
        let mut points: Vec<(u32, u32, u32)> = Vec::with_capacity(self.len());
        for (j, group) in levels.groups.iter().enumerate() {
            for (b, block) in [(2 * j + 1, &levels.firsts[j]), (2 * j + 2, &group.reads)] {
                if let Some((at, a)) = latest {
                    if let Some(&early) = block
                        .iter()
                        .filter(|&&o| self.returned[o as usize] < at)
                        .min_by_key(|&&o| self.returned[o as usize])
                    {
                        return Err(self.out_of_order(a, early, &levels));
                    }
                }
                let floor = latest.map_or(0, |(at, _)| at);
                for &o in block {
                    let i = self.invoked[o as usize];
                    points.push((floor.max(i), 2 * b as u32, o));
                    if latest.is_none_or(|(at, _)| i > at) {
                        latest = Some((i, o));
                    }
                }
            }
            after_group.push(latest);
        }
        // Every other add: after the groups of reads that miss its element.
        for o in 0..self.len() as u32 {
            let Some(v) = self.added(o) else { continue };
            let indeterminate = self.part.ops[o as usize].indeterminate;
            if self.initial(v) {
                if !indeterminate {
                    points.push((self.invoked[o as usize], 0, o));
                }
                continue;
            }
            let level = levels.level.get(v).map_or(k, |&j| j as usize);
            if level < k && levels.first_add.get(v) == Some(&o) {
                continue;
            }
            let after = after_group[level];
            if let Some((at, a)) = after {
                if self.returned[o as usize] < at {
                    return Err(self.out_of_order(a, o, &levels));
                }
            }
            if !indeterminate {
                let floor = after.map_or(0, |(at, _)| at);
                points.push((floor.max(self.invoked[o as usize]), 4 * level as u32 + 1, o));
            }
        }
        points.sort_unstable();
        Ok(points.into_iter().map(|(_, _, o)| o).collect())
    }

    /// Groups the reads by set, checks they grow, and gives each element its level.
    fn levels(&self) -> Result<Levels<'a, E>, Conflict> {
        let mut reads: Vec<u32> = Vec::new();
        let mut first_add: FxHashMap<&'a E, u32> = FxHashMap::default();
        for o in 0..self.len() as u32 {
            match self.access[o as usize] {
                Access::Read(set) => {
                    if let Some(missed) = self.init.iter().find(|v| !holds(set, v)) {
                        return Err(self.missing_initial(o, missed));
                    }
                    reads.push(o);
                }
                Access::Add(v) if !self.initial(v) => {
                    let first = first_add.entry(v).or_insert(o);
                    if self.invoked[o as usize] < self.invoked[*first as usize] {
                        *first = o;
                    }
                }
                Access::Add(_) => {}
            }
        }
        reads.sort_unstable_by_key(|&o| (self.read_set(o).len(), self.invoked[o as usize]));
        let mut levels = Levels {
            groups: Vec::new(),
            firsts: Vec::new(),
            level: FxHashMap::default(),
            first_add,
        };
        for &r in &reads {
            let set = self.read_set(r);
            if let Some(group) = levels.groups.last_mut() {
                if set.len() == group.set.len() {
                    if set == group.set {
                        group.reads.push(r);
                        continue;
                    }
                    return Err(self.incomparable(group.reads[0], r, &levels));
                }
            }
            let below = levels.groups.last().map_or(&self.init[..], |g| g.set);
            let j = levels.groups.len() as u32;
            let mut firsts = Vec::new();
            let mut never_added = None;
            let grown = difference(below, set, |v| match levels.first_add.get(v) {
                Some(&add) => {
                    levels.level.insert(v, j);
                    firsts.push(add);
                }
                None => {
                    never_added.get_or_insert(v);
                }
            });
            if let Some(v) = never_added {
                return Err(self.never_added(r, v));
            }
            if grown.is_err() {
                let below = levels.groups.last().map(|g| g.reads[0]);
                // The initial set is in every read: only a group can be missed.
                return Err(match below {
                    Some(p) => self.incomparable(p, r, &levels),
                    None => self.missing_initial(r, self.init.first().expect("missed")),
                });
            }
            levels.firsts.push(firsts);
            levels.groups.push(Group {
                set,
                reads: vec![r],
            });
        }
        Ok(levels)
    }

    // ---------------------------------------------------------------------------------------
    // Certificates.

    /// Whether `order` is a linearization: every operation that completed ok placed once, in
    /// real-time order, each read returning exactly the elements the adds before it (and the
    /// initial set) made; and, when it is cheap, each a legal step of the model itself.
    fn certifies(&self, model: &M, order: &[u32]) -> bool {
        if !in_real_time(self.part, order) {
            return false;
        }
        // The set so far; the last read (first, the initial set), which equals the set as it
        // was then; and what was added since.
        let mut state: FxHashSet<&E> = self.init.iter().collect();
        let mut last_read: &[E] = &self.init;
        let mut added_since: Vec<&E> = Vec::new();
        let mut largest = self.init.len();
        for &o in order {
            match self.access[o as usize] {
                Access::Add(v) => {
                    if state.insert(v) {
                        added_since.push(v);
                    }
                }
                Access::Read(seen) => {
                    // It holds the state as it was at the last read and what came since, and
                    // has as many elements as the state: it is the state.
                    if seen.len() != state.len()
                        || difference(last_read, seen, |_| {}).is_err()
                        || !added_since.iter().all(|v| holds(seen, v))
                    {
                        return false;
                    }
                    last_read = seen;
                    added_since.clear();
                    largest = largest.max(seen.len());
                }
            }
        }
        if order.len().saturating_mul(largest.max(1)) > MODEL_REPLAY_WORK {
            return true;
        }
        let mut state = model.init();
        for &o in order {
            match model.step(&state, &self.part.ops[o as usize].op) {
                Some(next) => state = next,
                None => return false,
            }
        }
        true
    }

    /// Whether the conflict's witness, alone, has no linearization: decided again by this
    /// procedure, and by the generic search when it is small.
    fn confirms(&self, model: &M, conflict: &Conflict, budget: &Budget) -> bool {
        if conflict.witness.binary_search(&conflict.stuck).is_err() {
            return false;
        }
        let witness = self.part.subset(&conflict.witness);
        let Some(init) = model.set_elements(&model.init()).cloned() else {
            return false;
        };
        matches!(
            run(model, self.history, &witness, &init, Goal::Refute),
            Decision::NotLinearizable(_)
        ) && generic_search_agrees(model, &witness, budget)
    }

    // ---------------------------------------------------------------------------------------
    // Conflicts.

    /// `key`, with the reads among them, and for every element those reads hold (outside the
    /// initial set) its add invoked first: operations that alone have no linearization.
    fn witness(&self, key: &[u32], levels_first_add: &FxHashMap<&'a E, u32>) -> Vec<u32> {
        let mut keep: Vec<u32> = key.to_vec();
        for &o in key {
            if let Access::Read(set) = self.access[o as usize] {
                keep.extend(
                    set.iter()
                        .filter(|v| !self.initial(v))
                        .filter_map(|v| levels_first_add.get(v).copied()),
                );
            }
        }
        keep.sort_unstable();
        keep.dedup();
        keep
    }

    fn conflict(&self, stuck: u32, reason: String, witness: Vec<u32>) -> Conflict {
        Conflict {
            stuck,
            reason,
            prefix: Vec::new(),
            witness,
            state_size: self.largest,
            shrink: true,
        }
    }

    fn missing_initial(&self, read: u32, missed: &E) -> Conflict {
        self.conflict(
            read,
            format!(
                "it misses {missed}, which the set held from the start (elements are never removed)"
            ),
            vec![read],
        )
    }

    fn never_added(&self, read: u32, element: &E) -> Conflict {
        self.conflict(
            read,
            format!(
                "it read {element}, which no operation added and which was not in the set at the start"
            ),
            vec![read],
        )
    }

    /// Reads `p` and `r` whose sets are not one inside the other (`p`'s is not larger).
    fn incomparable(&self, p: u32, r: u32, levels: &Levels<'a, E>) -> Conflict {
        let (small, large) = (self.read_set(p), self.read_set(r));
        let x = small.iter().find(|v| !holds(large, v));
        let y = large.iter().find(|v| !holds(small, v));
        let (Some(x), Some(y)) = (x, y) else {
            unreachable!("the reads' sets are incomparable");
        };
        // An element nothing added says more than the order of the reads.
        for (read, set) in [(p, small), (r, large)] {
            if let Some(v) = set
                .iter()
                .find(|v| !self.initial(v) && !levels.first_add.contains_key(*v))
            {
                return self.never_added(read, v);
            }
        }
        // Either read missing an element that an add or the other read had completed with
        // before it began says what happened in real-time terms.
        for (reader, other) in [(r, p), (p, r)] {
            let (seen, other_seen) = (self.read_set(reader), self.read_set(other));
            let missed: FxHashSet<&E> = other_seen.iter().filter(|v| !holds(seen, v)).collect();
            let began = self.invoked[reader as usize];
            let acknowledged = (0..self.len() as u32)
                .filter(|&o| self.added(o).is_some_and(|v| missed.contains(v)))
                .filter(|&o| self.returned[o as usize] < began)
                .min_by_key(|&o| self.returned[o as usize]);
            if let Some(add) = acknowledged {
                return self.lost(reader, add, &levels.first_add);
            }
            if self.returned[other as usize] < began {
                let x = missed.iter().min().expect("the sets differ");
                let mut stale = self.stale(reader, other, x, &levels.first_add);
                stale.shrink = false;
                return stale;
            }
        }
        let stuck = if self.returned[p as usize] > self.returned[r as usize] {
            p
        } else {
            r
        };
        let mut conflict = self.conflict(
            stuck,
            format!(
                "{} saw {x} but not {y}, and {} saw {y} but not {x}: elements are never removed, so neither read can take effect first",
                self.op(p, Moment::Began),
                self.op(r, Moment::Began),
            ),
            self.witness(&[p, r], &levels.first_add),
        );
        conflict.shrink = false;
        conflict
    }

    /// `early` returned before `late` was invoked, yet its block must follow `late`'s. The
    /// conflict is explained with the fewest elements the history allows.
    fn out_of_order(&self, late: u32, early: u32, levels: &Levels<'a, E>) -> Conflict {
        let k = levels.groups.len();
        let level = |v: &E| levels.level.get(v).map_or(k, |&j| j as usize);
        match (self.access[late as usize], self.access[early as usize]) {
            // A read misses an element whose add completed before it began: the read with the
            // smallest set that does so.
            (Access::Read(_), Access::Add(x)) => {
                let read = levels.groups[..level(x)]
                    .iter()
                    .flat_map(|g| &g.reads)
                    .copied()
                    .find(|&r| self.invoked[r as usize] > self.returned[early as usize])
                    .unwrap_or(late);
                self.lost(read, early, &levels.first_add)
            }
            // A read holds an element before any add of it began: the read with the smallest
            // set that does so.
            (Access::Add(y), Access::Read(_)) => {
                let read = levels.groups[level(y)..]
                    .iter()
                    .flat_map(|g| &g.reads)
                    .copied()
                    .find(|&r| self.returned[r as usize] < self.invoked[late as usize])
                    .unwrap_or(early);
                self.conflict(
                    read,
                    format!(
                        "{} saw {y} before any add of it began: the first, {}, began after that read completed",
                        self.op(read, Moment::Completed),
                        self.op(late, Moment::Began),
                    ),
                    self.witness(&[read, late], &levels.first_add),
                )
            }
            // A read misses an element a read that completed before it began saw.
            (Access::Read(smaller), Access::Read(larger)) => {
                let x = larger
                    .iter()
                    .find(|v| !holds(smaller, v))
                    .expect("a later group's set is larger");
                self.stale(late, early, x, &levels.first_add)
            }
            // An add completed before the first add of an element that a read saw without it.
            (Access::Add(y), Access::Add(x)) => {
                let read = levels.groups[level(y)].reads[0];
                self.conflict(
                    read,
                    format!(
                        "{} saw {y} but not {x}, yet {} completed before the first add of {y}, {}, began",
                        self.op(read, Moment::Began),
                        self.op(early, Moment::Completed),
                        self.op(late, Moment::Began),
                    ),
                    self.witness(&[read, late, early], &levels.first_add),
                )
            }
        }
    }

    /// `read` misses the element of `add`, which completed before it began.
    fn lost(&self, read: u32, add: u32, first_add: &FxHashMap<&'a E, u32>) -> Conflict {
        let x = self.added(add).expect("an add");
        self.conflict(
            read,
            format!(
                "{} misses {x}, yet {} completed before it began (elements are never removed)",
                self.op(read, Moment::Began),
                self.op(add, Moment::Completed),
            ),
            self.witness(&[read, add], first_add),
        )
    }

    /// `read` misses `x`, which `other` saw and completed with before `read` began.
    fn stale(&self, read: u32, other: u32, x: &E, first_add: &FxHashMap<&'a E, u32>) -> Conflict {
        self.conflict(
            read,
            format!(
                "{} misses {x}, yet {}, which saw it, completed before it began (elements are never removed)",
                self.op(read, Moment::Began),
                self.op(other, Moment::Completed),
            ),
            self.witness(&[read, other], first_add),
        )
    }

    // ---------------------------------------------------------------------------------------
    // Words.

    /// "the `read` by process 3 (line 12)", "the `add` of 7 by process 1 (line 9)", the line
    /// of the invocation or completion.
    fn op(&self, o: u32, moment: Moment) -> String {
        let op = &self.history.operations[self.part.ops[o as usize].history_id()];
        let what = match self.access[o as usize] {
            Access::Add(v) => format!(" of {v}"),
            Access::Read(_) => String::new(),
        };
        let line = match moment {
            Moment::Began => op.invoke_line,
            Moment::Completed => op.complete_line.unwrap_or(op.invoke_line),
        };
        format!(
            "the `{}`{what} by process {} (line {line})",
            op.f, op.process
        )
    }
}

#[derive(Clone, Copy)]
enum Moment {
    Began,
    Completed,
}

/// Whether the sorted `set` holds `value`.
fn holds<E: Ord>(set: &[E], value: &E) -> bool {
    set.binary_search(value).is_ok()
}

/// Calls `grown` with each element of `larger` missing from `smaller`, in order, walking both
/// sorted sets once; `Err` with an element of `smaller` that `larger` misses, if there is one
/// (after the elements before it).
fn difference<'s, 'l, E: Ord>(
    smaller: &'s [E],
    larger: &'l [E],
    mut grown: impl FnMut(&'l E),
) -> Result<(), &'s E> {
    let mut small: Peekable<_> = smaller.iter().peekable();
    for v in larger {
        if let Some(&s) = small.peek() {
            if s < v {
                return Err(s);
            }
        }
        if small.peek() == Some(&v) {
            small.next();
        } else {
            grown(v);
        }
    }
    match small.next() {
        Some(s) => Err(s),
        None => Ok(()),
    }
}
