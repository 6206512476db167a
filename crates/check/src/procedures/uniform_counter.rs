//! The uniform-adds counter procedure: deciding a `counter` partition whose adds all add the
//! same positive amount (the runner's `add 1`), in O(n log n), where the generic search is
//! exponential in the number of concurrent adds.
//!
//! It applies to a partition of a counter model (see [`Model::counter_access`]) whose adds all
//! add one amount `a > 0`. Adds of different amounts, of zero or of negative amounts are left
//! to the generic search, with the reason: the count then no longer says how many adds came
//! before a read.
//!
//! # Why it is exact
//!
//! With one amount, a read of `v` says exactly how many adds precede it: `k = (v - init) / a`,
//! and a value that is no such count is read in no linearization. Let `N(t)` be how many adds
//! take effect before time `t`; it never decreases and steps by one. The reads of one count
//! `k` fit around the `k`-th and `(k+1)`-th adds exactly when at least `k` adds take effect
//! before the first of them completes (`E_k`), and at most `k` before the last of them begins
//! (`L_k`): each such read then has a moment in its span at which `N` is `k`. Two reads in
//! real-time order going backwards break these bounds on their own, so the problem is: choose
//! when each add takes effect (an ok add within its span, an indeterminate one at any time
//! after it began, or never) with `N(E_k) >= k` and `N(L_k) <= k` for every count read.
//!
//! One sweep of the events in real-time order places every add as late as it can: an ok add
//! when it completes, and, when a read of `k` is the first of its count to complete, as many
//! begun adds as it takes for `N` to reach `k`, earliest deadline first (ok adds by their
//! completion, then indeterminate adds, which have none). An exchange argument shows that no
//! placement keeps `N` lower at any moment while meeting every lower bound and deadline: so
//! when the sweep finds `N(L_k) > k`, or too few adds begun to reach `N(E_k) >= k`, no
//! linearization exists.
//!
//! Every answer is checked before it is given. A "linearizable" answer comes with the
//! linearization, replayed through [`Model::step`] and checked against real time. A "not
//! linearizable" answer comes with operations that alone have no linearization, decided again
//! by this procedure and, when few, by the generic search. If either check fails the procedure
//! declines and the generic search decides.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rustc_hash::FxHashMap;

use photofinish_history::History;

use super::{generic_search_agrees, in_real_time, positions, Conflict, Decision};
use crate::model::{CounterAccess, Model};
use crate::search::budget::Budget;
use crate::search::partition::{PEvent, Partition};

/// Whether the procedure can apply to `model`'s partitions at all.
pub(crate) fn applies<M: Model>(model: &M) -> bool {
    model.counter_value(&model.init()).is_some()
}

/// Decides `part`, or says why the procedure does not apply to it. `budget` bounds the
/// cross-check of a counterexample by the generic search.
pub(crate) fn decide<M: Model>(
    model: &M,
    history: &History,
    part: &Partition<M::Op>,
    budget: &Budget,
) -> Decision {
    let Some(init) = model.counter_value(&model.init()) else {
        return Decision::NotApplicable("the model is not a counter".to_string());
    };
    let counts = match Counts::new(model, history, part, init) {
        Ok(counts) => counts,
        Err(why) => return Decision::NotApplicable(why),
    };
    match counts.decide() {
        Ok(order) if counts.certifies(model, &order) => Decision::Linearizable,
        Ok(_) => Decision::NotApplicable(
            "its linearization failed the replay check (a bug: please report it)".to_string(),
        ),
        Err(conflict) => {
            if counts.confirms(model, &conflict, budget) {
                Decision::NotLinearizable(conflict)
            } else {
                Decision::NotApplicable(
                    "its counterexample failed the cross-check (a bug: please report it)"
                        .to_string(),
                )
            }
        }
    }
}

/// What the count a read returned says.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Seen {
    /// This many adds precede it.
    Adds(u64),
    /// No number of adds makes it.
    Unreachable,
}

/// The partition in counter terms.
struct Counts<'a, M: Model> {
    history: &'a History,
    part: &'a Partition<M::Op>,
    init: i128,
    /// The initial count, as the model describes it.
    init_text: String,
    /// The one amount every add adds (`None` when there are no adds), and as the history
    /// wrote it.
    amount: Option<i128>,
    amount_text: String,
    /// Per operation: `None` for an add, what it saw for a read.
    seen: Vec<Option<Seen>>,
    /// Event positions; `NEVER` for an operation that never returns.
    invoked: Vec<u32>,
    returned: Vec<u32>,
    /// Per count read: the read of it that completed first and the one that began last.
    groups: FxHashMap<u64, (u32, u32)>,
}

/// A moment at which an operation takes effect: just before event `pos`, `sub`-th among those
/// placed there (adds get even numbers from 2, reads odd ones).
type Key = (u32, u64);

impl<'a, M: Model> Counts<'a, M> {
    fn new(
        model: &'a M,
        history: &'a History,
        part: &'a Partition<M::Op>,
        init: i128,
    ) -> Result<Counts<'a, M>, String> {
        let n = part.ops.len();
        let mut amount: Option<i128> = None;
        let mut amount_text = String::new();
        let mut reads = Vec::with_capacity(n);
        for o in &part.ops {
            match model.counter_access(&o.op) {
                Some(CounterAccess::Add(a)) => {
                    if a <= 0 {
                        return Err(format!(
                            "an add of {} is not positive",
                            history.operations[o.history_id()].value
                        ));
                    }
                    if amount.is_some_and(|b| b != a) {
                        return Err("the adds add different amounts".to_string());
                    }
                    if amount.is_none() {
                        let value = &history.operations[o.history_id()].value;
                        amount_text = match value.is_null() {
                            true => "1".to_string(),
                            false => value.to_string(),
                        };
                    }
                    amount = Some(a);
                    reads.push(None);
                }
                Some(CounterAccess::Read(v)) if !o.indeterminate => reads.push(Some(v)),
                Some(CounterAccess::Read(_)) => {
                    return Err("a read's result is not known".to_string())
                }
                None => {
                    return Err(format!(
                        "`{}` is no add or read",
                        history.operations[o.history_id()].f.escape_debug()
                    ))
                }
            }
        }
        let mut seen = Vec::with_capacity(n);
        for v in reads {
            seen.push(v.map(|v| {
                // A count beyond any number of operations stands for "more adds than there
                // are", which the sweep finds too few.
                let Some(diff) = v.checked_sub(init) else {
                    return match v > init {
                        true => Seen::Adds(u64::MAX),
                        false => Seen::Unreachable,
                    };
                };
                match amount {
                    _ if diff == 0 => Seen::Adds(0),
                    Some(a) if diff > 0 && diff % a == 0 => {
                        Seen::Adds(u64::try_from(diff / a).unwrap_or(u64::MAX))
                    }
                    _ => Seen::Unreachable,
                }
            }));
        }
        let (invoked, returned) = positions(part);
        let mut groups: FxHashMap<u64, (u32, u32)> = FxHashMap::default();
        for (o, s) in seen.iter().enumerate() {
            if let Some(Seen::Adds(k)) = *s {
                let o = o as u32;
                let group = groups.entry(k).or_insert((o, o));
                if returned[o as usize] < returned[group.0 as usize] {
                    group.0 = o;
                }
                if invoked[o as usize] > invoked[group.1 as usize] {
                    group.1 = o;
                }
            }
        }
        Ok(Counts {
            history,
            part,
            init,
            init_text: model.describe(&model.init()).to_string(),
            amount,
            amount_text,
            seen,
            invoked,
            returned,
            groups,
        })
    }

    /// Decides the partition: a linearization of every operation that must be placed, or why
    /// there is none.
    fn decide(&self) -> Result<Vec<u32>, Conflict> {
        if let Some(r) = (0..self.seen.len()).find(|&o| self.seen[o] == Some(Seen::Unreachable)) {
            return Err(self.unreachable(r as u32));
        }
        let n = self.part.ops.len();
        // Begun adds not placed, earliest deadline first: (completion, operation).
        let mut pool: BinaryHeap<Reverse<(u32, u32)>> = BinaryHeap::new();
        let mut key: Vec<Option<Key>> = vec![None; n];
        // The adds placed, in the order they take effect.
        let mut adds: Vec<u32> = Vec::new();
        let mut seq: u64 = 0;
        let mut place = |o: u32, pos: u32, key: &mut Vec<Option<Key>>, adds: &mut Vec<u32>| {
            seq += 1;
            key[o as usize] = Some((pos, 2 * seq));
            adds.push(o);
        };
        for (pos, event) in self.part.events.iter().enumerate() {
            let pos = pos as u32;
            match (*event, self.seen[event_op(*event) as usize]) {
                (PEvent::Invoke(o), None) => pool.push(Reverse((self.returned[o as usize], o))),
                (PEvent::Return(o), None) => {
                    if key[o as usize].is_none() {
                        place(o, pos, &mut key, &mut adds);
                    }
                }
                (PEvent::Invoke(r), Some(Seen::Adds(k))) => {
                    if self.groups[&k].1 == r && adds.len() as u64 > k {
                        return Err(self.too_many(r, k, pos));
                    }
                }
                (PEvent::Return(r), Some(Seen::Adds(k))) => {
                    if self.groups[&k].0 == r {
                        while (adds.len() as u64) < k {
                            match pool.pop() {
                                Some(Reverse((_, o))) if key[o as usize].is_some() => {}
                                Some(Reverse((_, o))) => place(o, pos, &mut key, &mut adds),
                                None => return Err(self.too_few(r, k, pos)),
                            }
                        }
                    }
                }
                (_, Some(Seen::Unreachable)) => {}
            }
        }
        // Each read takes effect just after the add that makes its count, or just after it
        // began if that is later: before the next add either way, which the bounds guarantee.
        for (o, s) in self.seen.iter().enumerate() {
            if let Some(Seen::Adds(k)) = *s {
                let start = self.invoked[o] + 1;
                key[o] = Some(match k {
                    0 => (start, 1),
                    k => match key[adds[k as usize - 1] as usize] {
                        Some((p, sub)) if p >= start => (p, sub + 1),
                        _ => (start, 1),
                    },
                });
            }
        }
        let mut placed: Vec<(Key, u32)> = (0..n as u32)
            .filter_map(|o| key[o as usize].map(|k| (k, o)))
            .collect();
        placed.sort_unstable();
        Ok(placed.into_iter().map(|(_, o)| o).collect())
    }

    // ---------------------------------------------------------------------------------------
    // Conflicts.

    /// Read `r` returned a value no number of adds makes.
    fn unreachable(&self, r: u32) -> Conflict {
        let reason = match self.amount {
            Some(_) => format!(
                "{} returned {}, which no number of adds of {} to {} makes",
                self.op(r),
                self.result(r),
                self.amount_text,
                self.init_text
            ),
            None => format!(
                "{} returned {}, but nothing is added to {}",
                self.op(r),
                self.result(r),
                self.init_text
            ),
        };
        self.conflict(r, reason, vec![r], true)
    }

    /// Read `r` saw `k` adds, but fewer had begun by the time it completed (event `pos`).
    fn too_few(&self, r: u32, k: u64, pos: u32) -> Conflict {
        let begun = self.adds_where(|o| self.invoked[o as usize] < pos);
        let reason = format!(
            "{} returned {}, the count after {}, but only {} had begun when it completed",
            self.op(r),
            self.result(r),
            adds(k),
            begun.len()
        );
        let mut witness = begun;
        witness.push(r);
        self.conflict(r, reason, witness, true)
    }

    /// Read `r`, the last of those that saw `k` adds to begin, began (event `pos`) when more
    /// than `k` adds must have taken effect: because more had completed, because an earlier
    /// read saw more, or because of what the reads before it saw and the adds completed since.
    fn too_many(&self, r: u32, k: u64, pos: u32) -> Conflict {
        let done = self.adds_where(|o| self.returned[o as usize] < pos);
        if done.len() as u64 > k {
            let reason = format!(
                "{} returned {}, the count after {}, but {} had completed before it began",
                self.op(r),
                self.result(r),
                adds(k),
                adds(done.len() as u64)
            );
            let mut witness: Vec<u32> = done[done.len() - k as usize - 1..].to_vec();
            witness.push(r);
            return self.conflict(r, reason, witness, true);
        }
        let earlier = self
            .groups
            .iter()
            .filter(|&(&j, &(first, _))| j > k && self.returned[first as usize] < pos)
            .map(|(&j, &(first, _))| (j, first))
            .min_by_key(|&(j, first)| (Reverse(j), first));
        if let Some((j, first)) = earlier {
            let reason = format!(
                "{} returned {}, the count after {}, but {} had returned {}, the count after \
                 {}, before it began",
                self.op(r),
                self.result(r),
                adds(k),
                self.op(first),
                self.result(first),
                adds(j)
            );
            let end = self.returned[first as usize];
            let mut witness = self.adds_where(|o| self.invoked[o as usize] < end);
            witness.truncate(j as usize);
            witness.extend([first, r]);
            return self.conflict(r, reason, witness, true);
        }
        let reason = format!(
            "{} returned {}, the count after {}, but the reads before it and the adds \
             completed since leave more than {} taken effect when it began",
            self.op(r),
            self.result(r),
            adds(k),
            adds(k)
        );
        let mut witness: Vec<u32> = (0..self.seen.len() as u32)
            .filter(|&o| self.invoked[o as usize] < pos)
            .collect();
        witness.push(r);
        self.conflict(r, reason, witness, true)
    }

    /// The adds satisfying `keep`, in order of operation.
    fn adds_where(&self, keep: impl Fn(u32) -> bool) -> Vec<u32> {
        (0..self.seen.len() as u32)
            .filter(|&o| self.seen[o as usize].is_none() && keep(o))
            .collect()
    }

    fn conflict(
        &self,
        stuck: u32,
        reason: String,
        mut witness: Vec<u32>,
        shrink: bool,
    ) -> Conflict {
        witness.sort_unstable();
        witness.dedup();
        Conflict {
            stuck,
            reason,
            prefix: Vec::new(),
            witness,
            state_size: 1,
            shrink,
        }
    }

    // ---------------------------------------------------------------------------------------
    // Certificates.

    /// Whether `order` is a linearization: every operation that completed ok placed once, in
    /// real-time order, each a legal step of the model.
    fn certifies(&self, model: &M, order: &[u32]) -> bool {
        if !in_real_time(self.part, order) {
            return false;
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
        let Ok(counts) = Counts::new(model, self.history, &witness, self.init) else {
            return false;
        };
        counts.decide().is_err() && generic_search_agrees(model, &witness, budget)
    }

    // ---------------------------------------------------------------------------------------
    // Words.

    /// A read's result, as the history wrote it.
    fn result(&self, r: u32) -> String {
        self.history.operations[self.part.ops[r as usize].history_id()]
            .result
            .to_string()
    }

    /// "the `read` by process 3 (line 12)", at its completion line.
    fn op(&self, o: u32) -> String {
        let op = &self.history.operations[self.part.ops[o as usize].history_id()];
        format!(
            "the `{}` by process {} (line {})",
            op.f,
            op.process,
            op.complete_line.unwrap_or(op.invoke_line)
        )
    }
}

/// "1 add", "3 adds".
fn adds(n: u64) -> String {
    match n {
        1 => "1 add".to_string(),
        n => format!("{n} adds"),
    }
}

/// The operation an event is of.
fn event_op(event: PEvent) -> u32 {
    match event {
        PEvent::Invoke(o) | PEvent::Return(o) => o,
    }
}
